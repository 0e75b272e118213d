"""A head office that took webshop orders before they were followed: its `webshop_order`
table gets the new columns at the next start, and an old order cancelled later gives its
stock back exactly once. SQLite and PostgreSQL."""

from __future__ import annotations

import json

from headoffice import schema
from headoffice.orm import database_proxy, write_transaction
from headoffice.stock import ledger
from headoffice.webshop.models import WebshopLink, WebshopOrder
from headoffice.webshop.sync import sync
from tests.customers.fake_woo import FakeWoo
from tests.webshop.test_orders import connect

OLD_TABLE = ("CREATE TABLE webshop_order (id INTEGER PRIMARY KEY, shop VARCHAR(64) NOT NULL, "
             "order_id VARCHAR(64) NOT NULL, created VARCHAR(40) NOT NULL, taken VARCHAR(40) "
             "NOT NULL, lines TEXT NOT NULL, email VARCHAR(254) NOT NULL)")


def test_orders_taken_by_the_old_version_are_adopted(office_db_url):
    db = database_proxy.obj
    db.execute_sql("DROP TABLE webshop_order")
    db.execute_sql(OLD_TABLE)
    with FakeWoo() as woo:
        woo.add_product("plu:1", stock=9)
        oid = woo.add_order("plu:1", 1, "2030-01-01T07:00:00")  # taken by the old version
        with write_transaction():
            ledger.count("webshop", "plu:1", 10, "count:1", 0)
            ledger.move("webshop", "plu:1", -1, "webshop_order",
                        f"woocommerce:{oid}:{oid * 10}", 1)
            db.execute_sql("INSERT INTO webshop_order (id, shop, order_id, created, taken, "
                           "lines, email) VALUES (1, 'woocommerce', %s, '2030-01-01T07:00:00',"
                           " 'then', %s, '')" if "Postgres" in type(db).__name__ else
                           "INSERT INTO webshop_order (id, shop, order_id, created, taken, "
                           "lines, email) VALUES (1, 'woocommerce', ?, '2030-01-01T07:00:00',"
                           " 'then', ?, '')",
                           (str(oid), json.dumps([{"sku": "plu:1", "quantity": 1,
                                                   "location": "webshop"}])))
            WebshopLink.insert(shop="woocommerce", linked="then", fulfil_from="webshop",
                               cursor="").execute()
        schema.create_all(db)  # the next start adds the columns
        row = WebshopOrder.get(WebshopOrder.order_id == str(oid))
        assert (row.state, row.modified, row.stale) == ("tracked", "", False)
        woo.set_status(oid, "cancelled")  # its piece comes back at head office, then online
        shop = connect(woo)
        assert sync(shop).errors == []
        assert sync(shop).errors == []
        assert ledger.level("webshop", "plu:1") == 10 == woo.by_sku("plu:1")["stock_quantity"]
        row = WebshopOrder.get(WebshopOrder.order_id == str(oid))
        assert row.status == "cancelled" and json.loads(row.lines)[0]["quantity"] == 0
