"""The WooCommerce connector against a local HTTP server: stock and price push, orders taken
once, retries with backoff, failures logged, and an order and a shop sale racing for the
last piece."""

from __future__ import annotations

import pytest

from contract.entries import parse_entry
from contract.product_key import sku_of
from firmware.models import Product
from firmware.permissions import Action
from headoffice.journal_feed import apply_entry
from headoffice.stock import ledger
from headoffice.stock.models import Oversold
from headoffice.webshop.models import WebshopLog, WebshopOrder
from headoffice.webshop.sync import failures, sync
from headoffice.webshop.woocommerce import WooCommerce
from tests.customers.fake_woo import KEY, SECRET, FakeWoo


def connector(woo: FakeWoo, sleeps: list[float]) -> WooCommerce:
    return WooCommerce(woo.url, KEY, SECRET, retries=3, backoff=0.01, sleep=sleeps.append)


def stock_one(till, product) -> None:
    """The shop counts exactly one piece of `product` (journaled, applied at head office)."""
    entry = till.stock_count([(product.id, 1)], approval=till.approve("9999", Action.STOCK))
    apply_entry(parse_entry(entry.body))


@pytest.mark.parametrize("first", ["shop", "webshop"])
def test_order_and_shop_sale_race_for_the_last_piece(office, shop_till, first):
    till = shop_till
    product = Product.get(Product.plu == "7")
    other = Product.get(Product.plu == "8")
    sku = sku_of(product.gtin, product.plu)
    stock_one(till, product)
    stock_one(till, other)
    assert ledger.level("s1", sku) == 1
    sleeps: list[float] = []
    with FakeWoo() as woo:
        woo.add_product(product.gtin[1:], stock=0)  # the webshop knows it by its EAN-13
        rejected = woo.add_product(other.gtin[1:], stock=5)
        woo.reject_ids.add(rejected)
        woo.fail_next = 2  # the first two calls meet a 503: retried with backoff
        shop = connector(woo, sleeps)
        first_sync = sync(shop, fulfil_from=("s1",))
        assert sleeps[:2] == [0.01, 0.02]
        assert woo.by_sku(product.gtin[1:])["stock_quantity"] == 1
        assert sku in first_sync.stock.updated
        assert first_sync.stock.failed[sku_of(other.gtin, None)].startswith(
            "woocommerce_rest_invalid_id")
        assert any(f.target == sku_of(other.gtin, None) for f in failures())

        def shop_sells() -> None:
            till.add_product(product.id)
            apply_entry(parse_entry(till.pay_card(None, "REF").entry.body))

        woo.add_order(product.gtin[1:], 1, "2030-01-02T10:00:00")
        if first == "shop":
            shop_sells()
            result = sync(shop, fulfil_from=("s1",))
            assert result.oversold == [sku]
        else:
            result = sync(shop, fulfil_from=("s1",))
            assert result.oversold == []
            assert woo.by_sku(product.gtin[1:])["stock_quantity"] == 0
            shop_sells()
        assert result.orders_taken == 1
        assert ledger.level("s1", sku) == -1
        assert [o.sku for o in Oversold.select()] == [sku]
        again = sync(shop, fulfil_from=("s1",))  # the same order is seen again: not taken twice
        assert again.orders_seen == 1 and again.orders_taken == 0
        assert WebshopOrder.select().count() == 1
        assert ledger.level("s1", sku) == -1
        assert woo.by_sku(product.gtin[1:])["stock_quantity"] == 0  # never below zero online
        assert woo.by_sku(product.gtin[1:])["regular_price"] == (
            f"{product.price_cents // 100}.{product.price_cents % 100:02d}")


def test_bad_credentials_and_a_dead_shop_are_logged_not_raised(office):
    sleeps: list[float] = []
    with FakeWoo() as woo:
        woo.add_product("8712345678906")
        wrong = WooCommerce(woo.url, KEY, "wrong", retries=2, backoff=0.01, sleep=sleeps.append)
        result = sync(wrong)
        assert sleeps == []  # a 401 is not retried
        assert any("HTTP 401" in e for e in result.errors)
        assert result.stock is None and result.stock_skipped == "not linked yet"
        assert sync(connector(woo, sleeps)).errors == []  # linked now
        woo.fail_next = 100
        down = sync(connector(woo, sleeps))
        assert any("gave up after 4 attempts" in e for e in down.errors)
        assert down.stock is None  # nothing pushed from a state that may lack orders
    logged = {(row.action, row.ok) for row in WebshopLog.select()}
    assert ("link", False) in logged and ("pull_orders", False) in logged
    assert ("push_stock", False) in logged
