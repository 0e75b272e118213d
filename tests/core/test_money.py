"""Money: VAT extraction per rate, Dutch cash rounding, formatting and parsing."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contract.money import (
    div_round_half_up,
    format_money,
    parse_money,
    percent_to_bp,
    round_to_5_cents,
    vat_from_gross,
)


@pytest.mark.parametrize(
    ("gross", "rate_bp", "vat"),
    [
        (121, 2100, 21),  # 1.21 incl. 21% -> 0.21
        (1210, 2100, 210),
        (100, 2100, 17),  # 17.355 -> 17
        (109, 900, 9),
        (100, 900, 8),  # 8.257 -> 8
        (1000, 900, 83),  # 82.568 -> 83
        (50, 2100, 9),  # 8.677 -> 9
        (5, 2100, 1),  # 0.867 -> 1
        (0, 2100, 0),
        (999, 0, 0),
        (-1210, 2100, -210),  # refunds mirror sales
        (1050, 550, 55),  # 5.5% (a rate with decimals) 54.739 -> 55
    ],
)
def test_vat_from_gross_table(gross: int, rate_bp: int, vat: int) -> None:
    assert vat_from_gross(gross, rate_bp) == vat


def test_half_up_at_exact_half() -> None:
    assert div_round_half_up(5, 10) == 1
    assert div_round_half_up(-5, 10) == -1
    assert div_round_half_up(4, 10) == 0
    # 242 incl. 21%: vat = 242*21/121 = 42.0 exactly; 363 -> 63.0
    assert vat_from_gross(242, 2100) == 42


@pytest.mark.parametrize(
    ("ending", "rounded_ending"),
    [(0, 0), (1, 0), (2, 0), (3, 5), (4, 5), (5, 5), (6, 5), (7, 5), (8, 10), (9, 10)],
)
def test_dutch_cash_rounding_endings(ending: int, rounded_ending: int) -> None:
    result = round_to_5_cents(1230 + ending)
    assert result.rounded == 1230 + rounded_ending
    assert result.unrounded == 1230 + ending
    assert result.delta == rounded_ending - ending


@given(st.integers(min_value=-10**9, max_value=10**9))
def test_cash_rounding_properties(cents: int) -> None:
    result = round_to_5_cents(cents)
    assert result.rounded % 5 == 0
    assert abs(result.delta) <= 2
    assert round_to_5_cents(-cents).rounded == -result.rounded


@given(st.integers(min_value=0, max_value=10**9), st.sampled_from([0, 900, 2100, 550, 600]))
def test_vat_never_exceeds_gross_and_net_adds_up(gross: int, rate_bp: int) -> None:
    vat = vat_from_gross(gross, rate_bp)
    assert 0 <= vat <= gross
    exact = gross * rate_bp / (10000 + rate_bp)
    assert abs(vat - exact) <= 0.5


def test_dutch_and_english_formatting() -> None:
    assert format_money(123456) == "€\xa01.234,56"
    assert format_money(5) == "€\xa00,05"
    assert format_money(123456, "en") == "€1,234.56"


@pytest.mark.parametrize(
    ("text", "cents"),
    [("12,50", 1250), ("12.50", 1250), ("€ 1.234,56", 123456), ("20", 2000), ("0,05", 5)],
)
def test_parse_money(text: str, cents: int) -> None:
    assert parse_money(text) == cents


@pytest.mark.parametrize("text", ["", "abc", "1,234", "12.345"])
def test_parse_money_rejects_inexact_or_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        parse_money(text)


def test_percent_to_bp() -> None:
    assert percent_to_bp("21") == 2100
    assert percent_to_bp("5.5") == 550
    with pytest.raises(ValueError):
        percent_to_bp("5.555")
