"""Debounces a drawer-open switch and raises the "left open too long" state.

gpiozero's own bounce handling is not implemented by every pin factory (MockFactory ignores
it), so the debounce lives here: an edge only starts a quiet period, and the level read
after `debounce` seconds without further edges is the drawer's state.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from drivers.errors import DeviceClosed, StateCallback

log = logging.getLogger(__name__)

OPEN_TOO_LONG = "open_too_long"
"""The state of a drawer open longer than its alert time, until it is closed; reported once
per opening as on_state('open_too_long', 'left open longer than 60 s')."""


class SensorMonitor:
    """Turns raw switch levels into 'open'/'closed' reports on its own thread."""

    def __init__(self, read_open: Callable[[], bool], *, debounce_s: float, alert_s: float,
                 on_state: StateCallback, name: str = "drawer-sensor") -> None:
        self._read_open = read_open
        self._debounce = debounce_s
        self._alert = alert_s
        self._on_state = on_state
        self._cond = threading.Condition()
        self._pending_since: float | None = None
        self._stopped = False
        self._state = "unknown"
        self._open_since = 0.0
        self._alerted = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    @property
    def state(self) -> str:
        return self._state

    def start(self) -> None:
        self._set(self._level_state(), time.monotonic())
        self._thread.start()

    def edge(self) -> None:
        """The switch changed (called from the pin's callback thread): start a quiet period."""
        with self._cond:
            self._pending_since = time.monotonic()
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def _level_state(self) -> str:
        try:
            return "open" if self._read_open() else "closed"
        except Exception:  # a vanished pin is "unknown", not a crash of the till
            log.exception("reading the drawer sensor failed")
            return "unknown"

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    return
                self._cond.wait(self._timeout(time.monotonic()))
                if self._stopped:
                    return
                now = time.monotonic()
                settle = self._pending_since is not None and now - self._pending_since >= self._debounce
                if settle:
                    self._pending_since = None
            if settle:
                self._set(self._level_state(), now)
            self._check_alert(time.monotonic())

    def _timeout(self, now: float) -> float | None:
        waits = []
        if self._pending_since is not None:
            waits.append(self._pending_since + self._debounce - now)
        if self._state == "open" and not self._alerted:
            waits.append(self._open_since + self._alert - now)
        return max(0.0, min(waits)) if waits else None

    def _set(self, state: str, now: float) -> None:
        if state == self._state or (state == "open" and self._state == OPEN_TOO_LONG):
            return
        self._state = state
        if state == "open":
            self._open_since, self._alerted = now, False
        self._emit(state, "")

    def _check_alert(self, now: float) -> None:
        if self._state == "open" and not self._alerted and now - self._open_since >= self._alert:
            self._alerted = True
            self._state = OPEN_TOO_LONG
            self._emit(OPEN_TOO_LONG, f"left open longer than {self._alert:g} s")

    def _emit(self, state: str, detail: str) -> None:
        try:
            self._on_state(state, detail)
        except Exception:
            log.exception("drawer state listener failed")


class SensedDrawer:
    """What the GPIO and the simulated drawer share: a state read from the optional switch's
    monitor ('unknown' without a switch, 'open_too_long' after the alert) and the refusal to
    pulse once closed."""

    _monitor: SensorMonitor | None
    _closed: bool

    @property
    def state(self) -> str:
        return self._monitor.state if self._monitor else "unknown"

    def _check_not_closed(self) -> None:
        if self._closed:
            raise DeviceClosed("drawer")
