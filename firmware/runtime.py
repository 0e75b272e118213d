"""The running till: how it starts, and who owns the peripherals while it runs.

`start_till` is what every entry point (`kassa till`, `kassa sim`, the tests, through
cli/assemble.py) does before anything is sold: the journal is checked and the software start
is journaled.

`TillRuntime` is what the kiosk runs on: it starts and stops the scanner and hands every
scanned code straight to the till service, so a scan goes scanner driver -> this module ->
TillService.scan -> the services and the kernel without passing through the UI. The UI
gives it one way to run a call on its own thread (Kivy's Clock) and reads one status
snapshot from it.

What the uplink did with head office's messages is journaled here (firmware/downstream_log.py),
and head office's config taken into the running till (firmware/remote_config.py): at start,
and from the status refresh every PICKUP_SECONDS.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from firmware import downstream_log, integrity, software
from firmware.ports import Peripherals
from firmware.status import TillStatus, snapshot
from firmware.till import TillError, TillService

log = logging.getLogger(__name__)
PICKUP_SECONDS = 5.0  # how often the status refresh journals the uplink's downstream events


class UiClock(Protocol):
    """The UI toolkit's clock (Kivy's `Clock`): runs a callback on the UI's thread soon. The
    runtime hands every scanned code over through it, so a scan never passes through ui/."""

    def schedule_once(self, callback: Callable[[float], None], timeout: float = 0) -> Any:
        """Calls callback(dt) on the UI's thread after `timeout` seconds (0: the next frame)."""


def start_till(till: TillService) -> None:
    """What every start does before anything is sold: the fast journal check (an alarm
    blocks selling until a manager acknowledges it; `kassa journal verify` checks every
    signature) and the software start, journaled."""
    problems = integrity.check(till.journal)
    if problems:
        till.journal_alarm = integrity.describe(problems)
        till.journal_alarm_codes = integrity.as_dicts(problems)
        log.error("%s", till.journal_alarm)
    software.journal_start(till.journal, till.config.source)
    journal_downstream(till)
    take_config(till, starting=True)


def take_config(till: TillService, starting: bool = False) -> bool:
    """Head office's config, taken into the running till (firmware/remote_config.py); a
    failure is logged and tried again at the next pickup, never stops the till."""
    try:
        if starting:
            return till.remote_config.start()
        return till.remote_config.poll()
    except Exception:
        log.exception("head office's config not taken in yet; tried again later")
        return False


def ticket_open(till: TillService) -> bool:
    ticket = till.sales.ticket
    return bool(ticket.lines or ticket.tenders)


def record_activity(till: TillService, is_open: bool) -> bool:
    """Tells the updater whether a ticket is open (firmware/software.py); never stops the
    till: a busy database is tried again at the next refresh. True when written."""
    try:
        software.record_activity(till.db, is_open)
        return True
    except Exception:
        log.exception("till activity not recorded; tried again later")
        return False


def journal_downstream(till: TillService) -> int:
    """Journals what the uplink applied or refused since the last pickup
    (firmware/downstream_log.py); a failure is logged and tried again at the next pickup,
    never stops the till."""
    try:
        return downstream_log.journal_waiting(till.kernel)
    except Exception:
        log.exception("downstream outcomes not journaled yet; tried again later")
        return 0


class TillRuntime:
    """The till service and its one set of peripherals, while the till runs.

    Scanned codes arrive on the scanner's thread and are handed to the UI's thread (where
    every till call of the kiosk runs) before the service sees them. A screen that wants the
    raw codes for itself (a voucher code, a receipt to refund) claims them for as long as it
    is shown; otherwise a code goes to TillService.scan, and a refusal reaches the till's
    listeners as one 'scan_rejected' event with the typed error. The × key's quantity applies
    to the next scan. Device state reports reach the till's listeners as 'device' events."""

    def __init__(self, till: TillService, peripherals: Peripherals,
                 pickup_seconds: float = PICKUP_SECONDS) -> None:
        self.till = till
        self.pickup_seconds = pickup_seconds
        self.peripherals = peripherals
        self.next_quantity = 1
        self._claim: Callable[[str], None] | None = None
        self._started = False
        self._next_pickup = 0.0
        self._activity: bool | None = None  # the ticket state last recorded for the updater
        self._activity_at = float("-inf")

    # --- the scanner ---------------------------------------------------------------------
    def start(self, ui_clock: UiClock) -> None:
        """Starts the scanner; raises what the scanner raises (the UI shows it, the till runs
        on without a scanner)."""
        scanner = self.peripherals.scanner
        if scanner is None or self._started:
            return

        def on_code(code: str) -> None:  # the scanner's thread: hand over, touch nothing
            ui_clock.schedule_once(lambda _dt: self.scan(code))

        scanner.start(on_code)
        self._started = True

    def stop(self) -> None:
        scanner = self.peripherals.scanner
        if scanner is not None and self._started:
            self._started = False
            try:
                scanner.stop()
            except Exception:
                log.exception("scanner stop failed")

    def claim_scans(self, handler: Callable[[str], None] | None) -> None:
        """The raw codes go to `handler` instead of the till (None gives them back)."""
        self._claim = handler

    def scan(self, code: str) -> None:
        """One scanned (or typed) code, on the UI's thread."""
        claim = self._claim
        if claim is not None:
            claim(code)
            return
        quantity, self.next_quantity = self.next_quantity, 1
        try:
            line = self.till.scan(code)
        except TillError:
            return  # the till announced it as scan_rejected with the typed error
        if line is not None and quantity != 1:
            try:
                self.till.set_quantity(line.line_no, quantity)
            except TillError as exc:
                self.till.emit("scan_rejected", code=code, reason=str(exc), error=exc)

    def take_quantity(self) -> int:
        """The × key's quantity for an item added by hand (it is used up, as by a scan)."""
        quantity, self.next_quantity = self.next_quantity, 1
        return quantity

    # --- devices and status --------------------------------------------------------------
    def device_report(self, device: str, state: str, detail: str) -> None:
        """The wiring's on_state(device, state, detail), called on driver threads: the till's
        listeners (the UI, the state recorder for the uplink) get it as a 'device' event."""
        self.till.emit("device", device=device, state=state, detail=detail)

    def status(self, now: dt.datetime | None = None) -> TillStatus:
        """One snapshot for the status bar (firmware/status.py); every `pickup_seconds` it
        also journals what the uplink did with head office's messages meanwhile."""
        if time.monotonic() >= self._next_pickup:
            self._next_pickup = time.monotonic() + self.pickup_seconds
            journal_downstream(self.till)
            take_config(self.till)
        self.tell_activity()
        return snapshot(self.till, self.peripherals, now)

    def tell_activity(self) -> None:
        """Records whether a ticket is open for the updater: at once when it changes, and
        every ACTIVITY_SECONDS so the updater can tell a running till from a dead one (a
        tiny write, rare enough for an SD card)."""
        is_open = ticket_open(self.till)
        now = time.monotonic()
        if is_open != self._activity or now - self._activity_at >= software.ACTIVITY_SECONDS:
            written = record_activity(self.till, is_open)
            self._activity = is_open if written else None
            self._activity_at = now if written else self._activity_at

    def close(self) -> None:
        """Stops the scanner and releases every device."""
        self.stop()
        self.peripherals.close()
