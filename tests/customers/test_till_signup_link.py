"""A sign-up travels from the till to head office over a real Mosquitto: `kassa uplink`
publishes it on the terminal's `signup` topic, `kassa office ingest` creates the customer
with the consent log and acknowledges it, and the till deletes it (no byte of the address
left in its database file or WAL). With the broker down the sign-up waits in the outbox and
goes out when the broker is back; the journal never holds the address. A customer erased at
head office while a till still holds a second sign-up of theirs is not signed up again."""

from __future__ import annotations

from firmware.models import JournalEntry, PendingSignup
from headoffice import privacy, registry
from headoffice.broker import BrokerSettings, publisher
from headoffice.customers import service
from headoffice.customers.models import Customer, TillSignup
from headoffice.db import database_proxy, open_office_db
from headoffice.offers.publish import client_id, next_messages, publish
from tests.customers.test_customer_story import Tills, start_uplink_for
from tests.sealkit import office_keys
from tests.uplink.harness import start_ingest, stop, wait_until

EMAIL, OFFLINE_EMAIL = "noor.vd.berg@example.nl", "sem.offline@example.com"


def test_sign_up_reaches_head_office_and_leaves_the_till(tmp_path, mosquitto, monkeypatch):
    broker = mosquitto()
    url = str(tmp_path / "office.sqlite3")
    db = open_office_db(url)
    keys = office_keys(tmp_path, monkeypatch)  # head office seals the offers message with it
    shop = Tills(tmp_path / "tillA1", broker.port, keys.mqtt_line())
    till = shop.till
    registry.add_terminal("tillA1", "shopA", till.journal.public_key.public_bytes_raw().hex())
    ingest = start_ingest(url, broker.port, workers=1, prefix="signup-ingest")
    uplink = start_uplink_for(shop)
    till_files = list((tmp_path / "tillA1").glob("kassa.sqlite3*"))

    def on_till(needle: str) -> list[str]:
        return [p.name for p in (tmp_path / "tillA1").glob("kassa.sqlite3*")
                if p.exists() and needle.encode() in p.read_bytes()]

    try:
        till.login("1111")
        receipt = till.sign_up(EMAIL, "Noor van den Berg", consent=True)
        wait_until(lambda: Customer.get_or_none(Customer.email == EMAIL) is not None, 30,
                   "the customer at head office")
        noor = service.get(EMAIL)
        assert (noor.name, noor.consent, noor.home_store) == ("Noor van den Berg", True, "shopA")
        [log] = service.consent_log(noor.customer_id)
        assert (log.source, log.recorded_by, log.text_version) == (
            "till", "Sanne (shopA/tillA1)", "2026-1")
        assert TillSignup.get_by_id(receipt.signup_id).outcome == "created"
        wait_until(lambda: PendingSignup.select().count() == 0, 30, "the till's acknowledgement")
        wait_until(lambda: not on_till(EMAIL), 15, "the address gone from the till's files")
        assert till_files and not on_till("Noor van den Berg")

        # offline: it waits in the outbox, then goes when the broker is back
        broker.stop()
        offline = till.sign_up(OFFLINE_EMAIL, "", consent=False)
        assert PendingSignup.select().count() == 1
        broker.start()
        wait_until(lambda: PendingSignup.select().count() == 0, 60, "the offline sign-up taken")
        sem = service.get(OFFLINE_EMAIL)
        assert (sem.name, sem.consent) == ("", False)
        assert [(c.consent, c.source) for c in service.consent_log(sem.customer_id)] == [
            (False, "till")]
        assert TillSignup.get_by_id(offline.signup_id).customer_id == sem.customer_id
        assert Customer.select().count() == 2  # each sign-up taken once, resends or not
        assert not JournalEntry.select().where(JournalEntry.body.contains("@")).exists()
        wait_until(lambda: not on_till(OFFLINE_EMAIL), 15, "the second address gone too")

        # Sem signs up again at the offline till, then is erased at head office: the
        # erasure's `forget` list (offers message) or head office itself drops the sign-up
        broker.stop()
        till.sign_up(OFFLINE_EMAIL, "Sem", consent=True)
        assert on_till(OFFLINE_EMAIL)
        privacy.erase(OFFLINE_EMAIL)
        broker.start()
        with publisher(BrokerSettings(port=broker.port), client_id()) as send:
            assert publish(next_messages(["shopA"]), send) == 1
        wait_until(lambda: PendingSignup.select().count() == 0, 60, "the sign-up dropped")
        wait_until(lambda: not on_till(OFFLINE_EMAIL), 15, "the address gone from the till")
        assert Customer.get_or_none(Customer.email == OFFLINE_EMAIL) is None
        assert Customer.select().count() == 1
    finally:
        stop(uplink)
        stop(ingest)
        till.db.close()
        db.close()
        database_proxy.initialize(None)
