"""Amounts and numbers through a NumberLocale (contract/number_locale.py) are Babel's texts on
its full locales, character for character; the kept entries are read back without Babel's
locale or global data; a till that sells and prints loads neither once they are kept."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import babel.core
import babel.localedata
import babel.numbers
import pytest
from babel.numbers import format_currency, format_decimal

from contract import number_locale as nl
from contract.money import format_money
from contract.receipt import Layout

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ("nl_NL", "en_IE", "nl", "en", "nl_BE", "fr_BE", "de_DE")
RECEIPT_PATTERNS = ("#,##0.00", "#,##0", "#,##0.000", "#,##0.##")


def amounts() -> list[int]:
    rng = random.Random(14)
    edges = [0, 1, -1, 4, 5, 99, 100, 101, 999, 1000, 99_999, 100_000, 123_456, -123_456,
             10**9 + 7, -(10**11) - 1]
    return edges + [rng.randint(-10**9, 10**9) for _ in range(500)]


@pytest.fixture()
def kept_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh cache directory; the module's memo emptied before and after."""
    monkeypatch.setenv(nl.CACHE_DIR_ENV, str(tmp_path))
    nl.number_locale.cache_clear()
    nl.currency_pattern.cache_clear()
    yield tmp_path
    nl.number_locale.cache_clear()
    nl.currency_pattern.cache_clear()


@pytest.mark.parametrize("locale", LOCALES)
def test_amounts_are_babels_format_currency_on_its_full_locale(kept_in: Path, locale: str) -> None:
    for cents in amounts():
        assert format_money(cents, locale) == \
            format_currency(Decimal(cents) / 100, "EUR", locale=locale), cents


@pytest.mark.parametrize("locale", LOCALES)
def test_receipt_numbers_are_babels_format_decimal_on_its_full_locale(kept_in: Path,
                                                                      locale: str) -> None:
    kept = nl.number_locale(locale)
    for cents in amounts():
        for pattern in RECEIPT_PATTERNS:
            assert format_decimal(Decimal(cents) / 1000, format=pattern, locale=kept) == \
                format_decimal(Decimal(cents) / 1000, format=pattern, locale=locale)


def refuse_babel_data(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: object) -> None:
        raise AssertionError(f"Babel's data was loaded: {args}")

    monkeypatch.setattr(babel.localedata, "load", refused)
    monkeypatch.setattr(babel.core, "get_global", refused)
    monkeypatch.setattr(babel.numbers, "get_global", refused)


def test_kept_entries_format_without_babels_locale_or_global_data(
        kept_in: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = {loc: format_money(123456, loc) for loc in ("nl_NL", "en_IE")}
    assert list(kept_in.iterdir()), "the entries were not kept"
    nl.number_locale.cache_clear()
    nl.currency_pattern.cache_clear()
    refuse_babel_data(monkeypatch)
    assert {loc: format_money(123456, loc) for loc in ("nl_NL", "en_IE")} == expected
    assert expected["nl_NL"] == "€\xa01.234,56"
    layout = Layout(42, "nl")
    assert (layout.kilos(1234), layout.percent(550), layout.number(1000), layout.amount(123456)) == \
        ("1,234", "5,5%", "1.000", "1.234,56")


def test_a_damaged_cache_file_is_copied_again(kept_in: Path) -> None:
    format_money(1, "nl_NL")
    (kept,) = kept_in.iterdir()
    kept.write_text('{"nl_NL": {"parts": 3}}', encoding="utf-8")
    nl.number_locale.cache_clear()
    nl.currency_pattern.cache_clear()
    assert format_money(123456, "nl_NL") == "€\xa01.234,56"
    assert "number_symbols" in kept.read_text(encoding="utf-8")


def test_nowhere_to_keep_them_still_formats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setenv(nl.CACHE_DIR_ENV, str(blocked / "babel"))
    nl.number_locale.cache_clear()
    nl.currency_pattern.cache_clear()
    try:
        assert format_money(-5, "en_IE") == format_currency(Decimal("-0.05"), "EUR", locale="en_IE")
    finally:
        nl.number_locale.cache_clear()
        nl.currency_pattern.cache_clear()


CHILD = """
import sys
from pathlib import Path
import babel.core, babel.localedata, babel.numbers
from cli.assemble import build_till
from firmware.sim import ensure_demo_data
from tests.fixtures_till import make_config
loaded = []
def recorder(real):
    def load(*args, **kwargs):
        loaded.append(args[0] if args else kwargs)
        return real(*args, **kwargs)
    return load
babel.localedata.load = recorder(babel.localedata.load)
babel.core.get_global = babel.numbers.get_global = recorder(babel.core.get_global)
tmp = Path(sys.argv[1])
tmp.mkdir()
till = build_till(make_config(tmp))
ensure_demo_data(till, products=5)
till.login("1111")
till.add_plu("1")
till.pay_cash(10000)
if till.print_queue is not None:
    till.print_queue.wait_idle(30)
from contract.receipt import Layout
layout = Layout(42, "nl")
assert (layout.money(123456), layout.kilos(1234)) == ("€ 1.234,56", "1,234")
print("loaded:", loaded)
"""


def test_a_till_that_sells_and_prints_loads_no_babel_data_once_kept(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), nl.CACHE_DIR_ENV: str(tmp_path / "babel")}
    runs = [subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / name)], cwd=ROOT,
                           capture_output=True, text=True, timeout=120, env=env)
            for name in ("first", "second")]
    for proc in runs:
        assert proc.returncode == 0, proc.stderr[-3000:]
    assert "loaded: []" not in runs[0].stdout  # the first start copies the entries from Babel
    assert "loaded: []" in runs[1].stdout, runs[1].stdout
