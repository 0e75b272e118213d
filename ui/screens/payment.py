"""Payment: cash with quick amounts, card with the terminal's reference, voucher, and splits.

Amounts are typed in euros with a decimal key (1-0-0 is € 100,00; 1-2-,-5 is € 12,50), as on
every till. The 5-cent rounding of a cash payment is shown before the cashier takes the
money. Quick notes are only those that cover what is due; less than is due is only taken as
a part payment after the cashier says so.
"""

from __future__ import annotations

from collections.abc import Callable

from kivy.clock import Clock
from kivy.properties import BooleanProperty, ListProperty, StringProperty

from ui import widgets as w
from ui.dialogs import ConfirmDialog
from ui.i18n import N_, _, euros_to_cents, money, type_euros
from ui.metrics import S
from ui.screens.base import KassaScreen

TENDER_NAMES = {"cash": N_("Cash"), "card": N_("Card"), "voucher": N_("Voucher")}
QUICK_NOTES = 4
SMALLEST_NOTE = 500


def covering_notes(due: int, quick: tuple[int, ...], denominations: tuple[int, ...]) -> list[int]:
    """Up to four amounts a customer may hand over for `due`: the configured quick amounts that
    cover it, then the notes above it (for € 29,10: € 50, € 100, € 200)."""
    notes = sorted({c for c in quick if c >= due} |
                   {c for c in denominations if c >= max(due, SMALLEST_NOTE)})
    return [c for c in notes if c > due][:QUICK_NOTES]


class PaymentScreen(KassaScreen):
    method = StringProperty("cash")  # cash | card | voucher
    field = StringProperty("amount")  # amount | reference (what the keypad types into)
    amount = StringProperty("")  # euros as typed: '12,5'
    reference = StringProperty("")
    due_text = StringProperty("")
    total_text = StringProperty("")
    rounding_text = StringProperty("")
    tenders = ListProperty([])
    terminal = BooleanProperty(False)  # a PIN terminal is connected: card goes through it

    def __init__(self, **kwargs) -> None:
        self._quick: list[w.BigButton] = []  # the quick amounts' buttons (_quick_button)
        self._exact = 0  # what the exact button pays
        super().__init__(**kwargs)

    def on_pre_enter(self, *_args) -> None:
        payments = self.till.payments
        self.terminal = payments is not None and not self.till.training  # a trainee types
        if payments is not None and payments.pending() is not None:
            Clock.schedule_once(lambda _dt: self.app.screen("terminal").check())
            return
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
        """Exact, then only notes that cover what is due, only while paying cash: a hidden
        grid of buttons would still sit over the tender tabs and swallow their touches."""
        grid = self.ids.quick
        grid.clear_widgets()
        if self.method != "cash":
            return
        due = self.till.cash_due() if self.till.ticket.due > 0 else 0
        self._exact = due
        exact = self._quick_button(0)
        exact.text = _("Exact") + f"\n{money(due)}"
        grid.add_widget(exact)
        cash = self.till.config.cash
        for n, cents in enumerate(covering_notes(due, cash.quick_amounts_cents,
                                                 cash.denominations_cents), start=1):
            button = self._quick_button(n)
            button.cents = cents
            button.text = money(cents)
            grid.add_widget(button)

    def _quick_button(self, n: int) -> w.BigButton:
        """The n-th quick amount's button (0: exact, the others a note's `cents`), made once
        and kept: a new set for every sale would build five buttons and free them again, and
        the freed heap stays with the process in pieces."""
        while len(self._quick) <= n:
            if self._quick:
                button = w.BigButton(tone=w.BLUE, font_size=S(20))
                button.bind(on_release=lambda b: self.pay_cash(b.cents))
            else:
                button = w.BigButton(tone=w.GREEN, font_size=S(18))
                button.bind(on_release=lambda _b: self.pay_cash(self._exact))
            self._quick.append(button)
        return self._quick[n]

    # --- keypad --------------------------------------------------------------------------
    def key(self, key: str) -> None:
        if key == "OK":
            self.confirm()
            return
        self.message = ""
        if self.field == "reference":
            if key == "C":
                self.reference = ""
            elif key.isdigit() and len(self.reference) < 20:
                self.reference += key
            return
        self.amount = "" if key == "C" else type_euros(self.amount, key)

    def typed_cents(self) -> int | None:
        return euros_to_cents(self.amount)

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
    def pay_cash(self, given: int) -> ConfirmDialog | None:
        """Less than is due is a part payment only when the cashier confirms it."""
        due = self.till.cash_due()
        if given >= due:
            self.app.attempt(self.till.pay_cash, given=given, partial=False, on_done=self._after)
            return None
        return self.ask_partial(given, due, lambda: self.app.attempt(
            self.till.pay_cash, given=given, partial=True, on_done=self._after))

    def ask_partial(self, given: int, due: int, take: Callable[[], None]) -> ConfirmDialog:
        question = (_("{given} is less than the {due} to pay.").format(given=money(given), due=money(due))
                    + "\n" + _("Take it as a part payment? {rest} will remain to pay.").format(
                        rest=money(due - given)))
        dialog = ConfirmDialog(question, _("Part payment"), take, no_text=_("No, correct it"),
                               on_no=lambda: setattr(self, "amount", ""))
        dialog.open()
        return dialog

    def pay_card(self) -> ConfirmDialog | None:
        amount, due = self.typed_cents(), self.till.ticket.due

        def take() -> None:
            if self.terminal:  # the amount goes to the terminal: nothing is typed twice
                self.amount = ""
                self.app.screen("terminal").pay(amount)
                return
            self.app.attempt(self.till.pay_card, amount=amount, reference=self.reference,
                             on_done=self._after)

        if amount is not None and amount < due:
            return self.ask_partial(amount, due, take)
        take()
        return None

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
            self.field = "reference" if self.method == "card" else "amount"
            self.inform(_("Partly paid: {rest} remains; choose how to pay it").format(
                rest=money(self.till.ticket.due)))
            return
        self.app.finish_sale(committed)

    def cancel(self) -> None:
        """Back to the ticket; tenders already taken are cancelled first."""
        if self.till.ticket.tenders:
            self.app.attempt(self.till.cancel_payments, on_done=lambda _r: self.app.go("sale"))
        else:
            self.app.go("sale")

    def choose(self, method: str) -> None:
        """A card payment opens on the reference (the terminal's number is what is typed)."""
        self.method = method
        self.field = "reference" if method == "card" and not self.terminal else "amount"
        self.amount, self.reference = "", ""
        self.message = ""

    def on_scan(self, code: str) -> None:
        if self.method == "voucher":
            self.reference = code
            return
        self.app.reject(_("Finish or cancel the payment first"))
