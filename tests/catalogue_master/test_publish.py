"""Publishing the master: a full catalogue, then deltas, sealed with head office's key; the
version counter per store; auto mode; promotions in the contract's schema."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from contract import sealed
from contract.downstream import parse_catalogue
from contract.promotions import parse_promotions
from headoffice.catalogue.importcsv import import_csv
from headoffice.catalogue.models import CatalogueState
from headoffice.catalogue.products import ensure_dutch_deposits, find, set_price, set_store_active
from headoffice.catalogue.promotions import publish_promotions, save_promotion
from headoffice.catalogue.publish import publish_store
from headoffice.catalogue.times import parse_moment
from headoffice.models import RegisteredTerminal, TerminalState
from headoffice.signing import KEY_ENV, office_key

CSV = ["gtin;plu;name;category;vat_code;unit;age_limit;deposit;price\n",
       "8712345678906;;Pils 33cl;Bier;high;piece;18;statiegeld-015;1,29\n",
       ";42;Brood wit;Brood;low;piece;;;2,89\n",
       "4006381333931;;Cola 1,5l;Fris;low;;;statiegeld-025;2,19\n",
       ";7;Appels;Fruit;low;kg;;;\n"]  # no price yet: not sent
NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)


class Sent(list):
    def __call__(self, topic: str, payload: bytes, retain: bool) -> None:
        assert retain
        self.append((topic, payload))

    def body(self, kind: str, store: str) -> dict:
        topic, payload = self[-1]
        assert topic == f"kassa/v1/{store}/{kind}"
        opened = sealed.unseal(payload, office_key().public_key(), kind, store)
        return json.loads(opened.body)


@pytest.fixture
def master(office_db_url, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, str(tmp_path / "office_ed25519.pem"))
    ensure_dutch_deposits()
    report = import_csv(CSV, "anna", valid_from=NOW - dt.timedelta(days=1))
    assert report.errors == []
    return office_db_url


def test_full_then_delta_then_nothing(master):
    send = Sent()
    done = publish_store(send, "store1", "auto", now=NOW)
    assert (done.version, done.mode, done.products, done.unpriced) == (1, "full", 3, 1)
    body = send.body("catalogue", "store1")
    message = parse_catalogue(body)
    assert {p.name for p in message.products} == {"Pils 33cl", "Brood wit", "Cola 1,5l"}
    pils = next(p for p in message.products if p.gtin == "08712345678906")
    assert (pils.age_limit, pils.deposit.code, pils.deposit.amount_cents) == (18, "statiegeld-015", 15)

    # a planned price, a product no longer sold in store1, a new price for the apples
    set_price(find("8712345678906"), 139, parse_moment("2026-12-07 07:00"), actor="piet")
    set_store_active(find("42"), "store1", False, actor="piet")
    set_price(find("7"), 349, NOW - dt.timedelta(hours=1), actor="piet")
    done = publish_store(send, "store1", "delta", now=NOW)
    assert (done.version, done.mode, done.products, done.removed) == (2, "delta", 2, 1)
    delta = parse_catalogue(send.body("catalogue", "store1"))
    assert (delta.mode, delta.base, delta.remove) == ("delta", 1, ("42",))
    assert sorted(p.name for p in delta.products) == ["Appels", "Pils 33cl"]
    (planned,) = delta.scheduled
    assert (planned.code, planned.price_cents, planned.valid_from_text) == (
        "08712345678906", 139, "2026-12-07T07:00:00+01:00")

    assert publish_store(send, "store1", "delta", now=NOW).mode == "none"
    assert len(send) == 2
    # once Monday 07:00 has passed, the new price is the current one: a delta says so
    later = publish_store(send, "store1", "delta", now=parse_moment("2026-12-07 07:00"))
    assert (later.version, later.products) == (3, 1)
    (row,) = parse_catalogue(send.body("catalogue", "store1")).products
    assert row.price_cents == 139
    # the store's other sequence is untouched; another store counts on its own
    assert publish_store(send, "store2", "delta", now=NOW).version == 1


def test_auto_sends_a_delta_only_when_every_till_holds_the_last_version(master):
    send = Sent()
    for terminal in ("till1", "till2"):
        RegisteredTerminal.create(terminal_id=terminal, store="store1", public_key="00" * 32,
                                  enrolled="2026-12-01")
    publish_store(send, "store1", "auto", now=NOW)
    TerminalState.create(terminal="till1", store="store1",
                         status=json.dumps({"versions": {"catalogue": 1}}))
    TerminalState.create(terminal="till2", store="store1", status=json.dumps({"versions": {}}))
    set_price(find("42"), 299, NOW, actor="piet")
    assert publish_store(send, "store1", "auto", now=NOW).mode == "full"  # till2 is behind
    TerminalState.update(status=json.dumps({"versions": {"catalogue": 2}})).execute()
    set_price(find("42"), 309, NOW, actor="piet")
    done = publish_store(send, "store1", "auto", now=NOW)
    assert (done.mode, done.version, done.products) == ("delta", 3, 1)


def test_a_failed_send_records_nothing(master):
    def broken(topic: str, payload: bytes, retain: bool) -> None:
        raise TimeoutError("no PUBACK")

    with pytest.raises(TimeoutError):
        publish_store(broken, "store1", "auto", now=NOW)
    assert CatalogueState.select().count() == 0
    send = Sent()
    assert publish_store(send, "store1", "auto", now=NOW).version == 1


def test_promotions_are_published_in_the_contracts_schema(master):
    save_promotion({"id": "p-3for5", "name": "3 voor 5,00", "type": "n_for_price", "n": 3,
                    "price_cents": 500, "products": ["08712345678906", "plu:42"],
                    "weekdays": [1, 2, 3, 4, 5], "time_from": "08:00", "time_until": "12:00"},
                   "anna")
    save_promotion({"id": "p-fris", "name": "2e halve prijs", "type": "nth_percent", "n": 2,
                    "percent": 50, "categories": ["Fris"], "stores": ["store2"]}, "anna")
    send = Sent()
    done = publish_promotions(send, "store1")
    assert (done.version, done.promotions, done.sent) == (1, 1, True)
    message = parse_promotions(send.body("promotions", "store1"))
    (promo,) = message.promotions
    assert (promo.id, promo.n, promo.price_cents, promo.products) == (
        "p-3for5", 3, 500, frozenset({"08712345678906", "plu:42"}))
    assert not publish_promotions(send, "store1").sent  # unchanged
    assert len(parse_promotions(send.body("promotions", "store1")).promotions) == 1
    two = publish_promotions(send, "store2")
    assert two.promotions == 2


def test_two_publishers_at_once_never_send_one_version_twice(master):
    import threading
    import time

    from headoffice.db import database_proxy

    versions: list[int] = []
    started = threading.Event()

    def slow(topic: str, payload: bytes, retain: bool) -> None:
        versions.append(json.loads(payload.split(b"\n", 1)[1])["version"])
        started.set()
        time.sleep(0.5)  # the broker is slow: the other publisher must wait for this one

    def run() -> None:
        try:
            publish_store(slow, "store1", "full", now=NOW, force=True)
        finally:
            database_proxy.close()

    publish_store(Sent(), "store1", "full", now=NOW)  # v1: the state row exists
    threads = [threading.Thread(target=run) for _ in range(2)]
    threads[0].start()
    assert started.wait(10)
    threads[1].start()
    for thread in threads:
        thread.join(30)
    assert sorted(versions) == [2, 3]
    assert CatalogueState.get(CatalogueState.store == "store1").version == 3
