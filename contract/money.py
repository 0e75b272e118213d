"""Money in integer cents: VAT extraction, 5-cent cash rounding and Dutch formatting.

Floats never touch an amount; rates are carried in basis points (21% = 2100) so that every
computation is exact integer arithmetic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_currency, format_decimal

from contract.number_locale import currency_pattern, number_locale

CURRENCY = "EUR"
DEFAULT_LOCALE = "nl_NL"


def div_round_half_up(numerator: int, denominator: int) -> int:
    """Integer division rounding halves away from zero (commercial rounding)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    q, r = divmod(abs(numerator), denominator)
    if 2 * r >= denominator:
        q += 1
    return sign * q


def percent_to_bp(percent: int | str | Decimal) -> int:
    """'21' -> 2100, '5.5' -> 550; refuses more than two decimals."""
    value = Decimal(str(percent)) * 100
    if value != value.to_integral_value():
        raise ValueError(f"rate {percent} has more than two decimals")
    return int(value)


def vat_from_gross(gross_cents: int, rate_bp: int) -> int:
    """VAT contained in a VAT-inclusive amount: round_half_up(gross * rate / (100 + rate))."""
    return div_round_half_up(gross_cents * rate_bp, 10000 + rate_bp)


def percent_of(amount_cents: int, percent_bp: int) -> int:
    """A percentage (in basis points) of an amount, rounded half up."""
    return div_round_half_up(amount_cents * percent_bp, 10000)


@dataclass(frozen=True)
class CashRounding:
    """The unrounded amount, the rounded amount and the delta (rounded - unrounded)."""

    unrounded: int
    rounded: int

    @property
    def delta(self) -> int:
        return self.rounded - self.unrounded


def round_to_5_cents(cents: int) -> CashRounding:
    """Dutch/Belgian cash rounding: endings 1,2 -> 0; 3,4,6,7 -> 5; 8,9 -> 10."""
    sign = -1 if cents < 0 else 1
    magnitude = abs(cents)
    rounded = div_round_half_up(magnitude, 5) * 5
    # div_round_half_up(.., 5) maps remainders 0,1,2 down and 3,4 up, which is the rule.
    return CashRounding(unrounded=cents, rounded=sign * rounded)


def format_money(cents: int, locale: str = DEFAULT_LOCALE) -> str:
    """`€ 1.234,56` for nl_NL, `€1,234.56` for en; Babel knows each locale's pattern.

    Babel formats with the locale's currency pattern and its symbol, through a NumberLocale
    (contract/number_locale.py: only Babel's number data in memory). The decimals are the
    pattern's: the euro's two, as format_currency gives them (tests/core/test_number_locale.py
    compares the two on Babel's full locales)."""
    pattern = currency_pattern(locale, CURRENCY)
    if pattern is None:
        return format_currency(Decimal(cents) / 100, CURRENCY, locale=locale)
    return format_decimal(Decimal(cents) / 100, format=pattern, locale=number_locale(locale))


_PLAIN_AMOUNT = re.compile(r"(\d{1,12})(?:[.,](\d\d))?")


def parse_money(text: str) -> int:
    """Cashier input such as '12,50', '12.50', '€ 1.234,56' or '20' -> cents; exact or error."""
    plain = _PLAIN_AMOUNT.fullmatch(text)
    if plain:  # the common case (CSV imports, keypad): no Decimal needed
        return int(plain[1]) * 100 + int(plain[2] or 0)
    cleaned = text.replace("€", "").replace(" ", "").replace("\u00a0", "").strip()
    if not cleaned:
        raise ValueError("empty amount")
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        value = Decimal(cleaned) * 100
    except ArithmeticError as exc:
        raise ValueError(f"not an amount: {text!r}") from exc
    if value != value.to_integral_value():
        raise ValueError(f"amount {text!r} has more than two decimals")
    return int(value)
