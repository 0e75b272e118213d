"""Manager functions: X/Z reports, cash movements and count, refunds, reprint, no-sale,
training mode and leaving the kiosk. Every manager-only call goes through the override
dialog when a cashier is logged in (the core decides; the UI only asks for the PIN)."""

from __future__ import annotations

import threading
from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, DictProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from contract.money import div_round_half_up
from contract.receipt import parse_qr_payload
from firmware.errors import TillError
from ui import widgets as w
from ui.dialogs import NumberDialog, TextDialog
from ui.errors import error_text
from ui.i18n import N_, _, euros_to_cents, money, type_euros
from ui.metrics import S
from ui.screens.base import KassaScreen

CASH_KINDS = {"float": N_("Opening float"), "cash_in": N_("Cash in"), "cash_out": N_("Cash out")}


def report_text(till: Any, committed: Any) -> str:
    """The report as the printer gets it, so the screen and the paper say the same."""
    entry = committed.entry
    try:
        from contract.receipt import build_report, render_text

        document = build_report(entry.body, entry.hash, till.config.terminal,
                                till.config.printer.columns, till.language)
        # the QR code is for the paper: its raw payload line means nothing on screen
        return "\n".join(line for line in render_text(document).splitlines()
                         if not line.lstrip().startswith("[QR "))
    except ImportError:
        return "\n".join(f"{key}: {value}" for key, value in sorted(entry.body["data"].items()))


class ManagerScreen(KassaScreen):
    default_kind = "info"  # "Copy printed", "Day closed"...; refusals come through show_error
    panel = StringProperty("report")  # report | cash | count | refund_find | refund_lines | stock
    report = StringProperty("")
    cash_kind = StringProperty("cash_in")
    reason = StringProperty("")
    entry = StringProperty("")
    counts = DictProperty({})
    count_total = NumericProperty(0)
    count_cents = NumericProperty(0)  # the coin or note whose count the keypad types
    refund_seq = NumericProperty(0)
    refund_qty = DictProperty({})
    refund_total = StringProperty("")  # what the chosen lines pay back, before any PIN
    refund_waiting = BooleanProperty(False)  # the PIN terminal has the refund: buttons wait
    alarm = BooleanProperty(False)
    stock_kind = StringProperty("goods_received")  # goods_received | stock_count
    stock_product = DictProperty({})  # id, name, stock of the product being booked

    def on_pre_enter(self, *_args) -> None:
        self.alarm = bool(getattr(self.till, "journal_alarm", None))
        if not self.report:
            self.report = _("Choose a function on the left.")

    def on_panel(self, _screen, panel: str) -> None:  # noqa: ANN001
        self.ids.panels.current = panel

    def show(self, panel: str) -> None:
        self.message, self.entry = "", ""
        self.panel = panel
        if panel == "count":
            self.build_count()

    # --- reports -------------------------------------------------------------------------
    def x_report(self) -> None:
        self.show("report")
        self.app.attempt(self.till.x_report, on_done=lambda c: setattr(
            self, "report", report_text(self.till, c)))

    def z_close(self) -> None:
        counts = {int(d): n for d, n in self.counts.items() if n}
        self.app.attempt(self.till.z_close, counted_by_denomination=counts, on_done=self._z_done)

    def _z_done(self, committed: Any) -> None:
        self.counts = {}
        self.show("report")
        self.report = report_text(self.till, committed)
        self.message = _("Day closed")

    # --- cash ----------------------------------------------------------------------------
    def key(self, key: str) -> None:
        """Cash in/out is typed in euros with a decimal key (as on the payment screen); the
        receipt number and stock count in digits."""
        if key == "C":
            self.entry = ""
        elif key == "OK":
            self.confirm()
        elif self.panel == "cash":
            self.entry = type_euros(self.entry, key)
        elif key.isdigit() and len(self.entry) < 8:
            self.entry += key

    def confirm(self) -> None:
        if self.panel == "cash":
            self.cash_movement()
        elif self.panel == "refund_find":
            self.load_receipt(self.entry)
        elif self.panel == "stock":
            self.book_stock()

    def other_reason(self) -> TextDialog:
        """A reason of the manager's own for cash in/out, typed on the on-screen keyboard."""
        def take(text: str) -> None:
            self.reason = text

        dialog = TextDialog(_("Reason for the cash movement"), take)
        dialog.open()
        return dialog

    def cash_movement(self) -> None:
        amount = euros_to_cents(self.entry)
        if not amount:
            self.message = _("Type the amount in euros")
            return
        reason = _(self.reason) if self.reason else ""
        self.app.attempt(self.till.cash_movement, kind=self.cash_kind, amount=amount, reason=reason,
                         on_done=lambda _c: self._done_cash(amount))

    def _done_cash(self, amount: int) -> None:
        self.entry = ""
        self.message = _(CASH_KINDS[self.cash_kind]) + f": {money(amount)}"

    # --- cash count ----------------------------------------------------------------------
    def build_count(self) -> None:
        """A button per coin and note (value and count); the first is chosen for typing."""
        rows = self.ids.count_rows
        rows.clear_widgets()
        for cents in self.till.config.cash.denominations_cents:
            button = w.BigButton(font_size=S(17))
            button.cents = cents
            button.bind(on_release=lambda _b, c=cents: self.choose_count(c))
            rows.add_widget(button)
        self.choose_count(self.till.config.cash.denominations_cents[0])

    def choose_count(self, cents: int) -> None:
        self.entry, self.count_cents = "", cents
        self._count_changed()

    def count_key(self, key: str) -> None:
        """Digits type the chosen coin's count; OK books it and moves to the next coin."""
        if key == "C":
            self.entry = ""
            self.counts[str(self.count_cents)] = 0
        elif key == "OK":
            if self.entry:
                self.counts[str(self.count_cents)] = int(self.entry)
            order = list(self.till.config.cash.denominations_cents)
            at = order.index(self.count_cents)
            self.choose_count(order[(at + 1) % len(order)])
            return
        elif len(self.entry) < 5:
            self.entry += key
        self._count_changed()

    def _count_changed(self) -> None:
        self.count_total = sum(int(d) * n for d, n in self.counts.items())
        for button in self.ids.count_rows.children:
            number = self.counts.get(str(button.cents), 0)
            if button.cents == self.count_cents and self.entry:
                number = self.entry
            button.text = f"{money(button.cents)}\n× {number}"
            button.tone = w.BLUE if button.cents == self.count_cents else (
                w.GREEN if number else w.GREY)

    # --- refunds and reprints ------------------------------------------------------------
    # --- stock: goods received and stock counts ----------------------------------------
    def set_stock_product(self, ref: int | str) -> None:
        """The product to book, scanned or typed as a PLU (or a code) on the keypad."""
        try:
            product = self.till.stock_product(ref)
        except TillError as exc:
            self.app.reject(error_text(exc))
            return
        self.entry = ""
        self.stock_product = {"id": product.id, "name": product.name,
                              "stock": self.till.local_stock(product.id)}
        self.message = ""

    def stock_key(self, key: str) -> None:
        if key == "OK":
            self.book_stock()
        else:
            self.key(key)

    def product_from_entry(self) -> None:
        if not self.entry:
            self.message = _("Scan a product or type its PLU")
            return
        self.set_stock_product(self.entry)

    def book_stock(self) -> None:
        if not self.stock_product:
            self.product_from_entry()
            return
        if not self.entry:
            self.message = _("Type the number of units")
            return
        units, product = int(self.entry), dict(self.stock_product)
        lines = [(product["id"], units)]
        if self.stock_kind == "goods_received":
            self.app.attempt(self.till.goods_received, lines=lines,
                             on_done=lambda _e: self._stock_done(product, units))
        else:
            self.app.attempt(self.till.stock_count, counts=lines,
                             on_done=lambda _e: self._stock_done(product, units))

    def _stock_done(self, product: dict, units: int) -> None:
        self.entry = ""
        what = _("Goods received") if self.stock_kind == "goods_received" else _("Stock counted")
        self.stock_product = {**product, "stock": self.till.local_stock(product["id"])}
        self.message = f"{what}: {units} × {product['name']}"

    def on_scan(self, code: str) -> None:
        if self.panel == "stock":
            self.set_stock_product(code)
            return
        if self.panel not in ("refund_find", "refund_lines"):
            self.app.reject(_("To refund, open Refund first and then scan the receipt"))
            return
        self.load_receipt(code)

    def load_receipt(self, code: str) -> None:
        """A receipt number or the receipt's QR code -> its lines that can still be returned."""
        self.entry = ""
        code = code.strip()
        if code.startswith("KASSA1|"):
            try:
                store, terminal, seq, short = parse_qr_payload(code)
            except ValueError:
                self.app.reject(_("Not a receipt number or receipt code") + f": {code}")
                return
            config = self.till.config.terminal
            if (store, terminal) != (config.store, config.terminal):
                self.app.reject(_("This receipt is from another till") + f" ({terminal})")
                return
        elif code.isdigit():
            seq, short = int(code), ""
        else:
            self.app.reject(_("Not a receipt number or receipt code") + f": {code}")
            return
        try:
            entry = self.till.sale_entry(seq)
            if not entry.hash.startswith(short):
                self.app.reject(_("This receipt does not match the journal"))
                return
            remaining = self.till.refundable(seq)
        except TillError as exc:
            self.app.reject(error_text(exc))
            return
        self.refund_seq = seq
        self.refund_qty = {}
        self.refund_total = ""
        self.build_refund_lines(entry, remaining)
        self.show("refund_lines")

    def build_refund_lines(self, entry: Any, remaining: dict[int, int]) -> None:
        rows = self.ids.refund_rows
        rows.clear_widgets()
        for line in entry.body["data"]["lines"]:
            if line.get("removed"):
                continue
            line_no = line["line_no"]
            left = remaining.get(line_no, 0)
            row = BoxLayout(size_hint_y=None, height=S(60), spacing=S(3))
            # the real amount paid: a weighed line's price per kg is not what comes back
            row.add_widget(Label(text=f"{line['name']}\n{line['quantity']} × "
                                 f"{money(div_round_half_up(line['gross'], line['quantity']))}"
                                 f"  ({_('left')}: {left})", font_size=S(15), size_hint_x=2.4,
                                 halign="left", valign="middle", text_size=(S(200), None)))
            qty = Label(text="0", font_size=S(22), bold=True, size_hint_x=0.6)
            minus = w.BigButton(text="−", font_size=S(24), disabled=left == 0)
            plus = w.BigButton(text="+", font_size=S(24), disabled=left == 0)
            minus.bind(on_release=lambda _b, n=line_no, q=qty, m=left: self.refund_step(n, -1, m, q))
            plus.bind(on_release=lambda _b, n=line_no, q=qty, m=left: self.refund_step(n, 1, m, q))
            plus.line_no = line_no
            for widget in (minus, qty, plus):
                row.add_widget(widget)
            rows.add_widget(row)

    def refund_step(self, line_no: int, delta: int, most: int, label: Label) -> None:
        value = min(most, max(0, self.refund_qty.get(str(line_no), 0) + delta))
        self.refund_qty[str(line_no)] = value
        label.text = str(value)
        self.refund_total = self.refund_amount("cash")

    def refund_amount(self, tender: str) -> str:
        """What the chosen lines pay back (computed by the till as the refund will be)."""
        quantities = {int(n): q for n, q in self.refund_qty.items() if q}
        if not quantities:
            return ""
        try:
            preview = self.till.refund_preview(self.refund_seq, quantities, tender)
        except TillError as exc:
            return error_text(exc)
        return money(-preview["total_paid"])

    def refund(self, tender: str = "cash", reference: str = "") -> None:
        quantities = {int(n): q for n, q in self.refund_qty.items() if q}
        amount = self.refund_amount(tender) if quantities else ""
        self.app.attempt(self.till.refund, seq=self.refund_seq, quantities=quantities,
                         tender=tender, reference=reference, on_done=self._refunded,
                         detail=(_("To refund") + f": {amount}") if amount else "")

    def card_refund(self) -> NumberDialog | None:
        """Back to the card: the payment terminal's refund reference goes into the journal."""
        if not any(self.refund_qty.values()):
            self.message = _("choose at least one line to refund")
            return None
        if self._paid_by_terminal():  # back to the same card payment, through the terminal
            self._terminal_refund()
            return None

        def take(reference: str) -> None:
            self.refund("card", reference)

        dialog = NumberDialog(_("Card terminal reference of the refund") +
                              f"\n{_('To refund')}: {self.refund_amount('card')}", "", take,
                              max_digits=12)
        dialog.open()
        return dialog

    def _terminal_refund(self) -> None:
        """refund_started is journaled here (quick and local, after the manager's PIN); the
        Reversal and any status request run on a worker thread while the screen waits. A
        refund whose outcome the last run never learnt is settled first, the same way."""
        if self.refund_waiting:
            return
        payments = self.till.payments
        if payments.refunds.pending() is not None:
            self._in_background(payments.resolve_refund, lambda _r: self._terminal_refund(),
                                _("Checking the last card refund…"))
            return
        quantities = {int(n): q for n, q in self.refund_qty.items() if q}
        self.app.attempt(payments.start_refund, seq=self.refund_seq, quantities=quantities,
                         on_done=lambda pending: self._in_background(
                             lambda: payments.send_refund(pending), self._card_refund_done,
                             _("Refund on the PIN terminal: waiting for its answer…")),
                         detail=_("To refund") + f": {self.refund_amount('card')}")

    def _in_background(self, call: Any, then: Any, waiting: str) -> None:
        self.refund_waiting = True
        self.inform(waiting)

        def work() -> None:
            try:
                result = call()
            except TillError as exc:
                failure = exc
                Clock.schedule_once(lambda _dt: self._refund_failed(failure))
                return
            Clock.schedule_once(lambda _dt: self._refund_settled(then, result))

        threading.Thread(target=work, name="pin-refund", daemon=True).start()

    def _refund_settled(self, then: Any, result: Any) -> None:
        self.refund_waiting = False
        then(result)

    def _refund_failed(self, exc: TillError) -> None:
        self.refund_waiting = False
        self.app.show_error(error_text(exc))

    def _card_refund_done(self, result: Any) -> None:
        if result.committed is not None:
            self._refunded(result.committed)
            return
        self.app.show_error(_("The card refund was not made") + f" ({result.reason})")

    def _paid_by_terminal(self) -> bool:
        """The sale was paid through the PIN terminal, which is connected now."""
        if self.till.payments is None:
            return False
        try:
            tenders = self.till.sale_entry(self.refund_seq).body["data"]["tenders"]
        except TillError:
            return False
        return any((t.get("card") or {}).get("poi_transaction_id") for t in tenders)

    def _refunded(self, committed: Any) -> None:
        data = committed.entry.body["data"]
        amount = -data["total_paid"]
        self.show("refund_find")
        tender = data["tenders"][0]
        if tender["kind"] == "card":
            self.message = _("Refunded to the card") + f": {money(amount)} ({tender['reference']})"
        else:
            self.message = _("Refunded in cash") + f": {money(amount)}"

    def reprint(self) -> None:
        """The typed receipt number; with none typed, the last completed sale (never the
        receipt last looked up). The message names the receipt printed."""
        seq = int(self.entry) if self.entry else None
        self.entry = ""
        self.app.attempt(self.till.reprint, seq=seq, on_done=lambda copy: setattr(
            self, "message", _("Copy of receipt {seq} printed").format(seq=copy.body.get("ref_seq"))))

    # --- drawer, training, alarm ---------------------------------------------------------
    def no_sale(self) -> None:
        self.app.attempt(self.till.no_sale, reason="manager",
                         on_done=lambda c: setattr(self, "message", _(
                             "Drawer opened (training)") if c.drawer == "training"
                             else _("Drawer opened")))

    def toggle_training(self) -> None:
        on = not self.till.training
        self.app.attempt(self.till.set_training, on=on, on_done=lambda _e: setattr(
            self, "message", _("Training mode on") if on else _("Training mode off")))

    def acknowledge_alarm(self) -> None:
        self.app.attempt(self.till.acknowledge_journal_alarm, on_done=self._alarm_done)

    def _alarm_done(self, _entry: Any) -> None:
        self.alarm = False
        self.message = _("Journal alarm acknowledged")
