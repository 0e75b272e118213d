"""Kernel-shaped evdev event streams for a keyboard-emulation scanner typing a string.

Each key press is what the kernel reports for a USB HID keyboard: EV_MSC/MSC_SCAN with the
HID usage, EV_KEY (1 down, 0 up, 2 repeat), then EV_SYN/SYN_REPORT.
"""

from __future__ import annotations

from evdev import InputEvent, ecodes

from drivers.scanner.layouts import layout


class Clock:
    """Event timestamps: starts at a fixed epoch second and advances per step."""

    def __init__(self, start: float = 1_700_000_000.0, step: float = 0.001) -> None:
        self.now, self.step = start, step

    def tick(self, seconds: float | None = None) -> tuple[int, int]:
        self.now += self.step if seconds is None else seconds
        sec = int(self.now)
        return sec, int(round((self.now - sec) * 1_000_000))


def key(clock: Clock, code: int, value: int) -> list[InputEvent]:
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


def typed(text: str, layout_name: str = "us", clock: Clock | None = None,
          end: int | None = ecodes.KEY_ENTER) -> list[InputEvent]:
    """The events of a scanner typing `text` then the suffix key (None: no suffix)."""
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
