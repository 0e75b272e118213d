"""Layouts with known faults (and one without) in a real Kivy window, for the screen check.

Usage: python -m tests.ui.planted WIDTHxHEIGHT OUT.json
Draws each layout in turn, lets Kivy lay it out and render it, runs tests.ui.screen_check on
the window and writes {layout name: findings} to OUT.json.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def overlapping() -> Any:
    from kivy.uix.button import Button
    from kivy.uix.floatlayout import FloatLayout

    root = FloatLayout()
    root.add_widget(Button(text="Pay", size_hint=(None, None), size=(200, 100), pos=(100, 100)))
    root.add_widget(Button(text="Void", size_hint=(None, None), size=(200, 100), pos=(250, 150)))
    return root


def wrapped_caption() -> Any:
    from kivy.uix.button import Button
    from kivy.uix.floatlayout import FloatLayout

    root = FloatLayout()
    button = Button(text="Aanmelden", font_size=40, size_hint=(None, None), size=(130, 110),
                    pos=(300, 100), halign="center")
    button.bind(width=lambda b, w: setattr(b, "text_size", (w - 8, None)))
    button.text_size = (122, None)
    root.add_widget(button)
    return root


def tiny_button() -> Any:
    from kivy.uix.button import Button
    from kivy.uix.floatlayout import FloatLayout

    root = FloatLayout()
    root.add_widget(Button(text="x", size_hint=(None, None), size=(30, 30), pos=(20, 20)))
    return root


def clipped_label() -> Any:
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.label import Label

    root = BoxLayout(orientation="vertical")
    root.add_widget(Label(text="Lade: te lang open", font_size=15, size_hint=(None, None),
                          size=(90, 34), text_size=(90, 34)))
    root.add_widget(Label(text="Geen uplink  achterstand 14", shorten=True, size_hint=(None, None),
                          size=(120, 34), text_size=(120, None), font_size=15))
    return root


def good() -> Any:
    """Two big buttons side by side with short captions and a label that fits: no findings."""
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.button import Button
    from kivy.uix.label import Label

    root = BoxLayout(orientation="vertical", padding=10, spacing=10)
    row = BoxLayout(spacing=10)
    for text in ("Pay", "Void ticket"):
        button = Button(text=text, font_size=24, halign="center")
        button.bind(width=lambda b, w: setattr(b, "text_size", (w - 8, None)))
        row.add_widget(button)
    root.add_widget(row)
    root.add_widget(Label(text="Drawer: closed", font_size=18))
    return root


LAYOUTS: dict[str, Callable[[], Any]] = {
    "overlap": overlapping, "wrapped_caption": wrapped_caption, "tiny": tiny_button,
    "clipped": clipped_label, "good": good}


def main(argv: list[str]) -> int:
    size, out = argv[0], Path(argv[1])
    width, height = (int(v) for v in size.split("x"))
    from ui.kivy_setup import configure_kivy

    configure_kivy(False, width, height, False)
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.uix.floatlayout import FloatLayout

    from tests.ui.screen_check import check_screen

    results: dict[str, list[str]] = {}
    names = list(LAYOUTS)
    holder = FloatLayout()

    def show(index: int) -> None:
        holder.clear_widgets()
        holder.add_widget(LAYOUTS[names[index]]())
        Clock.schedule_once(lambda _dt: take(index), 0.3)  # laid out and drawn

    def take(index: int) -> None:
        results[names[index]] = check_screen(Window)
        if index + 1 < len(names):
            show(index + 1)
        else:
            App.get_running_app().stop()

    class Planted(App):
        def build(self) -> Any:
            Clock.schedule_once(lambda _dt: show(0), 0.3)
            return holder

    Planted().run()
    out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
