"""The terminal config loader, fuzzed: any text or file gives a Config or a ConfigError that
names the file and a key, never another exception; a Config it gives holds only values a
till can use (bounded integers, strings without control characters)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from contract.config import MAX_INT, MAX_LIST, MAX_STRING, Config, ConfigError, load_config, parse_config
from tests.fuzz.budget import DEEP, EDGE_INTS, TEXT, budget, deep

SOURCE = "/etc/kassa/kassa.toml"
SECTIONS = {f.name: f.type for f in dataclasses.fields(Config) if f.name not in ("source", "var_dir")}
FIELDS = {name: [f.name for f in dataclasses.fields(getattr(Config(), name))] for name in SECTIONS}
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _toml_value(value: Any) -> str:
    """A Python value written as TOML (strings as JSON strings, which TOML reads the same)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        text = repr(value)
        return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(text, text)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)


SCALAR = (st.booleans() | st.integers() | st.sampled_from(EDGE_INTS)
          | st.floats(allow_nan=True, allow_infinity=True) | TEXT | st.dates()
          | st.sampled_from(["sim", "gpio", "usb", "nl", "en", "KEY_ENTER", "21", "price",
                             "catalogue", "s" * 10_000, "NL812345678B01", "12345678"]))
VALUE = st.recursive(SCALAR, lambda children: st.lists(children, max_size=4)
                     | st.dictionaries(st.sampled_from(["code", "percent", "valid_from", "prefix",
                                                        "kind"]) | TEXT, children, max_size=3),
                     max_leaves=8)


@st.composite
def toml_texts(draw: st.DrawFn) -> str:
    """A config of known sections and keys (sometimes not) with values of any type."""
    lines = []
    for section in draw(st.lists(st.sampled_from(sorted(SECTIONS)) | TEXT, max_size=4,
                                 unique=True)):
        lines.append(f"[{json.dumps(section)}]")
        keys = FIELDS.get(section, [])
        for key in draw(st.lists(st.sampled_from(keys) if keys else TEXT, max_size=5,
                                 unique=True)):
            lines.append(f"{json.dumps(key)} = {_toml_value(draw(VALUE))}")
    return "\n".join(lines) + "\n"


def _parse(text: str, shallow: bool = False) -> None:
    try:
        config = parse_config(text, SOURCE)
    except ConfigError as exc:
        assert exc.file == SOURCE and exc.key and exc.reason
        assert len(str(exc)) < 1000  # a huge value is not echoed back
        if shallow:  # the shape check refuses only what is really deep
            assert "nested more than" not in exc.reason and "dotted key" not in exc.reason
        return
    assert isinstance(config, Config)
    _check_values(dataclasses.asdict(config))


def _check_values(value: Any) -> None:
    if isinstance(value, dict):
        for child in value.values():
            _check_values(child)
    elif isinstance(value, (list, tuple)):
        assert len(value) <= MAX_LIST
        for child in value:
            _check_values(child)
    elif isinstance(value, bool):
        pass
    elif isinstance(value, int):
        assert abs(value) <= MAX_INT
    elif isinstance(value, str):
        assert len(value) <= MAX_STRING and not CONTROL.search(value)


@budget(150)
@given(text=toml_texts())
@example(text='[cash]\ndefault_float_cents = 1e30\n')
@example(text=f'[terminal]\nstore = "{"s" * 10_000}"\n')
@example(text='[terminal]\nterminal = "catalogue"\n')
def test_generated_configs(text: str) -> None:
    _parse(text, shallow=True)


@budget(150)
@given(text=st.text(max_size=300) | DEEP | st.sampled_from([
    "a" + ".a" * 20_000 + " = 1", "[" + "a." * 20_000 + "b]", "x = " + "{a = " * 5000,
    "x = '''" + "[" * 5000, '[terminal]\nname = """' + "{" * 3000 + '"""\n']))
@example(text="cash.default_float_cents = " + "[" * 100_000 + "]" * 100_000)
@example(text=deep(100_000, 0))
def test_any_text(text: str) -> None:
    _parse(text)


@pytest.mark.parametrize("kind", ["directory", "latin-1", "utf-16", "binary", "empty"])
def test_any_file(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "kassa.toml"
    content = {"latin-1": "[terminal]\nname = 'Caf\u00e9'\n".encode("latin-1"),
               "utf-16": "[ui]\nlanguage = 'en'\n".encode("utf-16"),
               "binary": bytes(range(256)) * 4, "empty": b""}
    if kind == "directory":
        path.mkdir()
    else:
        path.write_bytes(content[kind])
    if kind == "empty":
        assert load_config(path) == Config(source=str(path), var_dir=str(tmp_path / "var"))
        return
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.file == str(path) and info.value.key == "(file)"
