"""After the sale: the change to hand back (large) with what was handed over, the receipt's
printing state, reprint."""

from __future__ import annotations

from kivy.properties import StringProperty

from ui.i18n import N_, _, money
from ui.screens.base import KassaScreen

PRINT_TEXT = {
    "queued": N_("Receipt queued"), "printing": N_("Printing receipt…"), "printed": N_("Receipt printed"),
    "failed": N_("Receipt NOT printed"),
}


def headline(sale: dict) -> str:
    """The big line: the change; with no change, how it was paid ("Paid by card")."""
    change = sale.get("change", 0)
    if change:
        return money(change)
    kinds = {t.get("kind") for t in sale.get("tenders", [])}
    if "cash" in kinds or not kinds:
        return _("No change")
    return _("Paid by card") if "card" in kinds else _("Paid")


def tendered(sale: dict) -> str:
    """Each tender as handed over: 'Cash received € 100,00', 'Card € 12,40 (778899)'."""
    parts = []
    for tender in sale.get("tenders", []):
        if tender.get("kind") == "cash":
            parts.append(_("Cash received") + f" {money(tender.get('given') or tender['amount'])}")
        elif tender.get("kind") == "card":
            reference = f" ({tender['reference']})" if tender.get("reference") else ""
            parts.append(_("Card") + f" {money(tender['amount'])}{reference}")
        else:
            parts.append(_("Voucher") + f" {money(tender['amount'])}")
    return "   ".join(parts)


class DoneScreen(KassaScreen):
    change_text = StringProperty("")
    paid_text = StringProperty("")
    tendered_text = StringProperty("")
    receipt_text = StringProperty("")

    def on_pre_enter(self, *_args) -> None:
        sale = self.app.last_sale
        self.change_text = headline(sale)
        self.tendered_text = tendered(sale)
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
            self.app.attempt(self.till.reprint, seq=seq, on_done=lambda _e: self.inform(
                _("Copy of receipt {seq} printed").format(seq=seq)))

    def next_customer(self) -> None:
        """A scan here starts the next customer's ticket as well (ui.app: the till's event)."""
        self.app.go("sale")
