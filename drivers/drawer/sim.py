"""A simulated drawer: counts pulses and, with a simulated switch, springs open on a pulse.

`push_closed()` is the cashier pushing the drawer shut; `set_open(True)` forces it open (a
key-opened drawer). The same debounce and left-open alert as the GPIO drawer apply.
"""

from __future__ import annotations

import threading
import time

from drivers.drawer.pulse import checked_pulse_ms
from drivers.drawer.sensor import SensedDrawer, SensorMonitor
from drivers.errors import DrawerFailed, StateCallback, no_state


class SimDrawer(SensedDrawer):
    """Satisfies firmware.ports.Drawer."""

    def __init__(self, *, pulse_ms: int = 100, sensor: bool = True, debounce_ms: int = 20,
                 open_alert_seconds: float = 60, on_state: StateCallback = no_state,
                 sleep: bool = False) -> None:
        self._pulse_s = checked_pulse_ms(pulse_ms) / 1000
        self._sleep = sleep
        self._lock = threading.Lock()
        self._is_open = False
        self._closed = False
        self.pulses: list[float] = []
        self.fail_with = ""
        self._monitor: SensorMonitor | None = None
        if sensor:
            self._monitor = SensorMonitor(lambda: self._is_open, debounce_s=debounce_ms / 1000,
                                          alert_s=open_alert_seconds, on_state=on_state)
            self._monitor.start()

    def open(self) -> None:
        with self._lock:
            self._check_not_closed()
            if self.fail_with:
                raise DrawerFailed(self.fail_with)
            self.pulses.append(time.monotonic())
            if self._sleep:
                time.sleep(self._pulse_s)
        self.set_open(True)

    def push_closed(self) -> None:
        self.set_open(False)

    def set_open(self, is_open: bool) -> None:
        if self._is_open != is_open:
            self._is_open = is_open
            if self._monitor:
                self._monitor.edge()

    def close(self) -> None:
        with self._lock:
            self._closed = True
        if self._monitor:
            self._monitor.stop()
