"""WooCommerce webhooks at head office (`kassa office web`, POST /webhooks/woocommerce):
signature checked on the raw body, a bad one refused and counted, a change heard of within
seconds; kill -9 in the middle of a burst loses nothing and doubles nothing (what was
acknowledged was stored, the pull brings the rest); and a 100-order day of statuses,
cancellations, refunds, lost, repeated and forged deliveries ends with the webshop's stock
and head office's equal. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from headoffice.stock import ledger
from headoffice.webshop.models import WebshopLog, WebshopOrder
from headoffice.webshop.sync import sync
from headoffice.webshop.webhook import receive, signature
from headoffice.webshop.woocommerce import parse_order
from tests.customers.fake_woo import FakeWoo
from tests.fixtures_services import free_port, wait_for_port
from tests.webshop.test_orders import SKUS, office_levels, stocked

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_SECRET = "whsec-test-7f3a"
NAME = "woocommerce"


def refused() -> int:
    return WebshopLog.select().where(WebshopLog.action == "webhook_refused").count()


def start_web(db_url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KASSA_WC_WEBHOOK_SECRET": WEBHOOK_SECRET,
           "KASSA_WEBSHOP_NAME": NAME}
    proc = subprocess.Popen([sys.executable, "-m", "cli", "office", "--db", db_url, "web",
                             "--port", str(port), "--no-alerts"], cwd=ROOT, env=env)
    wait_for_port(port, 30, proc)
    return proc


def linked(woo: FakeWoo, quantity: int):
    """A webshop linked to head office (first sync done) whose webhooks the test delivers."""
    shop = stocked(woo, quantity)
    sync(shop)
    woo.add_webhook("http://unused", WEBHOOK_SECRET)
    return shop


def signed(topic: str, body: bytes):
    return receive(NAME, WEBHOOK_SECRET, body, signature(WEBHOOK_SECRET, body), topic)


def test_signature_is_checked_on_the_raw_body(office_db_url):
    with FakeWoo() as woo:
        linked(woo, 10)
        oid = woo.checkout([("plu:1", 1)])
        (topic, body), = woo.outbox
        forged = body.replace(b'"quantity": 1', b'"quantity": 9')
        assert receive(NAME, WEBHOOK_SECRET, forged, signature(WEBHOOK_SECRET, body),
                       topic).status == 401
        assert receive(NAME, WEBHOOK_SECRET, body, None, topic).status == 401
        assert receive(NAME, WEBHOOK_SECRET, body, signature("other", body), topic).status == 401
        assert refused() == 3 and ledger.level("webshop", "plu:1") == 10
        # re-serialised JSON with the same content is not the signed body either
        pretty = json.dumps(json.loads(body), indent=1).encode()
        assert receive(NAME, WEBHOOK_SECRET, pretty, signature(WEBHOOK_SECRET, body),
                       topic).status == 401
        ok = signed(topic, body)
        assert (ok.status, ok.outcome) == (200, "new")
        assert ledger.level("webshop", "plu:1") == 9
        assert receive(NAME, WEBHOOK_SECRET, b"webhook_id=12", None, "").outcome == "ping"
        for junk in (b"[1]", b"{}", b"not json", b'{"id": 5, "line_items": [{"quantity": "x"}]}'):
            assert signed("order.updated", junk).status == 400  # signed, but no order
        assert WebshopOrder.get(WebshopOrder.order_id == str(oid)).status == "processing"


def test_a_partial_refund_by_webhook_is_fetched_by_the_next_sync(office_db_url):
    with FakeWoo() as woo:
        shop = linked(woo, 10)
        oid = woo.checkout([("plu:1", 3)])
        line = woo.order(oid)["line_items"][0]["id"]
        woo.refund(oid, {line: 1})
        for topic, body in woo.outbox:
            signed(topic, body)
        row = WebshopOrder.get(WebshopOrder.order_id == str(oid))
        assert row.stale and ledger.level("webshop", "plu:1") == 7
        result = sync(shop)  # a stale order is fetched with its refunds before any push
        assert result.stock is not None
        assert ledger.level("webshop", "plu:1") == 8 == woo.by_sku("plu:1")["stock_quantity"]


def test_kill_9_during_a_webhook_burst_loses_and_doubles_nothing(office_db_url):
    port = free_port()
    with FakeWoo() as woo:
        shop = stocked(woo, 200)
        sync(shop)
        woo.add_webhook(f"http://127.0.0.1:{port}/webhooks/woocommerce", WEBHOOK_SECRET)
        web = start_web(office_db_url, port)
        try:
            started = time.monotonic()  # heard of within seconds: one order end to end
            quick = woo.checkout([("plu:4", 1)])
            assert woo.deliver_all() == [200]
            assert ledger.level("webshop", "plu:4") == 199
            assert time.monotonic() - started < 3
            rng = random.Random(9)
            ids = [woo.checkout([(rng.choice(SKUS), rng.randint(1, 3))]) for _ in range(60)]
            for oid in rng.sample(ids, 20):
                woo.set_status(oid, rng.choice(["cancelled", "completed", "on-hold"]))
            burst, woo.outbox = woo.outbox, []
            acknowledged: list[bytes] = []
            lock = threading.Lock()

            def send(items: list[tuple[str, bytes]]) -> None:
                for topic, body in items:
                    if woo.deliver(topic, body, timeout=5) == 200:
                        with lock:
                            acknowledged.append(body)

            threads = [threading.Thread(target=send, args=(burst[n::4],)) for n in range(4)]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 60
            while len(acknowledged) < 25 and time.monotonic() < deadline:
                time.sleep(0.005)
            web.send_signal(signal.SIGKILL)
            web.wait(10)
            for thread in threads:
                thread.join(60)
            assert 25 <= len(acknowledged) < len(burst), "the kill did not fall in the burst"
            # nothing acknowledged was lost: each delivery's version (or a newer) is stored
            for body in acknowledged:
                order = parse_order(json.loads(body))
                row = WebshopOrder.get(WebshopOrder.order_id == order.order_id)
                assert row.modified >= order.version
            web = start_web(office_db_url, port)
            for body in acknowledged[:10]:  # WooCommerce delivering again: no double moves
                assert woo.deliver("order.updated", body) == 200
            result = sync(shop)  # the pull brings what the kill lost
            assert result.errors == [] and result.stock is not None
            assert office_levels() == woo.stock()
            expected = {sku: 200 for sku in SKUS}
            for order in woo.orders:
                if order["status"] in ("processing", "on-hold", "completed"):
                    sku = woo.products[order["line_items"][0]["product_id"]]["sku"]
                    expected[sku] -= order["line_items"][0]["quantity"]
            assert office_levels() == expected
            assert WebshopOrder.select().count() == len(ids) + 1 and quick
        finally:
            web.kill()
            web.wait(10)


def test_a_hundred_order_day_ends_with_equal_stock(office_db_url):
    rng = random.Random(2026)
    with FakeWoo() as woo:
        shop = linked(woo, 120)
        forged = lost = 0
        open_orders: list[int] = []
        for n in range(100):
            oid = woo.checkout([(sku, rng.randint(1, 3)) for sku in
                                rng.sample(SKUS, rng.randint(1, 3))],
                               status=rng.choice(["processing"] * 6 + ["on-hold", "pending"]))
            open_orders.append(oid)
            for _ in range(rng.randint(0, 2)):  # later in the day: something happens
                target = woo.order(rng.choice(open_orders))
                action = rng.random()
                if target["status"] in ("cancelled", "refunded"):
                    continue
                if action < 0.25:
                    woo.set_status(target["id"], "cancelled")
                elif action < 0.5:
                    woo.set_status(target["id"], "completed")
                elif action < 0.6 and target["status"] in ("pending", "on-hold"):
                    woo.set_status(target["id"], "processing")
                elif action < 0.75:
                    woo.set_status(target["id"], "refunded")
                elif target["status"] in ("processing", "completed"):
                    item = rng.choice(target["line_items"])
                    done = woo._refunded(target["id"]).get(item["id"], 0)
                    if done < item["quantity"]:
                        woo.refund(target["id"], {item["id"]: 1})
            deliveries, woo.outbox = woo.outbox, []
            rng.shuffle(deliveries)  # late and out of order
            for topic, body in deliveries:
                chance = rng.random()
                if chance < 0.1:
                    lost += 1
                    continue
                if chance < 0.15:
                    forged += 1
                    tampered = body.replace(b'"status": "', b'"status": "x', 1)
                    assert receive(NAME, WEBHOOK_SECRET, tampered,
                                   signature(WEBHOOK_SECRET, body), topic).status == 401
                    continue
                copies = 2 if chance > 0.9 else 1  # delivered twice
                for _ in range(copies):
                    assert signed(topic, body).status == 200
            if n % 10 == 9:
                assert sync(shop).errors == []
                assert office_levels() == woo.stock()
        assert sync(shop).errors == []
        statuses = {o["status"] for o in woo.orders}
        assert {"processing", "completed", "cancelled", "refunded"} <= statuses
        assert woo.refunds and lost and forged
        assert refused() == forged
        expected = {sku: 120 for sku in SKUS}
        for order in woo.orders:
            for sku, held in held_by(woo, order).items():
                expected[sku] -= held
        assert office_levels() == woo.stock() == expected


def held_by(woo: FakeWoo, order: dict) -> dict[str, int]:
    """What an order holds out of stock, computed here apart from both sides' bookkeeping."""
    if order["status"] not in ("processing", "on-hold", "completed"):
        return {}
    refunded: dict[int, int] = {}
    for refund in woo.refunds.get(order["id"], []):
        for item in refund["line_items"]:
            line = int(item["meta_data"][0]["value"])
            refunded[line] = refunded.get(line, 0) - item["quantity"]
    held: dict[str, int] = {}
    for item in order["line_items"]:
        sku = woo.products[item["product_id"]]["sku"]
        held[sku] = held.get(sku, 0) + item["quantity"] - refunded.get(item["id"], 0)
    return held
