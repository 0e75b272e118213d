"""PIN login: a large keypad; shows who is logged in and lets the next person take over."""

from __future__ import annotations

from kivy.properties import StringProperty

from firmware.errors import AuthError, TillError
from ui.errors import error_text
from ui.i18n import _
from ui.pin_entry import PinEntry
from ui.screens.base import KassaScreen


class LoginScreen(PinEntry, KassaScreen):
    pin_mask = StringProperty("")
    who = StringProperty("")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.pin = ""

    def on_pre_enter(self, *_args) -> None:
        self.pin, self.pin_mask = "", ""
        cashier = self.till.cashier
        self.who = (_("Logged in") + f": {cashier.name}") if cashier else _("Nobody is logged in")

    def on_leave(self, *_args) -> None:
        self.stop_countdown()

    def show_feedback(self, text: str) -> None:
        self.message = text

    def submit(self) -> None:
        pin, self.pin, self.pin_mask = self.pin, "", ""
        if not pin:
            self.message = _("Enter your PIN")
            return
        try:
            self.till.login(pin)
        except AuthError as exc:
            self.refused(exc)
            return
        except TillError as exc:
            self.message = error_text(exc)
            return
        payments = self.till.payments
        if payments is not None and payments.pending() is not None:
            self.app.screen("terminal").check()  # the last payment's outcome comes first
            return
        self.app.go("sale")

    def on_scan(self, code: str) -> None:
        self.app.reject(_("Log in first"))
