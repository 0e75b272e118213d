"""A cash drawer on the printer's drawer-kick port: ESC p m t1 t2 through the printer's link.

m selects connector pin 2 (0) or pin 5 (1); t1 is the on-time and t2 the off-time, both in
units of 2 ms. The kick goes through the printer driver's own lock, so it never interleaves
with a receipt's bytes.
"""

from __future__ import annotations

from typing import Protocol

from drivers.drawer.pulse import checked_pulse_ms
from drivers.errors import DeviceError, DrawerKickFailed, SettingRejected


class RawPrinter(Protocol):
    def send_raw(self, data: bytes) -> None: ...


def kick_command(pin: int, pulse_ms: int) -> bytes:
    """ESC p m t1 t2 for connector pin 2 or 5."""
    if pin not in (2, 5):
        raise SettingRejected("drawer.kick_pin", f"drawer kick pin {pin} is not 2 or 5")
    t1 = min(255, max(1, (checked_pulse_ms(pulse_ms) + 1) // 2))
    t2 = min(255, max(2 * t1, 50))  # at least 100 ms rest before the next kick
    return b"\x1bp" + bytes((0 if pin == 2 else 1, t1, t2))


class PrinterKickDrawer:
    """Satisfies firmware.ports.Drawer; the state is 'unknown' (no sensor is read)."""

    def __init__(self, printer: RawPrinter, *, pin: int = 2, pulse_ms: int = 100) -> None:
        self._printer = printer
        self._command = kick_command(pin, pulse_ms)

    @property
    def state(self) -> str:
        return "unknown"

    def open(self) -> None:
        try:
            self._printer.send_raw(self._command)
        except DeviceError as exc:
            raise DrawerKickFailed(exc) from exc

    def close(self) -> None:
        pass
