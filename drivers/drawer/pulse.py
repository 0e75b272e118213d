"""The pulse limits every drawer shares: a solenoid held too long burns out."""

from __future__ import annotations

from drivers.errors import SettingRejected

MIN_PULSE_MS, MAX_PULSE_MS = 10, 500


def checked_pulse_ms(pulse_ms: int) -> int:
    if isinstance(pulse_ms, bool) or not isinstance(pulse_ms, int):
        raise SettingRejected("drawer.pulse_ms",
                              f"drawer pulse must be whole milliseconds, got {pulse_ms!r}")
    if not MIN_PULSE_MS <= pulse_ms <= MAX_PULSE_MS:
        raise SettingRejected("drawer.pulse_ms", f"drawer pulse {pulse_ms} ms is outside "
                              f"{MIN_PULSE_MS}..{MAX_PULSE_MS} ms")
    return pulse_ms
