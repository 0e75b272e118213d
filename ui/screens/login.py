"""PIN login: a large keypad; shows who is logged in and lets the next person take over."""

from __future__ import annotations

import logging
import threading

from kivy.properties import StringProperty

from firmware.errors import AuthError, TillError
from ui.errors import error_text
from ui.i18n import _
from ui.pin_entry import PinEntry
from ui.screens.base import KassaScreen

log = logging.getLogger(__name__)


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
        if payments is not None and payments.refunds.pending() is not None:
            # A card refund cut short by a restart: asked for off the UI thread; until the
            # terminal says, no other refund or void of that sale is made (RefundPending).
            threading.Thread(target=self._settle_refund, name="pin-refund-check",
                             daemon=True).start()
        if payments is not None and payments.pending() is not None:
            self.app.screen("terminal").check()  # the last payment's outcome comes first
            return
        self.app.go("sale")

    def _settle_refund(self) -> None:
        try:
            self.till.payments.resolve_refund()
        except TillError as exc:  # the refund panel asks again before the next refund
            log.warning("the last card refund is still unknown: %s", exc)

    def on_scan(self, code: str) -> None:
        self.app.reject(_("Log in first"))
