"""End to end with real parts: a till sells a product to zero at shop A, goods received
restock it, head office mails each consenting customer exactly once (aiosmtpd), an offer
computed at head office reaches the till over a real Mosquitto, is applied to a sale while
the broker is down, and the redemption reaches head office once the broker is back."""

from __future__ import annotations

import datetime as dt
import email
import threading

import pytest
from aiosmtpd.controller import Controller

from cli.assemble import build_till
from contract.cards import card_number
from contract.config import parse_config
from contract.product_key import sku_of
from firmware.models import LocalCustomer, LocalOffer, Product
from firmware.permissions import Action
from firmware.sim import ensure_demo_data
from headoffice import privacy, registry
from headoffice.broker import BrokerSettings, publisher
from headoffice.customers import service
from headoffice.customers.models import Customer
from headoffice.db import database_proxy, open_office_db
from headoffice.journal_feed import apply_journal
from headoffice.models import OfficeEntry
from headoffice.notify.backinstock import send_back_in_stock
from headoffice.notify.mailer import Mailer, MailSettings
from headoffice.offers.compute import compute, create_campaign
from headoffice.offers.models import Offer, Redemption
from headoffice.offers.publish import client_id, next_messages, publish
from headoffice.offers.redeem import over_redemptions
from headoffice.stock import ledger
from tests.fixtures_services import free_port
from tests.sealkit import office_keys
from tests.uplink.harness import start_ingest, start_uplink, stop, wait_until

PREFIX = "299"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


class Tills:
    """The till of shop A as `kassa till` runs it, plus its uplink process."""

    def __init__(self, tmp, broker_port: int, office_key: str = "",
                 terminal: str = "tillA1") -> None:
        tmp.mkdir()
        self.path = tmp / "kassa.toml"
        text = (f'[terminal]\nstore = "shopA"\nterminal = "{terminal}"\n'
                f'signing_key = "{tmp / "journal.pem"}"\n'
                f'[database]\npath = "{tmp / "kassa.sqlite3"}"\n'
                f'[scanner]\nloyalty_prefix = "{PREFIX}"\n'
                f'[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {broker_port}\n'
                f"keepalive = 5\nresend_seconds = 2\nbackoff_max_seconds = 1\n"
                f"{office_key}")
        self.path.write_text(text)
        self.till = build_till(parse_config(text, str(self.path), var_dir=str(tmp / "var")))
        ensure_demo_data(self.till, products=30)

    def head(self) -> int:
        return self.till.journal.head()[0]

    def acked(self) -> int:
        row = self.till.db.execute_sql("SELECT acked_seq FROM delivery WHERE key='ack'").fetchone()
        return row[0] if row else 0


def test_customer_story(tmp_path, mosquitto, smtp, monkeypatch):
    inbox, smtp_port = smtp
    broker = mosquitto()
    url = str(tmp_path / "office.sqlite3")
    db = open_office_db(url)
    keys = office_keys(tmp_path, monkeypatch)  # head office seals the offers with it
    shop = Tills(tmp_path / "tillA1", broker.port, keys.mqtt_line())
    till = shop.till
    registry.add_terminal("tillA1", "shopA", till.journal.public_key.public_bytes_raw().hex())
    x = Product.get(Product.plu == "3")  # the favourite that runs out
    y = Product.get(Product.plu == "4")  # what Eva buys regularly
    sku_x, sku_y = sku_of(x.gtin, x.plu), sku_of(y.gtin, y.plu)

    eva = service.create("Eva de Vries", "eva@example.nl", "nl", "shopA", consent=True,
                         consent_source="till", card=card_number(PREFIX, 1))
    john = service.create("John Smith", "john@example.com", "en", "shopA", consent=True,
                          card_prefix=PREFIX)
    piet = service.create("Piet Jansen", "piet@example.nl", "nl", "shopA", consent=False,
                          card_prefix=PREFIX)
    lisa = service.create("Lisa Bakker", "lisa@example.nl", "nl", "shopB", consent=True,
                          card_prefix=PREFIX)
    for customer in (eva, john, piet, lisa):
        assert service.add_favourite(customer.customer_id, sku_x, "office")
    target = BrokerSettings(port=broker.port)
    with publisher(target, client_id()) as send:
        assert publish(next_messages(["shopA"]), send) == 1

    ingest = start_ingest(url, broker.port, workers=1, prefix="story-ingest")
    uplink = start_uplink_for(shop)
    try:
        wait_until(lambda: LocalCustomer.select().count() == 4, 30, "the customers at the till")
        till.login("1111")
        # Eva's history: Y on two earlier days (her card scanned), for the offer below
        for days_ago in (9, 2):
            day = dt.datetime.now().astimezone() - dt.timedelta(days=days_ago)
            till.journal.clock = lambda day=day: day.isoformat(timespec="milliseconds")
            assert till.scan(eva.card) is None
            till.add_product(y.id)
            till.pay_card(None, f"R{days_ago}")
        till.journal.clock = lambda: dt.datetime.now().astimezone().isoformat(
            timespec="milliseconds")
        # shop A counts 2 of X, then sells both: none left
        till.stock_count([(x.id, 2)], approval=till.approve("9999", Action.STOCK))
        till.add_product(x.id, quantity=2)
        till.pay_cash(10_000)
        sync_office(shop)
        assert ledger.level("shopA", sku_x) == 0
        assert send_back_in_stock(mailer(smtp_port)).sent == 0

        # goods received: X is back, and exactly the consenting shop-A fans hear of it
        till.goods_received([(x.id, 5)], supplier="Groothandel",
                            approval=till.approve("9999", Action.STOCK))
        sync_office(shop)
        assert ledger.level("shopA", sku_x) == 5
        result = send_back_in_stock(mailer(smtp_port))
        assert (result.sent, result.failed) == (2, 0)
        assert send_back_in_stock(mailer(smtp_port)).sent == 0  # never twice for this restock
        wait_until(lambda: len(inbox.messages) == 2, 10, "two mails at the SMTP server")
        by_to = {m["To"]: m for m in inbox.messages}
        assert set(by_to) == {"Eva de Vries <eva@example.nl>", "John Smith <john@example.com>"}
        nl = by_to["Eva de Vries <eva@example.nl>"]
        assert "weer op voorraad" in nl["Subject"] and x.name in nl["Subject"]
        token = Customer.get_by_id(eva.customer_id).unsubscribe_token
        assert f"/unsubscribe/{token}" in nl.get_payload(decode=True).decode()
        assert token in nl["List-Unsubscribe"]
        assert "back in stock" in by_to["John Smith <john@example.com>"]["Subject"]

        # an offer computed at head office from Eva's history reaches the till
        today = dt.date.today()
        campaign = create_campaign("Spring", today, today + dt.timedelta(days=13), 25, 10_000)
        assert compute(campaign).issued >= 1
        offer = Offer.get(Offer.customer_id == eva.customer_id)
        assert (offer.sku, offer.reason) == (sku_y, "regular")
        with publisher(target, client_id()) as send:
            assert publish(next_messages(["shopA"]), send) == 1
        wait_until(lambda: LocalOffer.select().where(LocalOffer.offer_id == offer.offer_id)
                   .exists(), 30, "the offer at the till")

        # the broker goes down; the till still applies the offer, offline
        broker.stop()
        head_before = shop.head()
        till.scan(eva.card)
        line = till.add_product(y.id)
        expected = (y.price_cents * 25 + 50) // 100
        assert till.ticket.line(line.line_no).discount == expected
        sale = till.pay_card(None, "OFFLINE1").entry
        assert sale.body["data"]["lines"][0]["discount_by"] == f"offer:{offer.offer_id}"
        assert shop.head() == head_before + 2  # the sale and its offer_redemption
        assert shop.acked() < shop.head()

        # the broker is back: the redemption reaches head office
        broker.start()
        wait_until(lambda: shop.acked() == shop.head(), 60, "the backlog to drain")
        apply_journal()
        redemption = Redemption.get(Redemption.offer_id == offer.offer_id)
        assert (redemption.terminal, redemption.discount) == ("tillA1", expected)
        assert over_redemptions() == []

        # GDPR erasure: the person goes, the fiscal journal stays verifiable and untouched
        entries_before = OfficeEntry.select().count()
        privacy.erase(eva.customer_id)
        assert Customer.get_or_none(Customer.customer_id == eva.customer_id) is None
        assert OfficeEntry.select().count() == entries_before
        assert OfficeEntry.select().where(OfficeEntry.body.contains(eva.customer_id)).count() >= 3
        assert not OfficeEntry.select().where(OfficeEntry.body.contains("Eva")).exists()
        with publisher(target, client_id()) as send:
            publish(next_messages(["shopA"]), send)
        wait_until(lambda: not LocalCustomer.select().where(
            LocalCustomer.customer_id == eva.customer_id).exists(), 30, "the card off the till")
        assert till.journal.verify().ok
        # with ingest, the uplink and this process still holding the databases open, no file
        # or WAL of head office or the till keeps her name, address or card
        files = [p for p in tmp_path.rglob("*.sqlite3*") if p.is_file()]
        assert len(files) >= 2

        def traces() -> list[str]:
            found = []
            for path in files:
                raw = path.read_bytes() if path.exists() else b""
                found += [f"{needle} in {path}" for needle in ("Eva de Vries", "eva@example.nl",
                                                                eva.card) if needle.encode() in raw]
            return found

        # the till checkpoints its WAL right after the commit that dropped her: give it that
        try:
            wait_until(lambda: not traces(), 15, "her name, address and card gone from every file")
        except AssertionError:
            raise AssertionError(f"still on disk: {traces()}") from None
    finally:
        stop(uplink)
        stop(ingest)
        till.db.close()
        db.close()
        database_proxy.initialize(None)


def start_uplink_for(shop: Tills):
    class _Till:  # what harness.start_uplink needs
        config_path = shop.path

    return start_uplink(_Till)


def mailer(port: int) -> Mailer:
    return Mailer(MailSettings(port=port, base_url="https://shop.example", max_per_minute=10))


def sync_office(shop: Tills) -> None:
    wait_until(lambda: shop.acked() == shop.head(), 30, "head office to confirm the journal")
    apply_journal()
