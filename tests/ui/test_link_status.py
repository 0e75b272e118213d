"""Online/offline on the status bar comes from the fact the uplink writes (Delivery 'link'),
read by firmware/status.py (the status snapshot the UI shows), checked against a real uplink
and a real Mosquitto that goes down and comes back."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from pathlib import Path

from cli.assemble import build_till
from firmware import status
from firmware.ports import Peripherals
from firmware.runtime import TillRuntime
from firmware.status import link_state
from firmware.uplink.client import Uplink
from firmware.uplink.outbox import LINK_KEY
from tests.fixtures_till import make_config

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)


def wait_for(check: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_link_state_needs_a_recent_connected_fact() -> None:
    recent = (NOW - dt.timedelta(seconds=30)).isoformat()
    old = (NOW - dt.timedelta(minutes=10)).isoformat()
    assert link_state(False, True, recent, NOW) == "local"
    assert link_state(True, True, recent, NOW) == "online"
    assert link_state(True, True, old, NOW) == "offline"  # a killed uplink stops refreshing
    assert link_state(True, False, recent, NOW) == "offline"
    assert link_state(True, True, "", NOW) == "offline"
    assert link_state(True, True, "garbage", NOW) == "offline"
    assert status.LINK_KEY is LINK_KEY  # one definition, the uplink's


def test_status_follows_the_uplink_through_a_broker_outage(tmp_path: Path, mosquitto) -> None:  # noqa: ANN001
    broker = mosquitto()
    config = make_config(tmp_path, f"[mqtt]\nenabled = true\nport = {broker.port}\n"
                                   "keepalive = 5\nbackoff_max_seconds = 1\n")
    runtime = TillRuntime(build_till(config), Peripherals())

    def link() -> str:
        return runtime.status().link

    assert link() == "offline"  # no uplink has ever run here: not a guess of "online"
    uplink = Uplink(runtime.till.db, config.terminal.store, config.terminal.terminal, config.mqtt)
    stop = threading.Event()
    thread = threading.Thread(target=uplink.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(lambda: link() == "online", "online after the uplink connected")
        broker.stop()
        wait_for(lambda: link() == "offline", "offline while the broker is down")
        broker.start()
        wait_for(lambda: link() == "online", "online again after the broker came back")
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert link() == "offline"  # a stopped uplink says so on its way out
    assert runtime.status().backlog > 0  # no head office here: nothing was confirmed
