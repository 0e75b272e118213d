"""GTIN check digits against python-stdnum, and GS1 variable-measure in-store codes."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import ean

from contract.gtin import (
    BarcodeError,
    VariableLayout,
    gs1_check_digit,
    is_valid_gtin,
    make_variable_code,
    normalize_gtin,
    parse_variable_measure,
)

digits = st.text(alphabet="0123456789", min_size=1, max_size=14)


@given(st.sampled_from([7, 11, 12, 13]).flatmap(
    lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n)))
def test_check_digit_matches_stdnum(payload: str) -> None:
    assert str(gs1_check_digit(payload)) == ean.calc_check_digit(payload)


@given(digits)
def test_validity_matches_stdnum(code: str) -> None:
    assert is_valid_gtin(code) == ean.is_valid(code)


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_upc_a_and_ean13_of_the_same_item_normalise_alike(payload: str) -> None:
    upc = payload + str(gs1_check_digit(payload))
    ean13 = "0" + upc
    assert normalize_gtin(upc) == normalize_gtin(ean13) == "00" + upc


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("8710398500012", "check digit 2, expected"),
        ("87103985", "check digit"),
        ("12345", "has 5 digits"),
        ("ABC123", "unreadable"),
        ("", "empty"),
        ("８７１０３９８５００", "unreadable"),  # full-width digits from a misconfigured scanner
    ],
)
def test_bad_codes_name_the_problem(code: str, reason: str) -> None:
    with pytest.raises(BarcodeError, match=reason):
        normalize_gtin(code)


def test_valid_examples() -> None:
    assert normalize_gtin("8710398500014") == "08710398500014"  # EAN-13
    assert normalize_gtin("96385074") == "00000096385074"  # EAN-8
    assert normalize_gtin("036000291452") == "00036000291452"  # UPC-A
    assert normalize_gtin("10036000291459") == "10036000291459"  # GTIN-14 (case)


def test_variable_measure_price_and_weight() -> None:
    price = VariableLayout("21", "price")
    weight = VariableLayout("22", "weight", item_digits=5, value_digits=5)
    code = make_variable_code(price, 123, 1495)
    assert ean.is_valid(code) and code.startswith("2100123")
    found = parse_variable_measure(normalize_gtin(code), (price, weight))
    assert (found.item, found.kind, found.value) == ("123", "price", 1495)
    wcode = make_variable_code(weight, 7, 1250)
    found = parse_variable_measure(normalize_gtin(wcode), (price, weight))
    assert (found.item, found.kind, found.value) == ("7", "weight", 1250)
    assert parse_variable_measure(normalize_gtin("8710398500014"), (price, weight)) is None


def test_variable_layout_is_configurable() -> None:
    layout = VariableLayout("23", "price", item_digits=4, value_digits=6)
    code = make_variable_code(layout, 42, 123456)
    found = parse_variable_measure(normalize_gtin(code), (layout,))
    assert (found.item, found.value) == ("42", 123456)
