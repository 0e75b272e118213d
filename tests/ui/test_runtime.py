"""The till runtime (firmware/runtime.py) without a window: it owns the scanner, hands each code
to the till service on the UI's thread, tells refusals once as typed events, and gives the
status bar one snapshot."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cli import wiring
from cli.assemble import OpenedJournal, build_till, open_terminal
from cli.till import StateRelay
from firmware.errors import NotLoggedIn, UnknownProduct
from firmware.ports import Peripherals
from firmware.runtime import TillRuntime
from firmware.sim import ensure_demo_data, make_gtin
from firmware.status import DeviceStatus, TillStatus
from tests.fixtures_till import make_config


class UiThread:
    """The UI clock for a test: calls are queued and run when the test says so, and the
    thread they were handed over from is remembered."""

    def __init__(self) -> None:
        self.calls: list[Callable[[], None]] = []
        self.from_threads: list[str] = []
        self.ready = threading.Event()

    def schedule_once(self, callback: Callable[[float], None], timeout: float = 0) -> None:
        self.from_threads.append(threading.current_thread().name)
        self.calls.append(lambda: callback(0.0))
        self.ready.set()

    def run(self) -> None:
        calls, self.calls = self.calls, []
        for call in calls:
            call()


def wait_for(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def rig(tmp_path: Path):  # noqa: ANN201
    config = make_config(tmp_path, "[drawer]\nopen_alert_seconds = 1\n")
    relay = StateRelay()
    peripherals, sims = wiring.build_simulated(config, relay)
    till = build_till(config, drawer=peripherals.drawer)
    ensure_demo_data(till, products=30)
    runtime = TillRuntime(till, peripherals)
    relay.attach(runtime.device_report)
    events: list[tuple[str, dict[str, Any]]] = []
    till.subscribe(lambda event, data: events.append((event, data)))
    ui = UiThread()
    yield runtime, sims, events, ui
    runtime.close()
    till.db.close()


def test_a_scan_goes_from_the_scanner_thread_through_the_ui_thread_to_the_till(rig) -> None:
    runtime, sims, events, ui = rig
    runtime.till.login("1111")
    runtime.start(ui)
    sims.scanner.inject(make_gtin(1))
    assert ui.ready.wait(5)
    assert ui.from_threads == ["scanner-sim"] and runtime.till.ticket.is_empty  # not yet
    ui.run()
    assert [line.name for line in runtime.till.ticket.active_lines] == ["Brood 1"]
    assert ("ticket", {"action": "add", "line_no": 1}) in events


def test_the_quantity_key_applies_to_the_next_scan_only(rig) -> None:
    runtime, _sims, _events, _ui = rig
    runtime.till.login("1111")
    runtime.next_quantity = 6
    runtime.scan(make_gtin(2))
    runtime.scan(make_gtin(3))
    assert [line.quantity for line in runtime.till.ticket.active_lines] == [6, 1]
    assert runtime.next_quantity == 1


def test_every_refusal_is_one_typed_scan_rejected_event(rig) -> None:
    runtime, _sims, events, _ui = rig
    runtime.scan(make_gtin(1))  # nobody logged in: the service does not tell this one itself
    runtime.till.login("1111")
    runtime.scan(make_gtin(99999))  # a valid GTIN no product carries
    rejected = [data for event, data in events if event == "scan_rejected"]
    assert [type(data["error"]) for data in rejected] == [NotLoggedIn, UnknownProduct]
    assert [data["code"] for data in rejected] == [make_gtin(1), make_gtin(99999)]
    assert runtime.till.ticket.is_empty


def test_a_screen_can_claim_the_codes(rig) -> None:
    runtime, _sims, events, _ui = rig
    runtime.till.login("1111")
    claimed: list[str] = []
    runtime.claim_scans(claimed.append)
    runtime.scan("KASSA1|s1|t1|7|abcd")
    assert claimed == ["KASSA1|s1|t1|7|abcd"] and runtime.till.ticket.is_empty
    runtime.claim_scans(None)
    runtime.scan(make_gtin(1))
    assert len(runtime.till.ticket.active_lines) == 1


def test_status_is_one_snapshot_with_the_device_states(rig) -> None:
    runtime, sims, events, _ui = rig
    status = runtime.status()
    assert isinstance(status, TillStatus)
    assert (status.cashier, status.link, status.training) == ("", "local", False)
    assert status.backlog >= 1  # software_start and the demo data, nothing confirmed
    assert status.printer == DeviceStatus("ready") and status.drawer == DeviceStatus("closed")
    runtime.till.drawer.open()
    wait_for(lambda: runtime.status().drawer.state == "open_too_long", 5)
    assert runtime.status().drawer.params == {"seconds": 1}
    sims.drawer.push_closed()
    wait_for(lambda: runtime.status().drawer.state == "closed")
    devices = [(d["device"], d["state"]) for e, d in events if e == "device"]
    assert ("drawer", "open_too_long") in devices and devices[-1] == ("drawer", "closed")
    sims.printer.simulate("paper_out")
    assert runtime.status().printer.state == "paper_out"


def test_a_device_not_fitted_is_none(tmp_path: Path) -> None:
    runtime = TillRuntime(build_till(make_config(tmp_path)), Peripherals())
    status = runtime.status()
    assert (status.printer.state, status.drawer.state, status.scanner.state) == ("none",) * 3
    runtime.start(UiThread())  # no scanner: nothing to start
    runtime.close()


def test_stop_releases_the_scanner(rig) -> None:
    runtime, sims, _events, ui = rig
    runtime.start(ui)
    assert sims.scanner.state == "connected"
    runtime.stop()
    assert sims.scanner.state == "disconnected"


def test_the_opened_journal_is_what_the_till_is_built_on(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    opened = open_terminal(config)
    assert isinstance(opened, OpenedJournal) and opened.config is config
    till = build_till(config, opened=opened)
    assert till.journal is opened.journal
    assert till.journal.head()[0] == 1  # the software start
