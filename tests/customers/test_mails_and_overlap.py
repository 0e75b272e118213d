"""Mails as a customer receives them (real SMTP server, aiosmtpd): a Date header, the shop's
name instead of its store id, retries with backoff for a day before giving up; the offers
mail leaves out redeemed offers and writes Dutch dates. At the till, overlapping offers give
the best one per line, never two. Head office parts on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import email.utils

import pytest

from contract.entries import parse_entry
from contract.product_key import sku_of
from firmware.models import Product
from firmware.offers import apply_message
from firmware.uplink.downstream import _set_version, applied_version
from headoffice.customers import service
from headoffice.journal_feed import apply_entry
from headoffice.notify.backinstock import GIVE_UP_AFTER, send_back_in_stock, set_store_name
from headoffice.notify.mailer import Mailer, MailSettings, long_date
from headoffice.notify.models import Notification
from headoffice.offers.compute import create_campaign
from headoffice.offers.models import Offer
from headoffice.offers.publish import mail_offers, next_messages
from headoffice.stock import ledger
from tests.customers.test_customer_story import smtp  # noqa: F401 - the fixture
from tests.customers.test_office_customers import T0, make_till
from tests.uplink.harness import wait_until

SKU = "08712345678906"


@pytest.fixture
def office(office_db_url):
    from headoffice.db import database_proxy

    return database_proxy.obj


def _mailer(port: int) -> Mailer:
    return Mailer(MailSettings(port=port, base_url="https://shop.example", timeout=2))


def _restock(name: str) -> None:
    ledger.note_product(SKU, "Volkorenbrood", 289)
    ledger.move("s1", SKU, 0, "stock_count", name + "-seen", T0)
    ledger.move("s1", SKU, 3, "goods_received", name, T0 + 1)


def test_back_in_stock_mail_has_a_date_and_the_shops_name_and_retries_for_a_day(
        office, smtp):  # noqa: F811
    inbox, port = smtp
    eva = service.create("Eva", "eva@example.nl", "nl", "s1", consent=True, card_prefix="299")
    service.add_favourite(eva.customer_id, SKU, "office")
    set_store_name("s1", "Bakkerij Centrum")
    _restock("r1")
    start = dt.datetime.now(dt.UTC)
    down = _mailer(1)  # nothing listens on port 1: the SMTP server is down
    runs, at = 0, start
    while True:
        result = send_back_in_stock(down, clock=lambda at=at: at)
        runs += 1
        if "gave up" in " ".join(result.errors):
            break
        at += dt.timedelta(minutes=30)
        assert at - start <= GIVE_UP_AFTER + dt.timedelta(hours=3), "never gave up"
    assert runs > 10  # the old limit was 3 runs
    assert at - start >= GIVE_UP_AFTER - dt.timedelta(hours=2)
    assert Notification.get().state == "gave_up"
    assert send_back_in_stock(_mailer(port), clock=lambda: at).sent == 0  # given up is final

    ledger.move("s1", SKU, -3, "sale", "sold-out", T0 + 2)
    ledger.move("s1", SKU, 3, "goods_received", "r2", T0 + 3)
    later = at + dt.timedelta(days=2)  # outside the quiet hours of the first restock
    Notification.update(at=(later - dt.timedelta(days=2)).isoformat()).execute()
    down_again = send_back_in_stock(down, clock=lambda: later)
    assert down_again.failed == 1
    # the server is back a few hours later: the mail goes out once
    back = later + dt.timedelta(hours=3)
    assert send_back_in_stock(_mailer(port), clock=lambda: back).sent == 1
    wait_until(lambda: len(inbox.messages) == 1, 10, "the mail at the SMTP server")
    [mail] = inbox.messages
    sent_at = email.utils.parsedate_to_datetime(mail["Date"])
    assert abs((sent_at - dt.datetime.now(dt.UTC)).total_seconds()) < 120
    body = mail.get_payload(decode=True).decode()
    assert "in onze winkel Bakkerij Centrum" in body and "s1" not in body.split("Meld")[0]


def test_offers_mail_leaves_out_redeemed_offers_and_writes_dutch_dates(office, tmp_path,
                                                                       smtp):  # noqa: F811
    inbox, port = smtp
    till = make_till(tmp_path, "t1")
    p3, p4 = Product.get(Product.plu == "3"), Product.get(Product.plu == "4")
    eva = service.create("Eva", "eva@example.nl", "nl", "s1", consent=True, card_prefix="299")
    start, end = dt.date(2026, 12, 3), dt.date(2026, 12, 16)
    today = dt.date.today()
    campaign = create_campaign("Winter", today, today + dt.timedelta(days=13), 25, 100_000)
    for n, product in enumerate((p3, p4)):
        ledger.note_product(sku_of(product.gtin, product.plu), product.name, product.price_cents)
        Offer.create(offer_id=f"of-{n}", campaign=campaign, customer_id=eva.customer_id,
                     store="s1", sku=sku_of(product.gtin, product.plu), reason="regular",
                     title="25%", kind="percent", value=25, max_units=1, uses=1,
                     valid_from=max(start, today).isoformat(),
                     valid_until=max(end, today + dt.timedelta(days=13)).isoformat(),
                     max_cost_cents=100)
    apply_message(till.db, next_messages(["s1"])["s1"], applied_version, _set_version)
    till.attach_card(eva.card)
    till.add_product(p3.id)
    sale = till.pay_card(None, "R").entry
    for entry in (sale, till.journal.get(sale.seq + 1)):
        apply_entry(parse_entry(entry.body))
    till.db.close()

    sent, errors = mail_offers(_mailer(port), "Bakkerij Centrum")
    assert (sent, errors) == (1, [])
    wait_until(lambda: len(inbox.messages) == 1, 10, "the offers mail")
    body = inbox.messages[0].get_payload(decode=True).decode()
    assert p4.name in body and p3.name not in body  # the redeemed one is left out
    offer = Offer.get_by_id("of-1")
    assert (f"geldig van {long_date('nl', offer.valid_from)} t/m "
            f"{long_date('nl', offer.valid_until)}") in body
    assert long_date("nl", "2026-12-03") == "3 december 2026"
    assert long_date("en", "2026-03-01") == "1 March 2026"
    assert inbox.messages[0]["Date"]


def test_overlapping_offers_give_the_best_one_per_line_never_two(tmp_path):
    till = make_till(tmp_path, "t1")
    p3, p4 = Product.get(Product.plu == "3"), Product.get(Product.plu == "4")
    today = dt.date.today()

    def offer(oid: str, product: Product, value: int, kind: str = "percent") -> dict:
        return {"id": oid, "customer": "c-eva", "sku": sku_of(product.gtin, product.plu),
                "title": oid, "kind": kind, "value": value, "max_units": 1, "uses": 1,
                "valid_from": today.isoformat(), "valid_until": today.isoformat()}

    # the 20% offer's id sorts first; the 50% one must win; a fixed 10-cent one loses too
    message = {"version": 1, "store": "s1",
               "customers": [{"id": "c-eva", "card": "2990000000017", "name": "Eva",
                              "language": "nl"}],
               "offers": [offer("of-a20", p3, 20), offer("of-b50", p3, 50),
                          offer("of-c10", p3, 10, "cents"), offer("of-d30", p4, 30)]}
    apply_message(till.db, message, applied_version, _set_version)
    till.attach_card("2990000000017")
    first = till.add_product(p3.id)
    second = till.add_product(p3.id)
    other = till.add_product(p4.id)
    lines = {n: till.ticket.line(n) for n in (first.line_no, second.line_no, other.line_no)}
    assert lines[first.line_no].discount_by == "offer:of-b50"
    assert lines[first.line_no].discount == (p3.price_cents * 50 + 50) // 100
    # the second unit takes the next best offer (one offer per line, each offer once)
    assert lines[second.line_no].discount_by == "offer:of-a20"
    assert lines[other.line_no].discount_by == "offer:of-d30"
    sale = till.pay_card(None, "R").entry
    by = [line["discount_by"] for line in sale.body["data"]["lines"]]
    assert sorted(by) == ["offer:of-a20", "offer:of-b50", "offer:of-d30"]  # no line twice
    till.db.close()


class Refusing:
    """An SMTP server that refuses every recipient, quoting the address as servers do."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        return f"550 5.1.1 <{address}>: mailbox unavailable"


def test_a_refused_mail_is_logged_by_pseudonym_not_address(office):
    from aiosmtpd.controller import Controller

    from tests.fixtures_services import free_port

    eva = service.create("Eva Quist", "eva.q@example.nl", "nl", "s1", consent=True,
                         card_prefix="299")
    service.add_favourite(eva.customer_id, SKU, "office")
    _restock("r1")
    controller = Controller(Refusing(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        result = send_back_in_stock(_mailer(controller.port))
    finally:
        controller.stop()
    assert result.failed == 1
    [error] = result.errors
    assert "SMTPRecipientsRefused" in error and eva.customer_id in error
    assert "eva.q@example.nl" not in error and "eva.q@example.nl" not in Notification.get().detail
