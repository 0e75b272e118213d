"""Numbers and euro amounts as the till's two locales write them, without Babel's locale data.

Babel loads a locale's whole CLDR data (time zones, language and territory names...) to
format one number: ~7 MB resident in the till for nl_NL. The till needs only the grouping and
decimal signs and the euro pattern of nl_NL and en_IE, kept here (CLDR's, checked value by
value against Babel in tests/core/test_numbers.py); every other locale still goes to Babel.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal

# locale: (group sign, decimal sign, euro before the number, sign before the euro)
LOCALES = {"nl_NL": (".", ",", "€\xa0", False), "en_IE": (",", ".", "€", True)}
_PATTERN = re.compile(r"#,##0(?:\.(0*)(#*))?")


def _digits(value: Decimal, least: int, most: int, group: str, point: str) -> str:
    """abs(value) with grouped thousands and `least`..`most` decimals (half-even, as Babel)."""
    quantized = abs(value).quantize(Decimal(1).scaleb(-most), rounding=ROUND_HALF_EVEN)
    whole, _dot, fraction = f"{quantized:f}".partition(".")
    fraction = fraction.rstrip("0").ljust(least, "0")
    grouped = f"{int(whole):,}".replace(",", group)
    return grouped + (point + fraction if fraction else "")


def format_decimal(value: int | Decimal, pattern: str, locale: str) -> str:
    """Babel's format_decimal for the patterns the receipt uses (#,##0 with fixed or optional
    decimals: `#,##0.00`, `#,##0.##`)."""
    match = _PATTERN.fullmatch(pattern)
    if locale not in LOCALES or match is None:
        from babel.numbers import format_decimal as babel_format_decimal

        return babel_format_decimal(value, format=pattern, locale=locale)
    least = len(match.group(1) or "")
    most = least + len(match.group(2) or "")
    group, point, _euro, _sign_first = LOCALES[locale]
    value = Decimal(value)
    text = _digits(value, least, most, group, point)
    return "-" + text if value < 0 else text


def format_euro(value: Decimal, locale: str) -> str:
    """Babel's format_currency(value, "EUR", locale)."""
    if locale not in LOCALES:
        from babel.numbers import format_currency

        return format_currency(value, "EUR", locale=locale)
    group, point, euro, sign_first = LOCALES[locale]
    text = _digits(value, 2, 2, group, point)
    if value < 0:
        return "-" + euro + text if sign_first else euro + "-" + text
    return euro + text
