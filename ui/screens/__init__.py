"""The till's screens; each module has a .kv file beside it with the same name.

Screens are built on first use (ui.app.KassaApp.screen): their rules and widgets cost start-up
time and memory only once the cashier needs them.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from kivy.lang import Builder
from kivy.uix.screenmanager import Screen

CLASSES = {"login": "LoginScreen", "sale": "SaleScreen", "payment": "PaymentScreen",
           "done": "DoneScreen", "manager": "ManagerScreen", "terminal": "TerminalScreen"}
_loaded: set[str] = set()


def build_screen(name: str) -> Screen:
    """A new screen `name`; its .kv rules are loaded once per process."""
    if name not in CLASSES:
        raise ValueError(f"there is no screen {name!r} (known: {', '.join(CLASSES)})")
    module = importlib.import_module(f"ui.screens.{name}")
    if name not in _loaded:
        Builder.load_file(str(Path(__file__).with_name(f"{name}.kv")))
        _loaded.add(name)
    return getattr(module, CLASSES[name])(name=name)
