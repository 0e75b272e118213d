"""The evdev.InputDevice stand-in the scanner reader tests use (drivers/scanner/replay.py)."""

from __future__ import annotations

from drivers.scanner.replay import ReplayDevice


class FakeInputDevice(ReplayDevice):
    def __init__(self, name: str = "Honeywell Scanner", path: str = "/dev/input/event7") -> None:
        super().__init__(name, path)
