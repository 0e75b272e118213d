"""Poison on the downstream topics never stops the till's feed, against a real Mosquitto and
head office: a retained catalogue with a price beyond any column and versions that would
freeze the catalogue are refused, journaled in `downstream_reject`, reported in the till's
`status` and on head office's terminals page, while `kassa uplink` keeps sending sales."""

from __future__ import annotations

import html
import json
import re

import pytest

from contract import downstream as bounds
from contract import wire
from firmware.models import DownstreamReject, Meta, Product
from firmware.status import downstream_status
from headoffice import registry
from headoffice.web.queries import downstream_view
from tests.office.helpers import OfficeWeb
from tests.sealkit import OfficeKeys
from tests.uplink.harness import make_till, start_ingest, start_uplink, stop, wait_until
from tests.uplink.test_uplink_link import Listener

COLA = {"gtin": "8712345678906", "name": "Cola", "price_cents": 199, "vat_code": "low"}


def catalogue(keys: OfficeKeys, version: int, **product) -> bytes:
    """Sealed by head office: the poison is in what head office itself sent."""
    return keys.seal("catalogue", "s1", {"version": version, "mode": "full",
                                         "products": [{**COLA, **product}]})


def downstream_cell(page: str, terminal: str) -> str:
    row = next((r for r in page.split("<tr>") if f'data-version="{terminal}"' in r), "")
    cell = re.search(r'class="downstream[^"]*"[^>]*>(.*?)</td>', row, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", cell.group(1))) if cell else ""


@pytest.mark.parametrize("office_db_url", ["sqlite"], indirect=True)
def test_poison_catalogue_is_refused_reported_and_sales_keep_flowing(tmp_path, mosquitto,
                                                                     office_db_url):
    broker = mosquitto()
    keys = OfficeKeys(tmp_path / "office")
    till = make_till(tmp_path / "till", broker.port, store="s1", terminal="t1",
                     office_public_key=keys.public)
    registry.add_terminal(till.terminal, till.store, till.public_key_hex)
    till.add_entries(5)
    head_office = Listener(broker.port, wire.terminal_topic("s1", "t1", "status"))
    topic = wire.store_topic("s1", "catalogue")
    # retained: every start of the uplink gets it first
    head_office.publish(topic, catalogue(keys, 1, price_cents=9223372036854775808), retain=True)
    procs = [start_ingest(office_db_url, broker.port, workers=1), start_uplink(till)]
    web = OfficeWeb(office_db_url)
    try:
        web.login()
        wait_until(lambda: till.acked() == 5, 30, "the first sales at head office")
        wait_until(lambda: downstream_status().refused == 1, 10, "the refusal recorded")
        assert "price_cents" in downstream_status().last
        till.add_entries(5)  # selling goes on, and so does the feed
        wait_until(lambda: till.acked() == 10, 30, "the later sales at head office")
        assert procs[1].poll() is None, "kassa uplink is still running"

        # a restart meets the same retained poison: still refused, still sending
        stop(procs[1])
        procs[1] = start_uplink(till)
        till.add_entries(2)
        wait_until(lambda: till.acked() == 12, 30, "sales after a restart")
        assert procs[1].poll() is None

        # versions: beyond the bound and too far ahead are refused; a real one still applies
        head_office.publish(topic, catalogue(keys, 9223372036854775000), retain=True)
        head_office.publish(topic, catalogue(keys, bounds.MAX_VERSION_JUMP + 1), retain=True)
        wait_until(lambda: downstream_status().refused == 3, 10, "the two versions refused")
        head_office.publish(topic, catalogue(keys, 2), retain=True)
        wait_until(lambda: Product.select().where(Product.active).count() == 1, 10,
                   "the real catalogue applied")
        assert Meta.get(Meta.key == "catalogue_version").value == "2"
        head_office.publish(topic, catalogue(keys, 1))  # an old version sent again: ignored
        wait_until(lambda: downstream_status().ignored == 1, 10, "the old version ignored")

        status = json.loads(head_office.next(
            lambda m: b'"ignored":1' in m.payload and b'"refused":3' in m.payload, 20).payload)
        assert status["downstream"]["last"]["reason"].startswith("ignored: catalogue v1")
        assert status["versions"]["catalogue"] == 2
        wait_until(lambda: "3 / 1" in downstream_cell(web.get("/terminals")[1], "t1"), 20,
                   "refused/ignored counts on the terminals page")
        assert "older than the applied v2" in downstream_cell(web.get("/terminals")[1], "t1")
        reasons = [r.reason for r in DownstreamReject.select().order_by(DownstreamReject.id)]
        assert "jumps" in reasons[2] and "9223372036854775000" in reasons[1]
    finally:
        web.stop()
        for proc in procs:
            stop(proc)
        head_office.close()


def test_terminals_page_view_of_an_unreported_or_malformed_summary():
    assert downstream_view(None)["refused"] is None
    assert downstream_view({"refused": "x", "ignored": 2})["refused"] is None
    view = downstream_view({"refused": 1, "ignored": 0,
                            "last": {"kind": "prices", "reason": "bad", "at": "t"}})
    assert view["level"] == "bad" and view["last"] == "prices: bad (t)"
