"""Modal dialogs: the manager override (PIN for one action) and a plain message."""

from __future__ import annotations

from collections.abc import Callable

from kivy.properties import StringProperty
from kivy.uix.modalview import ModalView

from firmware.permissions import Action, Approval
from firmware.till import TillError
from ui.i18n import N_, _

ACTION_TEXT = {
    Action.VOID_PAID_TICKET: N_("Void a paid ticket"),
    Action.REFUND: N_("Refund"),
    Action.PRICE_OVERRIDE: N_("Change a price"),
    Action.LARGE_DISCOUNT: N_("Large discount"),
    Action.NO_SALE: N_("Open the drawer (no sale)"),
    Action.CASH_IN_OUT: N_("Cash in / out"),
    Action.Z_CLOSE: N_("Close the day (Z)"),
    Action.TRAINING: N_("Training mode"),
    Action.EXIT_KIOSK: N_("Leave the till"),
    Action.STOCK: N_("Stock"),
    Action.ACK_JOURNAL_ALARM: N_("Acknowledge the journal alarm"),
}


class OverrideDialog(ModalView):
    """Asks for a manager PIN for exactly one action, then hands the Approval back."""

    title = StringProperty("")
    pin_mask = StringProperty("")
    error = StringProperty("")

    def __init__(self, approve: Callable[[str, Action], Approval], action: Action,
                 on_approved: Callable[[Approval], None], **kwargs) -> None:
        super().__init__(auto_dismiss=False, **kwargs)
        self.approve, self.action, self.on_approved = approve, action, on_approved
        self.pin = ""
        self.title = _("Manager PIN needed") + ": " + _(ACTION_TEXT.get(action, action.value))

    def key(self, key: str) -> None:
        if key == "C":
            self.pin = ""
        elif key == "OK":
            self.submit()
            return
        elif len(self.pin) < 12:
            self.pin += key
        self.error = ""
        self.pin_mask = "\u25cf " * len(self.pin)

    def submit(self) -> None:
        try:
            approval = self.approve(self.pin, self.action)
        except TillError as exc:
            self.pin, self.pin_mask = "", ""
            self.error = _(str(exc))
            return
        self.dismiss()
        self.on_approved(approval)


class MessageDialog(ModalView):
    """A message the cashier must acknowledge (used for faults that need attention)."""

    text = StringProperty("")

    def __init__(self, text: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.text = text
