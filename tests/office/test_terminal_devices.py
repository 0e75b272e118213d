"""Printer, drawer and scanner states from the till's drivers to head office's terminals page:
drivers -> the till's recorder (database) -> the uplink's retained `status` -> Mosquitto ->
ingest -> `kassa office web` /terminals."""

from __future__ import annotations

import html
import json
import re

from cli import wiring
from contract.config import load_config
from firmware import device_state
from headoffice import registry
from headoffice.models import TerminalState
from headoffice.web.queries import device_view
from tests.office.helpers import OfficeWeb
from tests.uplink.harness import make_till, start_ingest, start_uplink, stop, wait_until


def _cells(page: str, terminal: str) -> dict[str, str]:
    """The device cells of one terminal's row: name -> visible text (the state, in Dutch).
    Empty while the terminal has no row yet (ingest has not stored its first status)."""
    row = next((r for r in page.split("<tr>") if f'data-version="{terminal}"' in r), "")
    found = re.findall(r'data-device="(\w+)"[^>]*>(.*?)</td>', row, re.S)
    return {name: html.unescape(re.sub(r"<[^>]+>", "", text)).strip() for name, text in found}


def _details(page: str, terminal: str) -> dict[str, str]:
    """The device cells' tooltips: the till's own detail and since when."""
    row = next((r for r in page.split("<tr>") if f'data-version="{terminal}"' in r), "")
    found = re.findall(r'data-device="(\w+)" title="([^"]*)"', row)
    return {name: html.unescape(title) for name, title in found}


def test_device_states_travel_from_the_drivers_to_the_terminals_page(tmp_path, mosquitto,
                                                                     office_db_url):
    broker = mosquitto()
    till = make_till(tmp_path / "till", broker.port, store="s1", terminal="t1")
    registry.add_terminal(till.terminal, till.store, till.public_key_hex)
    till.add_entries(3)
    recorder = device_state.Recorder(till.db)  # what `kassa till` wires to every driver
    devices, sims = wiring.build_simulated(load_config(str(till.config_path)), recorder)
    devices.scanner.start(lambda _code: None)
    sims.printer.simulate("paper_out")
    procs = [start_ingest(office_db_url, broker.port, workers=1), start_uplink(till)]
    web = OfficeWeb(office_db_url)
    try:
        web.login()
        status, page = web.get("/terminals")
        assert status == 200

        def cells() -> dict[str, str]:
            return _cells(web.get("/terminals")[1], "t1")

        wait_until(lambda: cells().get("printer", "").startswith("papier op"), 20,
                   "the printer fault on the terminals page")
        shown = cells()
        assert "out of paper" in _details(web.get("/terminals")[1], "t1")["printer"]
        assert shown["scanner"].startswith("verbonden")
        assert shown["drawer"] == "dicht"
        stored = json.loads(TerminalState.get(TerminalState.terminal == "t1").status)
        assert stored["devices"]["printer"]["state"] == "paper_out"

        sims.printer.simulate("")  # paper loaded
        devices.drawer.open()  # the simulated drawer stays open until pushed closed
        wait_until(lambda: cells().get("printer") == "gereed" and cells().get("drawer") == "open",
                   20, "paper loaded and the drawer open on the page")
    finally:
        web.stop()
        for proc in procs:
            stop(proc)
        devices.close()


def test_an_unreported_or_malformed_device_is_unknown():
    assert device_view(None)["state"] == "unknown"
    assert device_view({"state": 3})["state"] == "unknown"
    assert device_view({"state": "ready", "since": "x"})["level"] == "ok"
    assert device_view({"state": "open", "detail": "left open longer than 60 s"})["level"] == "bad"
    assert device_view({"state": "cover_open", "detail": "close it"})["level"] == "bad"


def test_recorder_writes_changes_only_and_never_raises(tmp_path):
    from firmware.db import open_database

    db = open_database(tmp_path / "kassa.sqlite3")
    recorder = device_state.Recorder(db)
    recorder("printer", "ready", "")
    first = device_state.read_all(db)["printer"]
    recorder("printer", "ready", "")  # unchanged: not written again
    assert device_state.read_all(db)["printer"] == first
    recorder.till_event("device", {"device": "drawer", "state": "error", "detail": "jammed"})
    recorder.till_event("committed", {"seq": 1})
    assert device_state.read_all(db)["drawer"]["detail"] == "jammed"
    db.execute_sql("INSERT INTO meta (key, value) VALUES ('device:scanner', 'not json')")
    assert set(device_state.read_all(db)) == {"printer", "drawer"}
    db.execute_sql("DROP TABLE meta")
    recorder("printer", "paper_out", "")  # a failing write is logged, never raised in a driver
    db.close()
