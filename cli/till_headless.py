"""`kassa till --headless`: the till process without its screen (tests, the update
benchmark, a terminal whose display is broken). It opens and checks the journal, journals
the software start (and update), says READY=1 to systemd like the kiosk does, journals the
uplink's downstream outcomes and tells the updater that no ticket is open, until SIGTERM."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

TICK_SECONDS = 1.0


def run_headless(config: Any) -> int:
    from cli.assemble import build_till
    from firmware import sdnotify, software
    from firmware.runtime import journal_downstream, record_activity

    till = build_till(config)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    sdnotify.ready("till ready (headless)")
    told = float("-inf")
    try:
        while not stop.is_set():
            journal_downstream(till)
            if time.monotonic() - told >= software.ACTIVITY_SECONDS:  # never a ticket open
                told = time.monotonic() if record_activity(till, False) else told
            sdnotify.watchdog()
            stop.wait(TICK_SECONDS)
    finally:
        till.db.close()
    return 0
