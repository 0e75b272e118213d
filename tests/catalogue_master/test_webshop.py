"""The webshop gets the master's products and prices through the WooCommerce connector:
created once, updated only where they differ, stock left to the one stock ledger."""

from __future__ import annotations

import datetime as dt

from headoffice.catalogue.importcsv import import_csv
from headoffice.catalogue.products import find, set_price, set_store_active
from headoffice.catalogue.webshop import push_to_webshop
from headoffice.stock.models import OfficeProduct
from headoffice.webshop.woocommerce import WooCommerce
from tests.customers.fake_woo import KEY, SECRET, FakeWoo

CSV = ["gtin;plu;name;vat_code;price\n",
       "8712345678906;;Pils 33cl;high;1,29\n",
       ";42;Brood wit;low;2,89\n",
       "4006381333931;;Cola 1,5l;low;2,19\n"]
NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)


def test_master_products_reach_the_webshop_idempotently(office_db_url):
    import_csv(CSV, "anna", valid_from=NOW - dt.timedelta(days=1))
    set_store_active(find("4006381333931"), "webshop", False, actor="anna")  # shops only
    with FakeWoo() as woo:
        woo.add_product("08712345678906", stock=5, price="1.19")  # already online, old price
        shop = WooCommerce(woo.url, KEY, SECRET, retries=1, backoff=0.01, sleep=lambda s: None)
        first = push_to_webshop(shop, NOW)
        assert (first.created, first.updated, first.failed) == (["plu:42"], ["08712345678906"], {})
        pils, bread = woo.by_sku("08712345678906"), woo.by_sku("plu:42")
        assert (pils["name"], pils["regular_price"], pils["stock_quantity"]) == (
            "Pils 33cl", "1.29", 5)  # the stock online is not the master's to change
        assert (bread["name"], bread["regular_price"], bread["manage_stock"],
                bread["stock_quantity"]) == ("Brood wit", "2.89", True, 0)
        assert not any(p["sku"] == "04006381333931" for p in woo.products.values())

        posts = sum(1 for method, _ in woo.requests if method == "POST")
        again = push_to_webshop(shop, NOW)
        assert (again.created, again.updated, again.failed) == ([], [], {})
        assert sum(1 for method, _ in woo.requests if method == "POST") == posts
        assert len(woo.products) == 2

        set_price(find("42"), 299, NOW, "webshop", actor="anna")  # a webshop price
        third = push_to_webshop(shop, NOW)
        assert (third.created, third.updated) == ([], ["plu:42"])
        assert woo.by_sku("plu:42")["regular_price"] == "2.99"
    assert OfficeProduct.get_by_id("plu:42").price_cents == 299
