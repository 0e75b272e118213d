"""contract/numbers.py writes numbers and euro amounts exactly as Babel does for the till's
two locales (value by value, over the ranges the till prints), and hands any other locale
to Babel; a till that sells and prints a receipt does not load Babel's locale data."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from babel.numbers import format_currency, format_decimal

from contract import numbers
from contract.money import format_money

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ("nl_NL", "en_IE")
PATTERNS = ("#,##0", "#,##0.00", "#,##0.000", "#,##0.##")


def values() -> list[Decimal]:
    rng = random.Random(7)
    edge = [0, 1, -1, 5, -5, 99, 100, 999, 1000, -1000, 99999, 100000, 123456789, -123456789,
            10**11, -(10**11)]
    spread = [rng.randint(-10**12, 10**12) for _ in range(400)]
    return [Decimal(v) / scale for v in edge + spread for scale in (1, 100, 1000)] + [
        Decimal("0.001"), Decimal("-0.001"), Decimal("0.005"), Decimal("0.015"),
        Decimal("-0.005"), Decimal("2.675"), Decimal("1.0005")]


@pytest.mark.parametrize("locale", LOCALES)
def test_euro_amounts_as_babel_writes_them(locale: str) -> None:
    for value in values():
        assert numbers.format_euro(value, locale) == format_currency(value, "EUR", locale=locale), value
    assert format_money(123456, "nl_NL") == "€\xa01.234,56"
    assert format_money(-5, "en_IE") == "-€0.05"


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("pattern", PATTERNS)
def test_numbers_as_babel_writes_them(locale: str, pattern: str) -> None:
    for value in values():
        assert numbers.format_decimal(value, pattern, locale) == \
            format_decimal(value, format=pattern, locale=locale), (value, pattern)


def test_other_locales_and_patterns_go_to_babel() -> None:
    value = Decimal("-1234.5")
    assert numbers.format_euro(value, "de_CH") == format_currency(value, "EUR", locale="de_CH")
    assert numbers.format_decimal(value, "#,##0.0", "fr_FR") == \
        format_decimal(value, format="#,##0.0", locale="fr_FR")
    assert numbers.format_decimal(value, "0.00", "nl_NL") == \
        format_decimal(value, format="0.00", locale="nl_NL")


CHILD = """
import sys
from pathlib import Path
from cli.assemble import build_till
from firmware.receipt import build_document, render_text
from firmware.sim import ensure_demo_data
from tests.fixtures_till import make_config
till = build_till(make_config(Path(sys.argv[1])))
ensure_demo_data(till, products=5)
till.login("1111")
till.add_plu("1")
entry = till.pay_cash(123456).entry
text = render_text(build_document(entry.body, entry.hash, till.config.terminal, 42, "nl"))
assert "€ 1.234,56" in text, text
print("loaded:", sorted(m for m in sys.modules if m.split(".")[0] == "babel"))
"""


def test_a_till_sells_and_prints_without_babel(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "loaded: []" in proc.stdout, proc.stdout
