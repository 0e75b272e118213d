"""The UI's parts that need no window: catalogs, status bar logic, the reject beep."""

from __future__ import annotations

import gettext
import wave
from pathlib import Path

from babel.messages.pofile import read_po

from ui import i18n
from ui.extract import messages
from ui.sound import RATE, write_beep


def catalog(language: str):  # noqa: ANN201
    with (i18n.SOURCE_DIR / language / "LC_MESSAGES" / "kassa.po").open("rb") as source:
        return read_po(source, locale=language)


def test_every_ui_text_has_a_dutch_translation() -> None:
    nl = catalog("nl")
    missing = [m for m in sorted(messages()) if not (nl.get(m) and nl.get(m).string)]
    assert missing == []


def test_english_catalog_knows_every_text() -> None:
    en = catalog("en")
    assert [m for m in sorted(messages()) if en.get(m) is None] == []


def test_catalogs_compile_with_babel_and_load_with_gettext(tmp_path: Path) -> None:
    target = i18n.compile_catalogs(tmp_path)
    nl = gettext.translation("kassa", str(target), ["nl"])
    en = gettext.translation("kassa", str(target), ["en"])
    assert nl.gettext("Pay") == "Afrekenen"
    assert en.gettext("Pay") == "Pay"


def test_money_follows_the_language() -> None:
    i18n.set_language("en")
    try:
        assert i18n.money(123456) == "€1,234.56"
    finally:
        i18n.set_language("nl")
    assert i18n.money(123456) == "€\xa01.234,56"


def test_unknown_language_is_refused_by_name() -> None:
    try:
        i18n.set_language("fr")
    except ValueError as exc:
        assert "fr" in str(exc)
    else:
        raise AssertionError("fr was accepted")


def test_reject_beep_is_a_short_valid_wav(tmp_path: Path) -> None:
    path = write_beep(tmp_path / "beep.wav", ms=250)
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
        assert wav.getnframes() == RATE // 4
        frames = wav.readframes(wav.getnframes())
    assert any(frames) and len(set(frames)) > 2


def test_the_ui_talks_only_to_the_till() -> None:
    """No SQL, no database model, no driver and no uplink in ui/: the UI reads the till's
    runtime and service (firmware/runtime.py, firmware/status.py) and nothing else."""
    import re

    forbidden = re.compile(r"^\s*(from|import)\s+(peewee|sqlite3|firmware\.models|firmware\.uplink"
                           r"|firmware\.stock|drivers|evdev|gpiozero|escpos|paho)\b"
                           r"|execute_sql|\bSELECT\b|\bINSERT\b|\bUPDATE\s+\w+\s+SET\b")
    ui_dir = Path(i18n.__file__).parent
    found = [f"{path.name}:{n}: {line.strip()}"
             for path in sorted([*ui_dir.rglob("*.py"), *ui_dir.rglob("*.kv")])
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if forbidden.search(line)]
    assert found == []
