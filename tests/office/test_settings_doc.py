"""docs/operations/head-office.md describes the office settings file with every key: the
example loads as it is, and every [alerts] key and [accounts] role the code knows is in it."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from headoffice.alerts.settings import AlertSettings, load_settings
from headoffice.exports.accounts import DEFAULTS

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations" / "head-office.md"


def _section() -> str:
    text = DOC.read_text()
    start = text.index("## The office settings file")
    return text[start:text.index("\n## ", start + 1)]


def test_the_documented_example_loads(tmp_path):
    example = re.search(r"```toml\n(.*?)```", _section(), re.S)
    assert example
    path = tmp_path / "office.toml"
    path.write_text(example[1])
    settings = load_settings(path)
    assert settings.company["vat_number"] == "NL812345678B01"
    assert settings.alerts.mail_to == ("eigenaar@winkel.example.nl",)
    assert settings.secret_key


def test_every_key_is_described():
    section = _section()
    for key in (f.name for f in dataclasses.fields(AlertSettings)):
        assert f"| `{key}` |" in section, key
    for role in DEFAULTS:
        assert f"| `{role}` |" in section, role
    for key in ("name", "vat_number", "commerce_nr", "country", "secret_key"):
        assert f"| `{key}` |" in section, key
    for table in ("[company]", "[accounts]", "[alerts]", "[web]"):
        assert f"### `{table}`" in section, table
