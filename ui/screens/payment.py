"""Payment: cash with quick amounts, card with the terminal's reference, voucher, and splits.

Amounts are typed in cents on the keypad (2000 is € 20,00), as on a calculator till. The
5-cent rounding of a cash payment is shown before the cashier takes the money.
"""

from __future__ import annotations

from kivy.properties import ListProperty, StringProperty

from ui import widgets as w
from ui.i18n import N_, _, money
from ui.metrics import S
from ui.screens.base import KassaScreen

TENDER_NAMES = {"cash": N_("Cash"), "card": N_("Card"), "voucher": N_("Voucher")}


class PaymentScreen(KassaScreen):
    method = StringProperty("cash")  # cash | card | voucher
    field = StringProperty("amount")  # amount | reference (what the keypad types into)
    amount = StringProperty("")
    reference = StringProperty("")
    due_text = StringProperty("")
    total_text = StringProperty("")
    rounding_text = StringProperty("")
    tenders = ListProperty([])

    def on_pre_enter(self, *_args) -> None:
        self.method, self.amount, self.reference, self.field = "cash", "", "", "amount"
        self.build_quick_amounts()
        self.refresh()

    def refresh(self) -> None:
        ticket = self.till.ticket
        self.total_text = money(ticket.total)
        self.due_text = money(ticket.due)
        cash = self.till.cash_due() if ticket.due > 0 else 0
        delta = cash - ticket.due
        self.rounding_text = ((_("Cash, rounded to 5 cents") + f": {money(cash)}  ("
                               + _("rounding") + f" {'+' if delta > 0 else ''}{money(delta)})")
                              if delta else "")
        self.tenders = [f"{_(TENDER_NAMES[t.kind])} {t.reference}  {money(t.amount)}".replace("  ", " ")
                        for t in ticket.tenders]

    def on_method(self, _screen, _method: str) -> None:  # noqa: ANN001
        self.build_quick_amounts()

    def build_quick_amounts(self) -> None:
        """Quick cash amounts, only while paying cash: a hidden grid of buttons would still sit
        over the tender tabs and swallow their touches."""
        grid = self.ids.quick
        grid.clear_widgets()
        if self.method != "cash":
            return
        due = self.till.cash_due() if self.till.ticket.due > 0 else 0
        exact = w.BigButton(text=_("Exact") + f"\n{money(due)}", tone=w.GREEN, font_size=S(18))
        exact.bind(on_release=lambda _b: self.pay_cash(due))
        grid.add_widget(exact)
        for cents in self.till.config.cash.quick_amounts_cents:
            button = w.BigButton(text=money(cents), tone=w.BLUE if cents >= due else w.GREY,
                                 font_size=S(20))
            button.cents = cents
            button.bind(on_release=lambda b: self.pay_cash(b.cents))
            grid.add_widget(button)

    # --- keypad --------------------------------------------------------------------------
    def key(self, key: str) -> None:
        target = "reference" if self.field == "reference" else "amount"
        value = getattr(self, target)
        if key == "C":
            value = ""
        elif key == "OK":
            self.confirm()
            return
        elif len(value) < (20 if target == "reference" else 7):
            value += key
        setattr(self, target, value)

    def typed_cents(self) -> int | None:
        return int(self.amount) if self.amount else None

    def confirm(self) -> None:
        if self.method == "cash":
            given = self.typed_cents()
            if given is None:
                self.message = _("Type the amount received, or tap a quick amount")
                return
            self.pay_cash(given)
        elif self.method == "card":
            self.pay_card()
        else:
            self.pay_voucher()

    # --- tenders -------------------------------------------------------------------------
    def pay_cash(self, given: int) -> None:
        partial = given < self.till.cash_due()
        self.app.attempt(self.till.pay_cash, given=given, partial=partial, on_done=self._after)

    def pay_card(self) -> None:
        self.app.attempt(self.till.pay_card, amount=self.typed_cents(), reference=self.reference,
                         on_done=self._after)

    def pay_voucher(self) -> None:
        value = self.typed_cents()
        if value is None:
            self.message = _("Type the value of the voucher")
            return
        self.app.attempt(self.till.pay_voucher, face_value=value, code=self.reference,
                         on_done=self._after)

    def _after(self, committed) -> None:  # noqa: ANN001 - Committed or None (partly paid)
        self.amount, self.reference = "", ""
        if committed is None:
            self.build_quick_amounts()
            self.refresh()
            self.message = _("Partly paid: choose how to pay the rest")
            return
        self.app.finish_sale(committed)

    def cancel(self) -> None:
        """Back to the ticket; tenders already taken are cancelled first."""
        if self.till.ticket.tenders:
            self.app.attempt(self.till.cancel_payments, on_done=lambda _r: self.app.go("sale"))
        else:
            self.app.go("sale")

    def choose(self, method: str) -> None:
        self.method = method
        self.field = "amount"
        self.amount, self.reference = "", ""
        self.message = ""

    def on_scan(self, code: str) -> None:
        if self.method == "voucher":
            self.reference = code
            return
        self.app.reject(_("Finish or cancel the payment first"))
