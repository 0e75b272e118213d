"""Kernel-shaped evdev event streams for the scanner tests (see drivers/scanner/replay.py)."""

from __future__ import annotations

from drivers.scanner.replay import Clock, key, tap, where
from drivers.scanner.replay import key_events as typed

__all__ = ["Clock", "key", "tap", "typed", "where"]
