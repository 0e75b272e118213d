"""Head office without the network: stock counts and oversold, the reorder list, the rules of
back-in-stock mails (consent, dedup, rate limit, retries), offers within budget, the
over-redemption of two offline tills, and erasure; on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from cli.assemble import build_till
from contract.config import parse_config
from contract.entries import parse_entry
from contract.product_key import sku_of
from firmware.models import Product
from firmware.offers import apply_message
from firmware.sim import ensure_demo_data
from firmware.uplink.downstream import _set_version, applied_version
from headoffice import privacy
from headoffice.customers import service
from headoffice.customers.models import Customer, Erased, Favourite, Purchase
from headoffice.journal_feed import apply_entry
from headoffice.notify.backinstock import send_back_in_stock
from headoffice.notify.mailer import Mailer, MailSettings
from headoffice.notify.models import Notification
from headoffice.offers.compute import compute, create_campaign
from headoffice.offers.models import Offer
from headoffice.offers.publish import next_messages
from headoffice.offers.redeem import over_redemptions
from headoffice.stock import ledger
from headoffice.stock.models import Restock
from tests.customers.conftest import PREFIX

SKU = "08712345678906"
T0 = 1_700_000_000_000


@pytest.fixture
def office(office_db_url):
    """These tests run on SQLite and on PostgreSQL (the conftest's `office` is SQLite only)."""
    from headoffice.db import database_proxy

    return database_proxy.obj


def test_a_count_absorbs_earlier_moves_and_later_ones_add_up(office):
    ledger.move("s1", SKU, 10, "goods_received", "a", T0)
    ledger.move("s1", SKU, -3, "sale", "b", T0 + 10)
    ledger.count("s1", SKU, 6, "count", T0 + 20)
    ledger.move("s1", SKU, -1, "sale", "c", T0 + 30)
    ledger.move("s1", SKU, -2, "sale", "late-but-before-count", T0 + 15)  # offline till
    assert ledger.level("s1", SKU) == 5
    assert not ledger.move("s1", SKU, -1, "sale", "c", T0 + 30)  # the same source: once
    ledger.count("s1", SKU, 4, "old-count", T0 + 5)  # an older count changes nothing
    assert ledger.level("s1", SKU) == 5
    ledger.move("s1", SKU, -6, "sale", "d", T0 + 40)
    assert [o.source for o in ledger.oversold()] == ["d"]
    ledger.set_reorder_level("s1", SKU, 2, 12)
    [line] = ledger.reorder_list()
    assert (line.sku, line.quantity, line.order) == (SKU, -1, 13)
    ledger.move("s1", SKU, 20, "goods_received", "e", T0 + 50)
    assert ledger.reorder_list() == []
    assert [r.source for r in Restock.select()] == ["e"]
    with pytest.raises(ValueError, match="minimum < reorder_to"):
        ledger.set_reorder_level("s1", SKU, 5, 5)


def fan(name: str, email: str, consent: bool = True, store: str = "s1", language: str = "nl"):
    customer = service.create(name, email, language, store, consent=consent, card_prefix=PREFIX)
    service.add_favourite(customer.customer_id, SKU, "office")
    return customer


def restock(source: str) -> None:
    ledger.move("s1", SKU, 0, "stock_count", source + "-seen", T0)
    ledger.move("s1", SKU, 3, "goods_received", source, T0 + 1)


def test_back_in_stock_rules(office):
    clock = [0.0]
    unreachable = Mailer(MailSettings(port=1, max_per_minute=5, timeout=1))
    a = fan("Anna", "anna@example.nl")
    b = fan("Bob", "bob@example.com", language="en")
    fan("Carla", "carla@example.nl", consent=False)
    fan("Dirk", "dirk@example.nl", store="s2")
    restock("r1")
    failed = send_back_in_stock(unreachable)
    assert (failed.sent, failed.failed) == (0, 2)  # SMTP down: kept for a retry
    assert send_back_in_stock(unreachable).failed == 0  # not before its backoff
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=6)
    assert send_back_in_stock(unreachable, clock=lambda: later).failed == 2
    sent: list[str] = []

    class Recording(Mailer):
        def send(self, to_name, to_addr, subject, text, unsubscribe_token):
            self.check_rate()
            sent.append(to_addr)
            self._sent.append(self.clock())
            return "id"

    slow = Recording(MailSettings(max_per_minute=1), clock=lambda: clock[0])
    first = send_back_in_stock(slow, clock=lambda: later + dt.timedelta(minutes=11))
    assert (first.sent, first.rate_limited) == (1, True)
    clock[0] += 61
    assert send_back_in_stock(slow, clock=lambda: later + dt.timedelta(minutes=11)).sent == 1
    clock[0] += 61
    assert send_back_in_stock(slow).sent == 0  # never twice for one restock
    assert sorted(sent) == ["anna@example.nl", "bob@example.com"]
    assert Notification.select().where(Notification.state == "sent").count() == 2
    assert service.unsubscribe(Customer.get_by_id(b.customer_id).unsubscribe_token)
    assert not service.unsubscribe("no-such-token")
    assert not service.get(b.customer_id).consent
    ledger.move("s1", SKU, -3, "sale", "sold-out", T0 + 2)
    restock("r2")
    clock[0] += 61
    assert send_back_in_stock(slow).sent == 0  # Anna was told today; Bob unsubscribed
    assert len(sent) == 2
    assert service.get(a.customer_id).consent


def make_till(tmp_path, terminal: str):
    """A till of store s1; opening it binds the till models to its database (one at a time)."""
    (tmp_path / terminal).mkdir()
    text = (f'[terminal]\nstore = "s1"\nterminal = "{terminal}"\n'
            f'signing_key = "{tmp_path / terminal / "k.pem"}"\n'
            f'[database]\npath = "{tmp_path / terminal / "db.sqlite3"}"\n'
            f'[scanner]\nloyalty_prefix = "{PREFIX}"\n')
    till = build_till(parse_config(text, "test", var_dir=str(tmp_path / terminal)))
    ensure_demo_data(till, products=10)
    till.login("1111")
    return till


def test_offers_stay_within_budget_and_two_offline_tills_are_reported(office, tmp_path):
    first = make_till(tmp_path, "t1")
    y = Product.get(Product.plu == "4")
    sku_y = sku_of(y.gtin, y.plu)
    ledger.note_product(sku_y, y.name, y.price_cents)
    eva = service.create("Eva", "eva@example.nl", "nl", "s1", consent=True, card_prefix=PREFIX)
    rich = service.create("Rich", "rich@example.nl", "nl", "s1", consent=True, card_prefix=PREFIX)
    for n, day in enumerate(("2030-01-01", "2030-01-05")):
        for m, customer in enumerate((eva, rich)):
            Purchase.create(customer_id=customer.customer_id, terminal="t9", seq=n * 10 + m,
                            line_no=1, sku=sku_y, quantity=1, day=day)
    one_offer = (y.price_cents * 50 + 50) // 100
    campaign = create_campaign("Test", dt.date.today(), dt.date.today(), 50, one_offer)
    result = compute(campaign, today=dt.date(2030, 1, 10))
    assert (result.issued, result.skipped_budget) == (1, 1)  # the budget covers one offer
    offer = Offer.get()
    card = next(c.card for c in (eva, rich) if c.customer_id == offer.customer_id)
    message = next_messages(["s1"])["s1"]
    bodies = []
    for till in (first, None):  # both offline: each sees the offer unused and grants it
        till = till or make_till(tmp_path, "t2")
        apply_message(till.db, message, applied_version, _set_version)
        till.attach_card(card)
        till.add_product(Product.get(Product.plu == "4").id)
        sale = till.pay_card(None, "R").entry
        redemption = till.journal.get(sale.seq + 1)
        assert redemption.type == "offer_redemption"
        bodies += [sale.body, redemption.body]
        till.db.close()
    for body in bodies:
        apply_entry(parse_entry(body))
    [over] = over_redemptions()
    assert (over.offer_id, over.allowed, over.redeemed) == (offer.offer_id, 1, 2)
    assert over.by_terminal == {"t1": 1, "t2": 1}
    assert over.discount_given == 2 * one_offer


def test_erasure_removes_the_person_and_unlinks_the_pseudonym(office):
    eva = fan("Eva", "eva@example.nl")
    cid = privacy.erase(eva.card)
    assert Erased.get_by_id(cid)
    assert not Favourite.select().where(Favourite.customer_id == cid).exists()
    with pytest.raises(service.CustomerError):
        service.get(cid)
    assert not service.add_favourite(cid, SKU, "till")  # a late till entry links nothing
    line = {"line_no": 1, "product_id": None, "code": SKU, "name": "X", "vat_code": "low",
            "rate_bp": 900, "unit_price": 100, "quantity": 1, "weight_g": None,
            "embedded_price": None, "original_unit_price": None, "discount": 0,
            "ticket_discount": 0, "removed": False, "stock_tracked": True, "override_by": None,
            "discount_by": None, "amount": 100, "gross": 100, "stock_units": 1}
    apply_entry(parse_entry({
        "v": 2, "type": "sale", "terminal": "t1", "seq": 5, "store": "s1", "cashier": "anna",
        "ts": "2030-01-01T10:00:00.000+01:00", "training": False,
        "data": {"customer_id": cid, "lines": [line], "vat": [], "total": 100,
                 "discount_total": 0, "ticket_discount": 0, "rounding": 0, "total_paid": 100,
                 "tenders": [], "change": 0}}))
    assert not Purchase.select().where(Purchase.customer_id == cid).exists()
    assert ledger.level("s1", SKU) == -1  # the stock still moves
    with pytest.raises(service.CustomerError, match="e-mail"):
        service.create("X", "not-an-address")
