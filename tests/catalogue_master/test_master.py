"""The product master at head office, on SQLite and PostgreSQL: CSV import with row errors,
GTIN check digits, scheduled prices per store, cost history, the audit trail, promotions."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from headoffice.catalogue import audit
from headoffice.catalogue.errors import BadField, CodeTaken, UnknownProduct
from headoffice.catalogue.export import export_csv
from headoffice.catalogue.importcsv import import_csv
from headoffice.catalogue.models import ALL_STORES, MasterBarcode, MasterProduct, PriceEntry
from headoffice.catalogue.pricing import price_at, schedule, timelines
from headoffice.catalogue.products import (
    cost_at,
    ensure_dutch_deposits,
    find,
    set_cost,
    set_price,
    set_store_active,
)
from headoffice.catalogue.promotions import for_store, save_promotion, set_active
from headoffice.catalogue.publish import items
from headoffice.catalogue.times import SHOP_ZONE, parse_moment

HEADER = "gtin;barcodes;plu;name;category;vat_code;unit;age_limit;deposit;active;price;cost\n"
GOOD = [
    "8712345678906;87123456 036000291452;;Pils 33cl;Bier;high;piece;18;statiegeld-015;ja;1,29;0,60\n",
    ";;42;Brood wit;Brood;low;piece;;;;2,89;1,10\n",
    "4006381333931;;;Cola 1,5l;Fris;low;;;statiegeld-025;;2,19;\n",
    ";;7;Appels;Fruit;low;kg;;;;3,49;\n",
]
NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)


def load(lines, partial=False, actor="anna"):
    progress: list[tuple[int, int]] = []
    report = import_csv([HEADER, *lines], actor, partial=partial,
                        progress=lambda d, t: progress.append((d, t)), valid_from=NOW)
    assert progress[-1] == (report.rows, report.rows)
    return report


@pytest.fixture
def master(office_db_url):
    ensure_dutch_deposits("setup")
    report = load(GOOD)
    assert (report.inserted, report.errors) == (4, [])
    return office_db_url


def test_import_names_every_bad_row_and_stores_nothing_without_partial(office_db_url):
    ensure_dutch_deposits()
    bad = [
        "8712345678900;;;Bad check digit;;high;;;;;1,00;\n",  # check digit 6 expected
        ";;43;No VAT;;hoog;;;;;1,00;\n",
        ";;44;;Brood;low;;;;;1,00;\n",  # no name
        "4006381333931;;;Cola twice;Fris;low;;;;;2,19;\n",  # same GTIN as a good row
        ";;45;Deposit unknown;;low;;;statiegeld-999;;1,00;\n",
        ";;46;Too old;;high;;;;;1,00;\n".replace(";;;;1,00", ";99;;;1,00"),
        ";;47;Price;;low;;;;;1.2.3;\n",
        ";;48;Short row\n",
    ]
    report = load(GOOD + bad)
    assert report.inserted == report.updated == 0
    assert MasterProduct.select().count() == 0 and PriceEntry.select().count() == 0
    text = "\n".join(report.errors)
    for line, words in ((6, "check digit 0, expected 6"), (7, "vat_code"), (8, "name: is empty"),
                        (9, "also on line 4"), (10, "statiegeld-999"), (11, "age_limit"),
                        (12, "price"), (13, "cells")):
        assert any(e.startswith(f"line {line}: ") and words in e for e in report.errors), \
            (line, words, text)
    assert len(report.errors) == len(bad)

    report = load(GOOD + bad, partial=True)
    assert (report.inserted, len(report.errors)) == (4, len(bad))
    assert MasterProduct.select().count() == 4


def test_gtin_lengths_and_check_digits(master):
    pils = find("87123456")  # a further GTIN-8 finds the product
    assert pils.gtin == "08712345678906" and pils.sku == "08712345678906"
    assert find("036000291452").id == pils.id  # UPC-A
    assert find("08712345678906").id == pils.id  # GTIN-14
    assert find("42").name == "Brood wit" and find("plu:7").unit == "kg"
    assert MasterBarcode.select().count() == 2
    with pytest.raises(BadField, match="expected 2"):
        find("036000291459")
    with pytest.raises(UnknownProduct):
        find("4006381333948")
    # a further barcode of one product cannot become another's
    report = load([";87123456;49;Pils los;Bier;high;;;;;1,00;\n".replace(";87123456;49",
                                                                      "5901234123457;87123456;49")])
    assert "already belongs to product 08712345678906" in report.errors[0]


def test_scheduled_prices_per_store_in_amsterdam_time(master):
    pils = find("8712345678906")
    monday = parse_moment("2026-12-07 07:00")
    assert monday.utcoffset() == dt.timedelta(hours=1)
    summer = parse_moment("2027-06-07 07:00")
    set_price(pils, 139, monday, actor="piet")  # every store
    set_price(pils, 119, parse_moment("2026-12-05 00:00"), "store2", actor="piet")  # one store
    set_price(pils, 149, summer, actor="piet")
    assert price_at(pils.id, "store1", NOW) == 129
    assert schedule(*timelines("store1")[pils.id], NOW) == (
        129, [("2026-12-07T06:00:00+00:00", 139), ("2027-06-07T05:00:00+00:00", 149)])
    # store2's own price wins from its start, over every later chain price
    assert schedule(*timelines("store2")[pils.id], NOW) == (
        129, [("2026-12-04T23:00:00+00:00", 119)])
    assert price_at(pils.id, "store1", monday) == 139
    assert price_at(pils.id, "store1", monday - dt.timedelta(seconds=1)) == 129
    wanted, _ = items("store1", NOW)
    assert wanted[pils.id].scheduled == [
        {"code": "08712345678906", "price_cents": 139, "valid_from": "2026-12-07T07:00:00+01:00"},
        {"code": "08712345678906", "price_cents": 149, "valid_from": "2027-06-07T07:00:00+02:00"}]
    with pytest.raises(BadField, match="clock change"):
        parse_moment("2027-03-28 02:30")


def test_cost_history_gives_the_cost_at_the_time_of_sale(master):
    bread = find("42")
    set_cost(bread, 125, parse_moment("2026-12-10 00:00"), actor="piet")
    assert cost_at(bread.id, NOW) == 110
    assert cost_at(bread.id, parse_moment("2026-12-09 23:59")) == 110
    assert cost_at(bread.id, parse_moment("2026-12-10 00:00")) == 125
    assert cost_at(bread.id, NOW - dt.timedelta(days=1)) is None


def test_products_active_per_store_and_the_rows_the_tills_get(master):
    cola = find("4006381333931")
    set_store_active(cola, "store2", False, actor="piet")
    one, _ = items("store1", NOW)
    two, _ = items("store2", NOW)
    assert cola.id in one and cola.id not in two
    pils = one[find("87123456").id].row
    assert pils == {"gtin": "08712345678906", "barcodes": ["00000087123456", "00036000291452"],
                    "name": "Pils 33cl", "price_cents": 129, "vat_code": "high",
                    "category": "Bier", "unit": "piece", "age_limit": 18,
                    "deposit": {"code": "statiegeld-015", "amount_cents": 15,
                                "vat_code": "exempt"}}
    assert one[find("7").id].row["unit"] == "kg"


def test_audit_trail_names_who_changed_what(master):
    pils = find("8712345678906")
    load(["8712345678906;87123456;;Pils 33cl blik;Bier;high;piece;18;statiegeld-015;ja;1,29;\n"],
         actor="kees")
    set_price(pils, 139, parse_moment("2026-12-07 07:00"), actor="piet")
    set_store_active(pils, "store2", False, actor="marie")
    rows = audit.trail(pils.sku)
    assert [(r.actor, r.entity, r.action) for r in rows[:3]] == [
        ("marie", "store", "update"), ("piet", "price", "schedule"), ("kees", "product", "update")]
    renamed = rows[2]
    assert json.loads(renamed.old) == {"barcodes": ["00000087123456", "00036000291452"],
                                       "name": "Pils 33cl"}
    assert json.loads(renamed.new) == {"barcodes": ["00000087123456"], "name": "Pils 33cl blik"}
    assert json.loads(rows[1].new)["valid_from"] == "2026-12-07T06:00:00+00:00"
    assert rows[-1].actor == "anna" and rows[-1].action == "create"


def test_export_reads_back_as_the_same_master(master, tmp_path):
    text = export_csv()
    before = {p.sku: (p.name, p.unit, p.deposit) for p in MasterProduct.select()}
    report = import_csv(text.splitlines(keepends=True), "anna", valid_from=NOW)
    assert (report.errors, report.updated, report.inserted) == ([], 4, 0)
    assert {p.sku: (p.name, p.unit, p.deposit) for p in MasterProduct.select()} == before
    assert price_at(find("42").id, ALL_STORES, NOW) == 289


def test_a_code_taken_by_another_product_is_refused(master):
    from headoffice.catalogue.fields import product_fields
    from headoffice.catalogue.products import save_product

    with pytest.raises(CodeTaken, match="plu 42 already belongs to product plu:42"):
        save_product(product_fields({"gtin": "8712345678906", "plu": "42", "name": "Pils",
                                     "vat_code": "high"}), "anna")
    # a PLU-only product gets its first barcode: the same product, now by GTIN
    bread, created = save_product(product_fields({"gtin": "5901234123457", "plu": "42",
                                                  "name": "Brood wit", "vat_code": "low"}), "anna")
    assert not created and bread.sku == "05901234123457" and find("42").id == bread.id


def test_promotions_are_checked_stored_audited_and_per_store(master):
    save_promotion({"id": "p-3for5", "name": "3 voor 5,00", "type": "n_for_price", "n": 3,
                    "price_cents": 500, "products": ["08712345678906", "plu:42"],
                    "valid_from": "2026-12-01", "valid_until": "2026-12-31",
                    "time_from": "08:00", "time_until": "12:00", "weekdays": [1, 2, 3]},
                   "anna")
    save_promotion({"id": "p-half", "name": "2e halve prijs", "type": "nth_percent", "n": 2,
                    "percent": 50, "categories": ["Fris"], "stores": ["store2"]}, "anna")
    save_promotion({"id": "p-buy", "name": "1+1 gratis", "type": "buy_get", "buy": 1, "get": 1,
                    "products": ["plu:7"]}, "anna")
    save_promotion({"id": "p-pct", "name": "10% op brood", "type": "percent", "percent": 10,
                    "categories": ["Brood"]}, "anna")
    assert [p["id"] for p in for_store("store1")] == ["p-3for5", "p-buy", "p-pct"]
    assert [p["id"] for p in for_store("store2")] == ["p-3for5", "p-buy", "p-half", "p-pct"]
    with pytest.raises(BadField, match="n"):
        save_promotion({"id": "p-bad", "name": "1 voor", "type": "n_for_price", "n": 1,
                        "price_cents": 100, "products": ["plu:7"]}, "anna")
    with pytest.raises(BadField, match="covers nothing"):
        save_promotion({"id": "p-none", "name": "niets", "type": "percent", "percent": 5}, "anna")
    set_active("p-buy", False, "piet")
    assert [p["id"] for p in for_store("store1")] == ["p-3for5", "p-pct"]
    (change, *_rest) = audit.trail("p-buy")
    assert (change.actor, json.loads(change.old)["active"], json.loads(change.new)["active"]) == (
        "piet", True, False)
    assert json.loads(change.new)["version"] == 2
    assert SHOP_ZONE.key == "Europe/Amsterdam"
