"""The catalogue in generations together with the age check, deposits and scheduled prices:
a database made in generations before the age check gets the new columns and a new view,
a scheduled price named by a delta is held for the next generation's product (a new one
too), and the till's price switch while an apply writes the next generation keeps both."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from firmware import catalogue_store
from firmware.catalogue import Catalogue
from firmware.db import open_database
from firmware.price_schedule import PriceSchedule, pending
from firmware.uplink import apply
from firmware.uplink.downstream import Downstream, Rejected

MILK = {"gtin": "8710398500014", "name": "Halfvolle melk", "price_cents": 129, "vat_code": "low"}
BREAD = {"plu": "12", "name": "Brood", "price_cents": 289, "vat_code": "low"}
PILS = {"gtin": "8712345678906", "name": "Pils 33cl", "price_cents": 125, "vat_code": "high",
        "age_limit": 18,
        "deposit": {"code": "statiegeld-015", "amount_cents": 15, "vat_code": "exempt"}}
LATER = "2031-03-10T07:00:00Z"
SWITCH = 1930892400  # LATER as epoch seconds
APRIL = 1932793200  # 2031-04-01T07:00:00Z

# the layout of the generations before the age check and deposits (no such columns)
GENERATIONS_BEFORE_AGE_CHECK = [
    'CREATE TABLE "catalogue_generation" ("id" INTEGER NOT NULL PRIMARY KEY, "generation"'
    ' INTEGER NOT NULL, "pending" INTEGER, "next_id" INTEGER NOT NULL)',
    'CREATE TABLE "product_version" ("vid" INTEGER NOT NULL PRIMARY KEY, "gtin" VARCHAR(14),'
    ' "plu" VARCHAR(8), "name" VARCHAR(255) NOT NULL, "price_cents" INTEGER NOT NULL,'
    ' "vat_code" VARCHAR(8) NOT NULL, "category" VARCHAR(255) NOT NULL, "stock_tracked" INTEGER'
    ' NOT NULL, "active" INTEGER NOT NULL, "sold_by_weight" INTEGER NOT NULL, "favourite"'
    ' INTEGER NOT NULL, "name_folded" VARCHAR(255) NOT NULL, "product_id" INTEGER NOT NULL,'
    ' "born" INTEGER NOT NULL, "died" INTEGER)',
    "CREATE UNIQUE INDEX product_version_gtin ON product_version (gtin, ifnull(died, 0))",
    "CREATE UNIQUE INDEX product_version_plu ON product_version (plu, ifnull(died, 0))",
    "CREATE VIEW product AS SELECT v.product_id AS id, gtin, plu, name, price_cents, vat_code,"
    " category, stock_tracked, active, sold_by_weight, favourite, name_folded FROM"
    " product_version v WHERE v.born <= (SELECT generation FROM catalogue_generation WHERE"
    " id = 1) AND (v.died IS NULL OR v.died > (SELECT generation FROM catalogue_generation"
    " WHERE id = 1))",
    "CREATE TRIGGER product_update INSTEAD OF UPDATE ON product BEGIN UPDATE product_version"
    " SET price_cents = NEW.price_cents WHERE product_id = OLD.id; END",
    "CREATE TABLE stock_level (product_id INTEGER NOT NULL PRIMARY KEY, quantity INTEGER"
    " NOT NULL)",
    "INSERT INTO catalogue_generation VALUES (1, 3, NULL, 8)",
    "INSERT INTO product_version VALUES (1, '08712345678906', NULL, 'Pils', 125, 'high', '',"
    " 1, 1, 0, 0, 'pils', 7, 3, NULL)",
    "INSERT INTO stock_level VALUES (7, 24)",
]


def catalogue(db, version: int, products: list[dict], mode: str = "full", **extra) -> None:
    body = {"version": version, "mode": mode, "products": products, **extra}
    if mode == "delta":
        body["base"] = version - 1
    assert Downstream(db).apply("catalogue", json.dumps(body).encode()).applied


def test_a_generations_database_before_the_age_check_gets_the_columns_and_a_new_view(
        tmp_path: Path):
    path = tmp_path / "kassa.sqlite3"
    with sqlite3.connect(path) as con:
        for sql in GENERATIONS_BEFORE_AGE_CHECK:
            con.execute(sql)
    db = open_database(path)
    assert db.execute_sql("SELECT id, name, age_limit, deposit_code, deposit_cents FROM product"
                          ).fetchall() == [(7, "Pils", 0, "", 0)]
    assert catalogue_store.generation(db) == (3, None, 8)  # the pointer untouched
    assert db.execute_sql("SELECT * FROM stock_level").fetchall() == [(7, 24)]
    # the view's triggers were made again with every column
    db.execute_sql("INSERT INTO product (plu, name, price_cents, vat_code, age_limit)"
                   " VALUES ('4711', 'Whisky', 2999, 'high', 21)")
    assert db.execute_sql("SELECT id, age_limit, deposit_code FROM product WHERE plu = '4711'"
                          ).fetchone() == (8, 21, "")
    catalogue(db, 1, [PILS, MILK])
    pils = Catalogue(db).by_id(7)
    assert (pils.age_limit, pils.deposit_code, pils.deposit_cents, pils.deposit_vat_code) == (
        18, "statiegeld-015", 15, "exempt")
    db.close()
    again = open_database(path)  # a second open changes nothing
    assert again.execute_sql("SELECT plu, active FROM product ORDER BY id").fetchall() == [
        (None, 1), ("4711", 0), (None, 1)]  # the whisky not listed: off sale
    again.close()


def test_a_delta_holds_the_scheduled_prices_of_a_new_product_and_of_one_it_does_not_list(
        tmp_path: Path):
    db = open_database(tmp_path / "kassa.sqlite3")
    catalogue(db, 1, [MILK, BREAD], scheduled=[
        {"code": MILK["gtin"], "price_cents": 139, "valid_from": LATER}])
    bread = Catalogue(db).by_plu("12").id
    catalogue(db, 2, [PILS], mode="delta", scheduled=[
        {"code": PILS["gtin"], "price_cents": 135, "valid_from": LATER},
        {"code": "12", "price_cents": 299, "valid_from": LATER}])
    pils = Catalogue(db).resolve(PILS["gtin"]).product.id
    milk = Catalogue(db).resolve(MILK["gtin"]).product.id
    assert sorted(pending(db)) == sorted([(milk, 139, SWITCH), (pils, 135, SWITCH),
                                          (bread, 299, SWITCH)])
    # a delta naming milk without entries: milk has none pending any more
    catalogue(db, 3, [{**MILK, "price_cents": 131}], mode="delta")
    assert sorted(pending(db)) == sorted([(pils, 135, SWITCH), (bread, 299, SWITCH)])
    with pytest.raises(Rejected, match="unknown product"):
        catalogue(db, 4, [MILK], mode="delta", scheduled=[
            {"code": "4006381333931", "price_cents": 1, "valid_from": LATER}])
    assert catalogue_store.generation(db)[1] is None  # the refused apply let go of its claim
    assert sorted(pending(db)) == sorted([(pils, 135, SWITCH), (bread, 299, SWITCH)])
    db.close()


def test_the_tills_switch_while_an_apply_writes_the_next_generation(tmp_path: Path,
                                                                     monkeypatch):
    """The switch writes the current generation in place; the apply's versions of the
    products its message names win at the flip (with the message's pending prices), the
    products it does not name keep the switched price."""
    db = open_database(tmp_path / "kassa.sqlite3")
    catalogue(db, 1, [MILK, BREAD], scheduled=[
        {"code": MILK["gtin"], "price_cents": 139, "valid_from": LATER},
        {"code": "12", "price_cents": 299, "valid_from": LATER}])
    switch = PriceSchedule(db, clock=lambda: SWITCH)
    flips: list[int] = []
    real = apply.Stager._short

    def before_the_flip(self, work, durable=False, owned=True):
        if durable:  # the flip: the till switches its prices just before it
            flips.append(switch.catch_up())
            assert pending(db) == []
        return real(self, work, durable, owned)

    monkeypatch.setattr(apply.Stager, "_short", before_the_flip)
    generation = catalogue_store.generation(db)[0]
    catalogue(db, 2, [{**MILK, "price_cents": 135}], mode="delta", scheduled=[
        {"code": MILK["gtin"], "price_cents": 145, "valid_from": "2031-04-01T07:00:00Z"}])
    assert flips == [2]
    assert catalogue_store.generation(db)[0] == generation + 1
    assert Catalogue(db).resolve(MILK["gtin"]).product.price_cents == 135  # the message's
    assert Catalogue(db).by_plu("12").price_cents == 299  # switched, not named: kept
    milk = Catalogue(db).resolve(MILK["gtin"]).product.id
    assert pending(db) == [(milk, 145, APRIL)]
    db.close()
