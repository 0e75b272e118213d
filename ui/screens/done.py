"""After the sale: the change to hand back (large), the receipt's printing state, reprint."""

from __future__ import annotations

from kivy.properties import StringProperty

from ui.i18n import N_, _, money
from ui.screens.base import KassaScreen

PRINT_TEXT = {
    "queued": N_("Receipt queued"), "printing": N_("Printing receipt…"), "printed": N_("Receipt printed"),
    "failed": N_("Receipt NOT printed"),
}


class DoneScreen(KassaScreen):
    change_text = StringProperty("")
    paid_text = StringProperty("")
    receipt_text = StringProperty("")

    def on_pre_enter(self, *_args) -> None:
        sale = self.app.last_sale
        change = sale.get("change", 0)
        self.change_text = money(change) if change else _("No change")
        self.paid_text = _("Paid") + f": {money(sale.get('total', 0))}   " + _("Receipt") + \
            f" {sale.get('seq', '')}"
        # A trainee's cash sale leaves the real drawer shut (firmware.kernel.open_drawer).
        self.message = _("Drawer opened (training)") if sale.get("drawer") == "training" else ""
        self.app.bind(print_state=self._print_state)
        self._print_state(self.app, self.app.print_state)

    def on_leave(self, *_args) -> None:
        self.app.unbind(print_state=self._print_state)

    def _print_state(self, _app, state: str) -> None:  # noqa: ANN001
        kind, _sep, detail = state.partition(": ")
        text = _(PRINT_TEXT.get(kind, kind))
        self.receipt_text = f"{text}: {_(detail)}" if detail else text

    def reprint(self) -> None:
        seq = self.app.last_sale.get("seq")
        if seq:
            self.app.attempt(self.till.reprint, seq=seq,
                             on_done=lambda _e: setattr(self, "message", _("Copy printed")))

    def next_customer(self) -> None:
        """A scan here starts the next customer's ticket as well (ui.app: the till's event)."""
        self.app.go("sale")
