"""Kivy settings that must be made before kivy.core.window is imported (kiosk behaviour)."""

from __future__ import annotations

import os


def configure_kivy(fullscreen: bool, width: int, height: int, show_cursor: bool) -> None:
    """Size or fullscreen, no cursor, Escape does not quit, no Kivy command-line parsing, and
    the interruptible clock: a scan handed over from the scanner's thread with
    Clock.schedule_once wakes the main loop at once and is drawn in the frame it starts,
    instead of waiting up to 1/maxfps for the next tick (frames are still capped at maxfps)."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    from kivy.config import Config

    Config.set("kivy", "kivy_clock", "interrupt")
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "keyboard_mode", "system")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("graphics", "show_cursor", "1" if show_cursor else "0")
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
