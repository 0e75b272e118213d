"""The PIN terminal at work: waiting for the shopper (with Abort), approved, not approved,
and "checking the last payment" (after a lost answer or a restart).

The terminal's request blocks, so it runs on a worker thread; its outcome comes back to the
UI thread through Kivy's clock. The screen never decides an outcome itself: it shows what
firmware/payment.py journaled.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, OptionProperty, StringProperty

from firmware.errors import TillError
from ui.errors import error_text
from ui.i18n import N_, _, money
from ui.screens.base import KassaScreen

NOT_APPROVED = {"declined": N_("Declined by the card issuer"),
                "cancelled": N_("Cancelled by the customer"),
                "aborted": N_("Stopped at the till"),
                "not_received": N_("The terminal did not receive the payment"),
                "failed": N_("The terminal reports a fault")}


class TerminalScreen(KassaScreen):
    state = OptionProperty("waiting", options=("waiting", "checking", "approved", "declined",
                                               "unresolved"))
    amount = NumericProperty(0)
    headline = StringProperty("")
    detail = StringProperty("")
    merchant_copy_offered = BooleanProperty(False)  # [payment] merchant_copy = "ask"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._committed: Any = None
        self.on_state(self, self.state)

    # --- starting --------------------------------------------------------------------------
    def pay(self, amount: int | None) -> None:
        """Pin pressed on the payment screen: journal payment_started, then ask the terminal."""
        payments = self.till.payments
        try:
            pending = payments.start(amount)
        except TillError as exc:
            self.app.show_error(error_text(exc))
            return
        self.amount, self._committed = pending.amount, None
        self.state = "waiting"
        self.app.go("terminal")
        self._in_background(lambda: payments.send(pending))

    def check(self) -> None:
        """After login or a lost answer: what became of the last payment?"""
        payments = self.till.payments
        pending = payments.pending() if payments else None
        if pending is None:
            self.app.go("sale")
            return
        self.amount, self.state = pending.amount, "checking"
        self.app.go("terminal")
        self._in_background(payments.resolve)

    def _in_background(self, call: Callable[[], Any]) -> None:
        def work() -> None:
            try:
                result: Any = call()
            except TillError as exc:
                failure = exc
                Clock.schedule_once(lambda _dt: self._failed(failure))
                return
            Clock.schedule_once(lambda _dt: self._done(result))

        self.till.payments.worker.submit(work)  # one long-lived thread for the terminal

    # --- outcomes --------------------------------------------------------------------------
    def _done(self, result: Any) -> None:
        if result is None:  # nothing was pending any more
            self.app.go("sale")
            return
        if result.outcome == "approved":
            self._committed = result.committed
            self.merchant_copy_offered = (result.committed is not None
                                          and self.till.payments.merchant_copy == "ask")
            self.detail = " ".join(p for p in (result.brand.upper(), result.masked_pan[-8:]) if p)
            self.state = "approved"
            return
        self.detail = _(NOT_APPROVED.get(result.outcome, NOT_APPROVED["failed"]))
        self.state = "declined"

    def _failed(self, exc: TillError) -> None:
        self.detail = error_text(exc)
        self.state = "unresolved"

    def on_state(self, _screen: Any, state: str) -> None:  # noqa: ANN401
        if state != "approved":
            self.merchant_copy_offered = False
        self.headline = {
            "waiting": _("Customer pays on the PIN terminal"),
            "checking": _("Checking the last payment…"),
            "approved": _("Payment approved"),
            "declined": _("Payment not approved"),
            "unresolved": _("Outcome of the payment not known yet"),
        }[state]
        if state == "waiting":
            self.detail = _("Follow the terminal; Abort stops it")
        elif state == "checking":
            self.detail = _("The till asks the terminal; do not take another payment")

    # --- buttons ---------------------------------------------------------------------------
    def abort(self) -> None:
        self.detail = _("Stopping the payment on the terminal…")
        threading.Thread(target=self.till.payments.abort, name="pin-abort", daemon=True).start()

    def proceed(self) -> None:
        """Approved: the receipt (or, for a part payment, the rest); otherwise back to paying."""
        if self.state == "approved" and self._committed is not None:
            self.app.finish_sale(self._committed)
        elif self.state == "unresolved":
            self.check()
        else:
            self.app.go("payment" if not self.till.ticket.is_empty else "sale")

    def print_merchant_copy(self) -> None:
        """The cashier asked for the terminal's merchant receipt: a second receipt."""
        if self._committed is None:
            return
        self.app.attempt(self.till.payments.print_merchant_copy,
                         seq=self._committed.entry.seq,
                         on_done=lambda _r: self._merchant_copy_printed())

    def _merchant_copy_printed(self) -> None:
        self.merchant_copy_offered = False
        self.inform(_("Merchant copy printed"))

    def on_scan(self, code: str) -> None:
        self.app.reject(_("Finish or cancel the payment first"))


__all__ = ["TerminalScreen", "money"]
