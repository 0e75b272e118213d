"""A price scheduled at head office reaches two tills through a real Mosquitto and both sell at
the new price on time: one till keeps its link, the other has lost it (its uplink is stopped)
at the moment the price takes effect. Each till's clock is a controlled one, so "on time" is
checked to the second: the old price a second before, the new one at the moment itself."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from cli.assemble import build_till
from contract import wire
from contract.config import parse_config
from firmware.sim import ensure_demo_data
from tests.sealkit import OfficeKeys
from tests.uplink.harness import Till, make_till, start_uplink, stop, wait_until
from tests.uplink.test_uplink_link import Listener

MILK = {"gtin": "8710398500014", "name": "Halfvolle melk", "price_cents": 129, "vat_code": "low"}
BREAD = {"plu": "42", "name": "Brood wit", "price_cents": 289, "vat_code": "low"}
MONDAY_7 = "2031-03-03T07:00:00+01:00"  # Monday 07:00 in Amsterdam
SWITCH = int(dt.datetime.fromisoformat(MONDAY_7).timestamp())


def held(till: Till) -> list[tuple]:
    """The till's scheduled prices, read through a connection of its own."""
    with sqlite3.connect(till.db_path) as db:
        return db.execute("SELECT price_cents, valid_from FROM scheduled_price").fetchall()


def sell_around_the_switch(till: Till) -> list[int]:
    """Milk scanned a second before the switch and at it, on one ticket; the unit prices sold."""
    config = parse_config(till.config_path.read_text(), str(till.config_path))
    service = build_till(config)
    try:
        ensure_demo_data(service, products=0)
        service.login("1111")
        now = [SWITCH - 1.0]
        service.sales.prices.clock = lambda: now[0]
        service.scan(MILK["gtin"])
        now[0] = float(SWITCH)
        service.scan(MILK["gtin"])
        sale = service.pay_cash(1000).entry.body["data"]
        return [line["unit_price"] for line in sale["lines"]]
    finally:
        service.db.close()


def test_a_scheduled_price_reaches_two_tills_and_both_switch_on_time(tmp_path: Path, mosquitto):
    broker = mosquitto()
    keys = OfficeKeys(tmp_path / "office")
    online = make_till(tmp_path / "online", broker.port, store="s1", terminal="t1",
                       office_public_key=keys.public)
    offline = make_till(tmp_path / "offline", broker.port, store="s1", terminal="t2",
                        office_public_key=keys.public)
    head_office = Listener(broker.port, wire.store_topic("s1", "catalogue"))
    head_office.publish(wire.store_topic("s1", "catalogue"), keys.seal("catalogue", "s1", {
        "version": 1, "mode": "full", "products": [MILK, BREAD],
        "scheduled": [{"code": MILK["gtin"], "price_cents": 139, "valid_from": MONDAY_7}],
    }), retain=True)
    uplinks = {name: start_uplink(till) for name, till in
               (("online", online), ("offline", offline))}
    try:
        for till in (online, offline):
            wait_until(lambda till=till: held(till) == [(139, SWITCH)], 30,
                       f"the scheduled price held at {till.terminal}")
        stop(uplinks.pop("offline"))  # this till has no link from here on
        assert uplinks["online"].poll() is None and broker.running
        assert sell_around_the_switch(online) == [129, 139]
        assert sell_around_the_switch(offline) == [129, 139]
        for till in (online, offline):
            assert held(till) == []  # switched, nothing left to switch
            with sqlite3.connect(till.db_path) as db:
                assert db.execute("SELECT price_cents FROM product WHERE gtin = ?",
                                  ("0" + MILK["gtin"],)).fetchone() == (139,)
    finally:
        for proc in uplinks.values():
            stop(proc)
        head_office.close()
