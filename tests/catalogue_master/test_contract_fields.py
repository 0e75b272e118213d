"""The product master's fields in the catalogue and prices messages: bounds and checks."""

from __future__ import annotations

import datetime as dt

import pytest

from contract.downstream import (
    MAX_AGE_LIMIT,
    Deposit,
    DownstreamError,
    parse_catalogue,
    parse_prices,
)

BEER = {"gtin": "8712345678906", "name": "Pils 33cl", "price_cents": 129, "vat_code": "high",
        "barcodes": ["87123456", "08712345678913"], "age_limit": 18, "unit": "piece",
        "deposit": {"code": "statiegeld-015", "amount_cents": 15, "vat_code": "exempt"}}


def full(*products, **extra) -> dict:
    return {"version": 1, "mode": "full", "products": list(products), **extra}


def test_master_fields_are_read_and_normalised():
    cat = parse_catalogue(full(BEER, scheduled=[
        {"code": "8712345678906", "price_cents": 139, "valid_from": "2026-12-07T07:00:00+01:00"}]))
    row = cat.products[0]
    assert row.barcodes == ("00000087123456", "08712345678913")
    assert (row.age_limit, row.unit, row.sold_by_weight) == (18, "piece", False)
    assert row.deposit == Deposit("statiegeld-015", 15, "exempt")
    (entry,) = cat.scheduled
    assert entry.code == entry.gtin == "08712345678906"
    assert entry.valid_from == dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC)


def test_old_messages_get_the_defaults():
    row = parse_catalogue(full({"plu": "42", "name": "Brood", "price_cents": 289,
                                "vat_code": "low", "sold_by_weight": True})).products[0]
    assert (row.barcodes, row.unit, row.age_limit, row.deposit) == ((), "kg", 0, None)


@pytest.mark.parametrize(("change", "reason"), [
    ({"barcodes": ["8712345678900"]}, "expected 6"),
    ({"barcodes": ["8712345678906"]}, "listed twice"),
    ({"barcodes": "87123456"}, "not a list"),
    ({"age_limit": MAX_AGE_LIMIT + 1}, "age_limit"),
    ({"age_limit": "18"}, "age_limit"),
    ({"unit": "litre"}, "unit"),
    ({"unit": "kg", "sold_by_weight": False}, "disagrees"),
    ({"deposit": {"code": "statiegeld-015", "amount_cents": 0, "vat_code": "exempt"}},
     "amount_cents"),
    ({"deposit": {"code": "Statiegeld 15", "amount_cents": 15, "vat_code": "exempt"}}, "code"),
    ({"deposit": {"code": "statiegeld-015", "amount_cents": 15, "vat_code": "none"}}, "vat_code"),
    ({"deposit": {"code": "x", "amount_cents": 15, "vat_code": "zero", "extra": 1}}, "unknown"),
    ({"deposit": 15}, "not an object"),
])
def test_bad_master_fields_are_refused_by_name(change, reason):
    with pytest.raises(DownstreamError) as err:
        parse_catalogue(full({**BEER, **change}))
    assert reason in str(err.value)
    assert err.value.where.startswith("catalogue v1 products[0]")


def test_a_barcode_of_two_products_is_refused():
    other = {"gtin": "4006381333931", "barcodes": ["87123456"], "name": "Pils 6-pack",
             "price_cents": 699, "vat_code": "high"}
    with pytest.raises(DownstreamError, match="listed twice"):
        parse_catalogue(full(BEER, other))


@pytest.mark.parametrize(("entry", "reason"), [
    ({"code": "8712345678906", "price_cents": 1, "valid_from": "2026-12-07T07:00:00"},
     "no UTC offset"),
    ({"code": "8712345678906", "price_cents": 1, "valid_from": "next monday"}, "ISO 8601"),
    ({"code": "8712345678906", "price_cents": -1, "valid_from": "2026-12-07T07:00:00Z"},
     "price_cents"),
    ({"code": "8712345678900", "price_cents": 1, "valid_from": "2026-12-07T07:00:00Z"},
     "check digit"),
    ({"code": "4006381333931", "price_cents": 1, "valid_from": "2026-12-07T07:00:00Z"},
     "does not list"),
    ({"code": "8712345678906", "price": 1, "valid_from": "2026-12-07T07:00:00Z"}, "unknown"),
])
def test_bad_scheduled_prices_are_refused(entry, reason):
    with pytest.raises(DownstreamError, match=reason):
        parse_catalogue(full(BEER, scheduled=[entry]))


def test_one_price_per_product_and_moment():
    twice = [{"code": "8712345678906", "price_cents": p, "valid_from": t}
             for p, t in ((1, "2026-12-07T07:00:00+01:00"), (2, "2026-12-07T06:00:00Z"))]
    with pytest.raises(DownstreamError, match="two prices from"):
        parse_catalogue(full(BEER, scheduled=twice))


def test_a_prices_message_may_carry_only_scheduled_prices():
    message = parse_prices({"version": 3, "base": 2, "prices": [], "scheduled": [
        {"code": "0042", "price_cents": 299, "valid_from": "2026-12-07T07:00:00+01:00"}]})
    assert message.scheduled[0].plu == "42" and message.prices == ()
    with pytest.raises(DownstreamError, match="empty"):
        parse_prices({"version": 3, "base": 2, "prices": []})
