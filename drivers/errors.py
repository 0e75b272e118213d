"""The one error every driver raises for a device fault.

drivers/ imports nothing from firmware, so it has its own DeviceError; the composition root
(cli/wiring.py) translates it into firmware.ports.DeviceError for the till.
"""

from __future__ import annotations

from collections.abc import Callable

StateCallback = Callable[[str, str], None]
"""on_state(state, detail): a device reports a state change (detail is human-readable)."""


class DeviceError(Exception):
    """A device refused or failed an operation; the message says what the cashier can do."""


def no_state(state: str, detail: str) -> None:
    """The default on_state: a driver always has someone to tell, even if nobody listens."""
