"""Replays key events as a scanner would send them: for benchmarks, tests and support.

`key_events(text)` gives the kernel-shaped evdev stream of a keyboard-emulation scanner
typing `text` (EV_MSC/MSC_SCAN, EV_KEY down/up, EV_SYN per report). `ReplayDevice` is an
evdev.InputDevice stand-in with a real file descriptor (so select() works) that hands out
pushed event reports, or the ENODEV error of an unplugged device.
"""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import threading
from collections.abc import Iterable

from evdev import InputEvent, ecodes

from drivers.scanner.layouts import layout


class Clock:
    """Event timestamps: a fixed epoch second, advancing `step` seconds per key event."""

    def __init__(self, start: float = 1_700_000_000.0, step: float = 0.001) -> None:
        self.now, self.step = start, step

    def tick(self, seconds: float | None = None) -> tuple[int, int]:
        self.now += self.step if seconds is None else seconds
        sec = int(self.now)
        return sec, int(round((self.now - sec) * 1_000_000))


def key(clock: Clock, code: int, value: int) -> list[InputEvent]:
    """One report: MSC_SCAN with the HID usage, the key, SYN_REPORT."""
    sec, usec = clock.tick()
    return [InputEvent(sec, usec, ecodes.EV_MSC, ecodes.MSC_SCAN, 0x70000 + code),
            InputEvent(sec, usec, ecodes.EV_KEY, code, value),
            InputEvent(sec, usec, ecodes.EV_SYN, ecodes.SYN_REPORT, 0)]


def tap(clock: Clock, code: int, modifiers: tuple[int, ...] = ()) -> list[InputEvent]:
    events: list[InputEvent] = []
    for m in modifiers:
        events += key(clock, m, 1)
    events += key(clock, code, 1) + key(clock, code, 0)
    for m in reversed(modifiers):
        events += key(clock, m, 0)
    return events


def where(char: str, layout_name: str) -> tuple[int, tuple[int, ...]]:
    """The key and modifiers that type `char` on a layout."""
    for name, (plain, shifted, altgr) in layout(layout_name).table().items():
        code = getattr(ecodes, name)
        if plain == char:
            return code, ()
        if shifted == char:
            return code, (ecodes.KEY_LEFTSHIFT,)
        if altgr == char:
            return code, (ecodes.KEY_RIGHTALT,)
    raise KeyError(f"{char!r} is not on layout {layout_name}")


def key_events(text: str, layout_name: str = "us", clock: Clock | None = None,
               end: int | None = ecodes.KEY_ENTER) -> list[InputEvent]:
    """A scanner typing `text` then the suffix key (None: no suffix); GS as Ctrl+]."""
    clock = clock or Clock()
    events: list[InputEvent] = []
    for char in text:
        if char == "\x1d":
            events += tap(clock, ecodes.KEY_RIGHTBRACE, (ecodes.KEY_LEFTCTRL,))
            continue
        code, modifiers = where(char, layout_name)
        events += tap(clock, code, modifiers)
    if end is not None:
        events += tap(clock, end)
    return events


def reports(events: Iterable[InputEvent]) -> list[list[InputEvent]]:
    """Events split per SYN_REPORT, as the kernel hands them to a reader."""
    out: list[list[InputEvent]] = []
    batch: list[InputEvent] = []
    for event in events:
        batch.append(event)
        if event.type == ecodes.EV_SYN:
            out.append(batch)
            batch = []
    if batch:
        out.append(batch)
    return out


class ReplayDevice:
    """An evdev.InputDevice stand-in fed by `push(report)`; `unplug()` makes read() fail."""

    def __init__(self, name: str = "Replay Scanner", path: str = "/dev/input/replay") -> None:
        self.name, self.path = name, path
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        self._batches: queue.Queue = queue.Queue()
        self.grabbed = False
        self.closed = threading.Event()
        self.grab_error: OSError | None = None

    def fileno(self) -> int:
        return self._r

    def push(self, events: Iterable[InputEvent]) -> None:
        self._batches.put(list(events))
        os.write(self._w, b"x")

    def push_reports(self, events: Iterable[InputEvent]) -> None:
        for report in reports(events):
            self.push(report)

    def pending(self) -> int:
        """Reports pushed but not read yet."""
        return self._batches.qsize()

    def unplug(self) -> None:
        self._batches.put(OSError(errno.ENODEV, "No such device"))
        os.write(self._w, b"x")

    def read(self):
        with contextlib.suppress(BlockingIOError):
            os.read(self._r, 1)
        try:
            batch = self._batches.get_nowait()
        except queue.Empty:
            raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable") from None
        if isinstance(batch, OSError):
            raise batch
        yield from batch

    def grab(self) -> None:
        if self.grab_error:
            raise self.grab_error
        self.grabbed = True

    def ungrab(self) -> None:
        if self.closed.is_set():
            raise OSError(errno.ENODEV, "No such device")
        self.grabbed = False

    def close(self) -> None:
        if not self.closed.is_set():
            self.closed.set()
            os.close(self._r)
            os.close(self._w)
