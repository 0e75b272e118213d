"""Webshop orders through their whole life against the WooCommerce fake (which keeps its own
stock and lowers it at checkout), on SQLite and PostgreSQL: the first link imports the
webshop's stock, parked orders, no push after a failed pull, statuses and refunds that give
stock back exactly, and the same change seen twice moving stock once."""

from __future__ import annotations

from headoffice.alerts.models import Alert, AlertEvent
from headoffice.stock import ledger
from headoffice.webshop.models import WebshopLog, WebshopOrder
from headoffice.webshop.orders import apply, parked
from headoffice.webshop.status import status
from headoffice.webshop.sync import retry, sync
from headoffice.webshop.woocommerce import WooCommerce, parse_order
from tests.customers.fake_woo import KEY, SECRET, FakeWoo

SKUS = ("plu:1", "plu:2", "plu:3", "plu:4")


def connect(woo: FakeWoo) -> WooCommerce:
    return WooCommerce(woo.url, KEY, SECRET, retries=1, backoff=0.01, sleep=lambda s: None)


def stocked(woo: FakeWoo, quantity: int = 50) -> WooCommerce:
    for sku in SKUS:
        woo.add_product(sku, stock=quantity)
    return connect(woo)


def office_levels() -> dict[str, int]:
    return {sku: ledger.level("webshop", sku) for sku in SKUS}


def test_first_link_imports_the_webshop_stock_and_never_zeroes_it(office_db_url):
    with FakeWoo() as woo:
        shop = stocked(woo)
        before = woo.checkout([("plu:1", 2)])  # sold before the link: not in the 48 online
        on_hold = woo.checkout([("plu:2", 1)], status="on-hold")
        first = sync(shop)  # the default --fulfil-from webshop
        assert first.errors == [] and first.stock is not None
        assert first.imported == {"plu:1": 48, "plu:2": 49, "plu:3": 50, "plu:4": 50}
        assert woo.stock() == {"plu:1": 48, "plu:2": 49, "plu:3": 50, "plu:4": 50}
        assert office_levels() == woo.stock()  # the two orders were not taken a second time
        woo.set_status(before, "cancelled")  # a cancellation after the link gives stock back
        woo.set_status(on_hold, "completed")
        sync(shop)
        assert office_levels() == woo.stock() == {"plu:1": 50, "plu:2": 49, "plu:3": 50,
                                                  "plu:4": 50}
        woo.add_product("plu:9", stock=7)  # a product added online later keeps its stock
        sync(shop)
        assert woo.by_sku("plu:9")["stock_quantity"] == 7


def test_an_order_without_a_usable_sku_is_parked_and_the_rest_taken(office_db_url):
    with FakeWoo() as woo:
        shop = stocked(woo)
        sync(shop)
        gift = woo.add_product("GIFT-25", stock=100)
        parked_id = woo.checkout([("GIFT-25", 1), ("plu:1", 1)])
        taken_id = woo.checkout([("plu:2", 3)])
        result = sync(shop)
        assert result.errors == [] and result.orders_taken == 1
        assert result.parked == [str(parked_id)]
        assert ledger.level("webshop", "plu:2") == 47
        assert ledger.level("webshop", "plu:1") == 50  # nothing of the parked order taken
        row = WebshopOrder.get(WebshopOrder.order_id == str(parked_id))
        assert row.state == "parked" and "no usable SKU ('GIFT-25')" in row.reason
        sync(shop)  # still parked: no second alert
        alerts = list(Alert.select().where(Alert.kind == "webshop_parked"))
        assert len(alerts) == 1 and str(parked_id) in alerts[0].message
        assert AlertEvent.select().where(AlertEvent.kind == "webshop_parked").count() == 1
        board = status()[0]
        assert [o.order_id for o in board["parked"]] == [str(parked_id)]
        assert board["taken"] == 1 and board["last_run"]
        # while it is parked, its stock stays out of the push: online keeps what it sold
        assert woo.by_sku("plu:1")["stock_quantity"] == 49
        # the owner gives the gift card a product code head office knows: retried, taken
        woo.products[gift]["sku"] = "plu:3"
        applied = retry(shop, str(parked_id))
        assert applied.outcome == "new" and parked() == []
        assert ledger.level("webshop", "plu:1") == 49 and ledger.level("webshop", "plu:3") == 49
        assert str(taken_id) in {o.order_id for o in WebshopOrder.select()}


def test_stock_is_not_pushed_after_pulling_orders_failed(office_db_url):
    with FakeWoo() as woo:
        shop = stocked(woo, 5)
        sync(shop)
        woo.checkout([("plu:1", 1)])  # the webshop now shows 4
        woo.fail_orders = 10  # /orders answers 500
        posts = sum(1 for method, _ in woo.requests if method == "POST")
        failed = sync(shop, push_prices=False)
        assert failed.errors and failed.stock is None
        assert "stock not pushed" in failed.stock_skipped
        assert sum(1 for method, _ in woo.requests if method == "POST") == posts
        assert woo.by_sku("plu:1")["stock_quantity"] == 4  # the sold unit is not for sale again
        assert WebshopLog.select().where(WebshopLog.action == "pull_orders",
                                         WebshopLog.ok == False).count() == 1  # noqa: E712
        woo.fail_orders = 0
        assert sync(shop).errors == []
        assert ledger.level("webshop", "plu:1") == 4 == woo.by_sku("plu:1")["stock_quantity"]


def test_orders_are_followed_through_their_statuses_and_refunds(office_db_url):
    with FakeWoo() as woo:
        shop = stocked(woo, 20)
        sync(shop)
        completed = woo.checkout([("plu:1", 2)])
        woo.set_status(completed, "completed")  # completed before the sync: still taken
        on_hold = woo.checkout([("plu:2", 3)], status="on-hold")
        pending = woo.checkout([("plu:3", 4)], status="pending")  # not paid: nothing taken
        partly = woo.checkout([("plu:4", 5), ("plu:1", 1)])
        sync(shop)
        assert office_levels() == woo.stock() == {"plu:1": 17, "plu:2": 17, "plu:3": 20,
                                                  "plu:4": 15}
        woo.set_status(on_hold, "cancelled")
        woo.set_status(completed, "refunded")
        woo.set_status(pending, "processing")
        line = woo.order(partly)["line_items"][0]["id"]
        woo.refund(partly, {line: 2})  # two of the five back
        sync(shop)
        assert office_levels() == woo.stock() == {"plu:1": 19, "plu:2": 20, "plu:3": 16,
                                                  "plu:4": 17}
        row = WebshopOrder.get(WebshopOrder.order_id == str(partly))
        assert row.status == "processing" and row.modified == woo.order(partly)["date_modified_gmt"]
        woo.refund(partly, {line: 3, line + 1: 1})  # all of it: the order becomes refunded
        assert woo.order(partly)["status"] == "refunded"
        sync(shop)
        assert office_levels() == woo.stock() == {"plu:1": 20, "plu:2": 20, "plu:3": 16,
                                                  "plu:4": 20}


def test_the_same_change_twice_or_late_moves_stock_once(office_db_url):
    with FakeWoo() as woo:
        shop = stocked(woo, 10)
        sync(shop)
        oid = woo.checkout([("plu:1", 2)])
        taken = parse_order(woo.as_json(woo.order(oid)))
        woo.set_status(oid, "cancelled")
        cancelled = parse_order(woo.as_json(woo.order(oid)))
        assert apply(shop.name, taken, ("webshop",)).outcome == "new"
        assert apply(shop.name, taken, ("webshop",)).outcome == "same"
        assert ledger.level("webshop", "plu:1") == 8
        assert apply(shop.name, cancelled, ("webshop",)).outcome == "changed"
        assert apply(shop.name, taken, ("webshop",)).outcome == "older"  # late: ignored
        assert apply(shop.name, cancelled, ("webshop",)).outcome == "same"
        sync(shop)  # and the pull sees it again
        assert ledger.level("webshop", "plu:1") == 10 == woo.by_sku("plu:1")["stock_quantity"]


def test_checkout_and_payment_in_one_second_arrive_in_either_order(office_db_url):
    with FakeWoo() as woo:
        shop = stocked(woo, 10)
        sync(shop)
        oid = woo.checkout([("plu:1", 1)], status="pending")
        pending = woo.as_json(woo.order(oid))
        woo.set_status(oid, "processing")
        paid = woo.as_json(woo.order(oid))
        pending["date_modified_gmt"] = paid["date_modified_gmt"]  # the same second
        assert apply(shop.name, parse_order(paid), ("webshop",)).outcome == "new"
        assert apply(shop.name, parse_order(pending), ("webshop",)).outcome == "older"
        assert ledger.level("webshop", "plu:1") == 9


def test_an_order_placed_while_stock_is_pushed_is_not_put_back_for_sale(office_db_url):
    with FakeWoo() as woo:
        shop = stocked(woo, 5)
        sync(shop)
        woo.during_push = lambda: woo.checkout([("plu:2", 2)])  # the push overwrites it: 5
        result = sync(shop, push_prices=False)
        assert result.errors == [] and result.orders_taken == 1  # found by the pull after it
        assert ledger.level("webshop", "plu:2") == 3 == woo.by_sku("plu:2")["stock_quantity"]
