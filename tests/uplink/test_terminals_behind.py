"""The terminals page shows which tills are behind what head office published: two tills of
one store over a real Mosquitto, one stopped while a new catalogue goes out."""

from __future__ import annotations

import html
import re

from contract import wire
from headoffice import registry
from headoffice.broker import BrokerSettings, publisher
from headoffice.downstream_models import DownstreamPublished
from headoffice.downstream_send import send_downstream
from headoffice.web.queries import mark_behind
from tests.office.helpers import OfficeWeb
from tests.sealkit import OfficeKeys, office_keys
from tests.uplink.harness import make_till, start_ingest, start_uplink, stop, wait_until
from tests.uplink.test_poison_downstream import downstream_cell

COLA = {"gtin": "8712345678906", "name": "Cola", "price_cents": 199, "vat_code": "low"}


def versions_cell(page: str, terminal: str) -> str:
    row = next((r for r in page.split("<tr>") if f'data-version="{terminal}"' in r), "")
    cell = re.search(r'data-behind="[^"]*"[^>]*>(.*?)</span></td>', row, re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell.group(1))).split()) if cell else ""


def catalogue(version: int, price: int) -> dict:
    return {"version": version, "mode": "full", "products": [{**COLA, "price_cents": price}]}


def test_a_till_that_missed_a_catalogue_is_shown_behind(tmp_path, mosquitto, office_db_url,
                                                        monkeypatch):
    broker = mosquitto()
    keys = office_keys(tmp_path, monkeypatch)
    tills = [make_till(tmp_path / name, broker.port, store="s1", terminal=name,
                       office_public_key=keys.public) for name in ("ta", "tb")]
    for till in tills:
        registry.add_terminal(till.terminal, till.store, till.public_key_hex)
        till.add_entries(2)
    procs = [start_ingest(office_db_url, broker.port, workers=1),
             *[start_uplink(till) for till in tills]]
    web = OfficeWeb(office_db_url)
    target = BrokerSettings(port=broker.port)
    try:
        web.login()

        def cell(terminal: str) -> str:
            return versions_cell(web.get("/terminals")[1], terminal)

        with publisher(target, "test-office") as send:
            send_downstream(send, "catalogue", "s1", catalogue(1, 199))
        wait_until(lambda: cell("ta") == "bij" and cell("tb") == "bij", 30,
                   "both tills up to date with catalogue v1")
        stop(procs[2])  # till tb goes offline
        with publisher(target, "test-office") as send:
            send_downstream(send, "catalogue", "s1", catalogue(2, 219))
        assert DownstreamPublished.get(store="s1", sequence="catalogue").version == 2
        wait_until(lambda: cell("tb").startswith("achter") and cell("ta") == "bij", 30,
                   "tb behind, ta up to date")
        assert "assortiment v1 < v2" in cell("tb")

        procs[2] = start_uplink(tills[1])  # back online: the retained v2 reaches it
        wait_until(lambda: cell("tb") == "bij", 30, "tb caught up")

        # a catalogue sealed with a key head office never had: refused, shown per till
        forged = OfficeKeys(tmp_path / "intruder").seal("catalogue", "s1", catalogue(3, 1))
        with publisher(target, "test-intruder") as send:
            send(wire.store_topic("s1", "catalogue"), forged, True)
        wait_until(lambda: all("1 / 0" in downstream_cell(web.get("/terminals")[1], name)
                               for name in ("ta", "tb")), 30, "the refusal on the page")
        assert "forged" in downstream_cell(web.get("/terminals")[1], "ta")
        assert cell("ta") == "bij"  # nothing of it applied
    finally:
        web.stop()
        for proc in procs:
            stop(proc)


def test_behind_without_a_published_record_is_judged_against_the_other_tills():
    rows = [{"store": "s9", "terminal": "a", "versions": {"catalogue": 4, "offers": 2}},
            {"store": "s9", "terminal": "b", "versions": {"catalogue": 3}},
            {"store": "s9", "terminal": "c", "versions": {}}]
    mark_behind(rows, published={})
    assert rows[0]["behind"] == []
    assert rows[1]["behind"] == [("catalogue", 3, 4), ("offers", None, 2)]
    assert rows[2]["behind"] is None  # it never said what it holds
