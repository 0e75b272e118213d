"""A cashier's and a manager's shift on the real Kivy window, checking the one-tap traps.

Usage: python -m tests.ui.shift WIDTHxHEIGHT OUT_DIR VAR_DIR
Drives the window with touch events (tests/ui/scenario.py's Driver) through sales paid in
cash (exact, a € 100 note, € 100 typed in euros), by card and by voucher, a part payment,
park/recall, a voided ticket, a refund of a weighed line, a reprint, cash out and in, the
cash count and the Z close. Records what each trap point needs (keypad positions every frame
while a PIN dialog is open, the taps per payment, the texts on screen) in
OUT_DIR/shift-WxH.json and a PNG per step; tests/ui/test_shift.py checks them.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from typing import Any

from tests.ui.scenario import WEIGHED_PLU, Driver, app_text, dialog, run_scene

LOCKOUT_SECONDS = 12  # long enough to see it counted down on a busy machine
FIVE = (2, 7, 8, 10, 12)  # € 22,63: a € 100 note is one of the quick notes


class ShiftDriver(Driver):
    """The scenario's driver, counting every tap."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.taps = 0
        self.result.update({"taps": {}, "checks": {}})

    def tap(self, widget: Any) -> None:
        self.taps += 1
        super().tap(widget)

    def check(self, name: str, value: Any) -> None:
        self.result["checks"][name] = value


class KeypadWatch:
    """Samples every frame the window position and size of each touch widget of the open
    PIN dialog (its keys and Cancel): all samples equal means nothing moved under a finger."""

    def __init__(self) -> None:
        self.samples: set[tuple] = set()
        self.frames = 0
        self.event: Any = None

    def start(self) -> None:
        from kivy.clock import Clock

        self.event = Clock.schedule_interval(self._sample, 0)

    def _sample(self, _dt: float) -> None:
        from ui.dialogs import OverrideDialog

        pin = dialog()
        if not isinstance(pin, OverrideDialog) or pin.get_root_window() is None:
            return
        widgets = [*pin.ids.keypad.children, pin.ids.cancel]
        self.samples.add(tuple((getattr(w, "key", w.text), *map(round, w.to_window(*w.pos)),
                                round(w.width), round(w.height)) for w in widgets))
        self.frames += 1

    def stop(self) -> None:
        if self.event is not None:
            self.event.cancel()


def scan_five(d: ShiftDriver, sale: Any) -> Iterator[Any]:
    lines = len(sale.ids.ticket.data) + len(FIVE)
    for n in FIVE:
        d.sims.scanner.inject(make_gtin(n))
    yield (lambda: len(sale.ids.ticket.data) == lines, "five scanned lines")
    yield 0.3


def make_gtin(n: int) -> str:
    from firmware.sim import make_gtin as gtin

    return gtin(n)


def pay_and_count(d: ShiftDriver, name: str, taps: Iterator[Any]) -> Iterator[Any]:
    """Runs `taps` (the payment, from the Pay button on) and records how many it took."""
    before = d.taps
    yield from taps
    yield (lambda: d.app.sm.current == "done", f"the done screen after {name}")
    d.result["taps"][name] = d.taps - before
    yield 0.3
    d.shot(f"{name}-done")
    done = d.app.sm.get_screen("done")
    d.check(f"{name}-done", {"headline": done.change_text, "tendered": done.tendered_text,
                             "seq": d.app.last_sale["seq"]})
    d.tap(done.ids.next)
    yield (lambda: d.app.sm.current == "sale", "the next customer")
    yield 0.2


def shift(d: ShiftDriver) -> Iterator[Any]:
    app, till = d.app, d.app.till
    sm = app.sm
    yield (lambda: sm.current == "login", "the login screen")
    yield 0.3
    yield from login(d)
    sale = sm.get_screen("sale")
    payment = app.screen("payment")

    # --- 8: a scan selects and shows its line; + acts on it at once -----------------------
    yield from scan_five(d, sale)
    d.shot("s02-five-scanned")
    last = till.ticket.active_lines[-1]
    d.check("scan", {"selected": sale.ids.ticket.selected_line, "last": last.line_no,
                     "message": sale.message, "kind": sale.message_kind,
                     "scroll_y": sale.ids.ticket.scroll_y})
    d.tap(sale.ids.qty_plus)
    yield (lambda: till.ticket.line(last.line_no).quantity == 2, "+ on the scanned line")
    d.check("plus_after_scan", {"quantity": till.ticket.line(last.line_no).quantity,
                                "message": sale.message})
    d.tap(sale.ids.qty_minus)
    yield (lambda: till.ticket.line(last.line_no).quantity == 1, "− back to one")

    # --- cash, exact: Pay, Exact -----------------------------------------------------------
    def exact() -> Iterator[Any]:
        d.tap(sale.ids.pay)
        yield (lambda: sm.current == "payment", "the payment screen")
        yield 0.3
        d.shot("s03-payment-cash")
        due = till.cash_due()
        notes = [b.cents for b in payment.ids.quick.children if hasattr(b, "cents")]
        d.check("quick_notes", {"due": due, "notes": notes})
        d.tap(payment.ids.quick.children[-1])  # Exact
    yield from pay_and_count(d, "cash-exact", exact())

    # --- cash, a € 100 note from the quick notes -----------------------------------------
    yield from scan_five(d, sale)

    def note_100() -> Iterator[Any]:
        d.tap(sale.ids.pay)
        yield (lambda: sm.current == "payment", "the payment screen")
        yield 0.3
        d.tap(next(b for b in payment.ids.quick.children if getattr(b, "cents", 0) == 10000))
    yield from pay_and_count(d, "cash-100-note", note_100())

    # --- cash, € 100 typed in euros --------------------------------------------------------
    yield from scan_five(d, sale)

    def typed_100() -> Iterator[Any]:
        d.tap(sale.ids.pay)
        yield (lambda: sm.current == "payment", "the payment screen")
        yield 0.3
        d.type(payment.ids.pay_keypad, "100")
        yield 0.2
        d.check("typed_100", {"field": payment.ids.amount.text, "cents": payment.typed_cents()})
        d.shot("s04-payment-typed-euros")
        d.key(payment.ids.pay_keypad, "OK")
    yield from pay_and_count(d, "cash-100-typed", typed_100())

    # --- card: Pay, Card (the reference field is active), the reference, OK -----------------
    yield from scan_five(d, sale)

    def card() -> Iterator[Any]:
        d.tap(sale.ids.pay)
        yield (lambda: sm.current == "payment", "the payment screen")
        yield 0.3
        d.tap(payment.ids.tab_card)
        yield (lambda: payment.method == "card", "card chosen")
        d.check("card_field", payment.field)
        d.type(payment.ids.pay_keypad, "4242")
        yield 0.3
        d.shot("s05-payment-card")
        d.key(payment.ids.pay_keypad, "OK")
    yield from pay_and_count(d, "card", card())
    d.result["card_sale"] = app.last_sale["seq"]

    yield from park_recall_void(d, sale)
    yield from partial_and_voucher(d, sale, payment)
    yield from manager_part(d)


def login(d: ShiftDriver) -> Iterator[Any]:
    """Two wrong PINs (tries left said), then the cashier's PIN."""
    login = d.app.sm.get_screen("login")
    d.shot("s00-login")
    said = []
    for _attempt in range(2):
        d.type(login.ids.keypad, "1234")
        d.key(login.ids.keypad, "OK")
        yield (lambda: bool(login.message), "the wrong-PIN message")
        said.append(login.message)
        yield 0.2
    d.shot("s01-login-tries-left")
    d.check("login_tries", said)
    d.type(login.ids.keypad, "1111")
    d.check("login_mask", login.pin_mask)
    d.key(login.ids.keypad, "OK")
    yield (lambda: d.app.sm.current == "sale", "the sale screen")
    yield 0.3


def park_recall_void(d: ShiftDriver, sale: Any) -> Iterator[Any]:
    """Two tickets parked, the list shows items and totals; Void asks first."""
    till = d.app.till
    yield from scan_five(d, sale)
    d.tap(sale.ids.park)
    yield (lambda: till.ticket.is_empty, "the first ticket parked")
    d.check("park_message", {"text": sale.message, "kind": sale.message_kind})
    yield 0.3
    d.shot("s06-parked-info")
    d.sims.scanner.inject(make_gtin(15))
    yield (lambda: len(sale.ids.ticket.data) == 1, "one line on the second ticket")
    d.tap(sale.ids.park)
    yield (lambda: till.ticket.is_empty, "the second ticket parked")
    d.tap(sale.ids.recall)
    yield (lambda: dialog() is not None, "the parked tickets")
    yield 0.3
    d.shot("s07-recall-list")
    buttons = sorted((b for b in dialog().walk() if getattr(b, "text", "").startswith("#")),
                     key=lambda b: b.text)
    d.check("recall_list", [b.text for b in buttons])
    d.tap(buttons[0])  # the first parked: the five-item ticket
    yield (lambda: dialog() is None and len(sale.ids.ticket.data) == 5, "the five-item ticket back")
    yield 0.2

    total = till.ticket.total
    d.tap(sale.ids.void)
    yield (lambda: dialog() is not None, "the void question")
    yield 0.3
    d.shot("s08-void-confirm")
    question = dialog()
    d.check("void_confirm", {"text": question.text, "lines_while_asked": len(till.ticket.active_lines),
                             "total": total})
    d.tap(question.ids.no)
    yield (lambda: dialog() is None, "the question closed")
    d.check("void_no", len(till.ticket.active_lines))
    d.tap(sale.ids.void)
    yield (lambda: dialog() is not None, "the void question again")
    yield 0.2
    d.tap(dialog().ids.yes)
    yield (lambda: dialog() is None and till.ticket.is_empty, "the ticket voided")
    d.check("void_yes", {"message": sale.message, "kind": sale.message_kind})
    d.tap(sale.ids.recall)  # the one-line ticket, the only one left
    yield (lambda: len(sale.ids.ticket.data) == 1, "the second ticket recalled")
    yield 0.2


def partial_and_voucher(d: ShiftDriver, sale: Any, payment: Any) -> Iterator[Any]:
    """€ 5 typed on a larger amount is a part payment only when confirmed; a voucher; a weighed
    product added on the keypad (refunded later)."""
    app, till, sm = d.app, d.app.till, d.app.sm
    yield from scan_five(d, sale)
    d.tap(sale.ids.tab_keypad)
    yield (lambda: sale.ids.modes.current == "keypad", "the keypad")
    d.type(sale.ids.sale_keypad, WEIGHED_PLU)
    d.key(sale.ids.sale_keypad, "OK")
    yield (lambda: dialog() is not None, "the weight dialog")
    yield 0.2
    d.type(dialog().ids.keypad, "433")
    d.key(dialog().ids.keypad, "OK")
    yield (lambda: dialog() is None and len(sale.ids.ticket.data) == 7, "the weighed line")
    yield 0.3
    d.shot("s09-ticket-weighed")
    yield from discount_price_search(d, sale)
    d.tap(sale.ids.tab_products)
    d.tap(sale.ids.pay)
    yield (lambda: sm.current == "payment", "the payment screen")
    yield 0.3
    d.type(payment.ids.pay_keypad, "5")
    d.key(payment.ids.pay_keypad, "OK")
    yield (lambda: dialog() is not None, "the part-payment question")
    yield 0.3
    d.shot("s10-part-payment-question")
    d.check("partial_question", {"text": dialog().text, "tenders": len(till.ticket.tenders)})
    d.tap(dialog().ids.no)
    yield (lambda: dialog() is None, "the question closed")
    d.check("partial_no", len(till.ticket.tenders))
    d.type(payment.ids.pay_keypad, "5")
    d.key(payment.ids.pay_keypad, "OK")
    yield (lambda: dialog() is not None, "the part-payment question again")
    yield 0.2
    d.tap(dialog().ids.yes)
    yield (lambda: dialog() is None and len(till.ticket.tenders) == 1, "the part payment taken")
    yield 0.3
    d.shot("s10b-part-paid")
    d.check("partial_yes", {"message": payment.message, "kind": payment.message_kind,
                            "due": till.ticket.due})
    d.tap(payment.ids.tab_voucher)
    yield (lambda: payment.method == "voucher", "voucher chosen")
    d.type(payment.ids.pay_keypad, "10")
    d.tap(payment.ids.reference)
    d.type(payment.ids.pay_keypad, "777")
    d.key(payment.ids.pay_keypad, "OK")
    yield (lambda: len(till.ticket.tenders) == 2, "the voucher taken")
    d.tap(payment.ids.tab_cash)
    yield (lambda: payment.method == "cash", "cash again")
    yield 0.2
    d.tap(payment.ids.quick.children[-1])  # Exact for the rest
    yield (lambda: sm.current == "done", "the done screen after cash, voucher, cash")
    d.result["weighed_sale"] = app.last_sale["seq"]
    d.result["mixed_tenders"] = [t["kind"] for t in app.last_sale["tenders"]]
    yield 0.3
    d.tap(sm.get_screen("done").ids.next)
    yield (lambda: sm.current == "sale", "the sale screen")
    yield 0.2


def discount_price_search(d: ShiftDriver, sale: Any) -> Iterator[Any]:
    """Point 11 and 7: a line discount shows its percentage, the price dialog takes euros
    with a decimal key (a manager approves), the search says how many and that there are more."""
    till = d.app.till
    ticket = sale.ids.ticket
    bottom = ticket.parent.to_window(*ticket.pos)[1]
    rows = [r for r in ticket.layout_manager.children
            if bottom - 1 <= r.to_window(*r.pos)[1] and r.to_window(*r.pos)[1] + r.height
            <= bottom + ticket.height + 1]
    d.check("room", {"ticket_lines": round(ticket.height / ticket.row_height, 2),
                     "rows_in_full": len(rows), "lines": len(ticket.data),
                     "row_px": round(ticket.row_height)})
    line = till.ticket.active_lines[-2]  # the last scanned line, above the weighed one
    row = next(r for r in sale.ids.ticket.layout_manager.children if r.line_no == line.line_no)
    d.tap(row)
    yield (lambda: sale.ids.ticket.selected_line == line.line_no, "the line selected")
    d.type(sale.ids.sale_keypad, "10")
    d.tap(sale.ids.discount)
    yield (lambda: till.ticket.line(line.line_no).discount > 0, "the line discount")
    yield 0.3
    d.shot("s09b-line-discount")
    shown = next(r for r in sale.ids.ticket.data if r["line_no"] == line.line_no)
    d.check("line_discount", {"detail": shown["detail"], "amount": line.amount,
                              "discount": till.ticket.line(line.line_no).discount})
    line = till.ticket.active_lines[-3]  # another line: a discount is kept in cents
    row = next(r for r in ticket.layout_manager.children if r.line_no == line.line_no)
    d.tap(row)
    yield (lambda: sale.ids.ticket.selected_line == line.line_no, "another line selected")
    d.tap(sale.ids.price)
    yield (lambda: dialog() is not None, "the price dialog")
    price = dialog()
    d.type(price.ids.keypad, "1,99")
    yield 0.3
    d.shot("s09c-price-euros")
    d.check("price_dialog", {"title": price.title, "shown": price.ids.value.text,
                             "caption": sale.ids.price.text})
    d.key(price.ids.keypad, "OK")
    yield (lambda: dialog() is not None and dialog() is not price, "the manager PIN for the price")
    yield 0.2
    d.type(dialog().ids.keypad, "9999")
    d.key(dialog().ids.keypad, "OK")
    yield (lambda: dialog() is None and till.ticket.line(line.line_no).unit_price == 199,
           "the new price")
    shown = next(r for r in sale.ids.ticket.data if r["line_no"] == line.line_no)
    d.check("price_changed", {"unit_price": till.ticket.line(line.line_no).unit_price,
                              "detail": shown["detail"]})
    d.tap(sale.ids.tab_search)
    keys = sale.ids.search_keys
    yield (lambda: keys.get_root_window() is not None and bool(keys.children)
           and keys.children[0].x > 1, "the letter keys")
    yield 0.3
    for letter in "KO":
        d.tap(next(b for b in keys.children if b.text == letter))
    yield (lambda: len(sale.ids.results.children) > 0, "search results")
    yield 0.3
    d.shot("s09d-search-more")
    view = sale.ids.results.parent  # the ScrollView: what lies inside it is on screen
    bottom = view.parent.to_window(*view.pos)[1]
    inside = [b for b in sale.ids.results.children
              if b.to_window(*b.pos)[1] >= bottom - 1 and b.to_window(*b.pos)[1] + b.height
              <= bottom + view.height + 1]
    d.check("search", {"message": sale.message, "kind": sale.message_kind,
                       "results": len(sale.ids.results.children), "visible": len(inside),
                       "found": len(till.catalogue.search("KO", limit=1000))})
    for _letter in "KO":
        d.tap(next(b for b in keys.children if b.text == "⌫"))
    d.tap(sale.ids.tab_keypad)
    yield 0.2


def manager_part(d: ShiftDriver) -> Iterator[Any]:
    from firmware.models import JournalEntry

    app, till, sm = d.app, d.app.till, d.app.sm
    sale = sm.get_screen("sale")
    d.tap(sale.ids.manager)
    yield (lambda: sm.current == "manager", "the manager screen")
    manager = sm.get_screen("manager")
    yield 0.3

    # --- 4: the refund of a weighed line shows its real amount, before the PIN -------------
    d.tap(manager.ids.refund)
    yield 0.2
    d.type(manager.ids.refund_keypad, str(d.result["weighed_sale"]))
    d.key(manager.ids.refund_keypad, "OK")
    yield (lambda: manager.panel == "refund_lines", "the receipt's lines")
    weighed = next(line for line in till.sale_entry(d.result["weighed_sale"]).body["data"]["lines"]
                   if line["weight_g"])
    plus = next(w for w in manager.ids.refund_rows.walk()
                if getattr(w, "line_no", None) == weighed["line_no"])
    manager.ids.refund_rows.parent.scroll_to(plus, animate=False)  # the last line: scrolled to
    yield 0.3
    d.tap(plus)
    yield (lambda: bool(manager.refund_total), "the refund total")
    yield 0.3
    d.shot("s11-refund-total")
    row_texts = [w.text for w in manager.ids.refund_rows.walk()
                 if type(w).__name__ == "Label" and "\n" in w.text]
    d.check("refund_screen", {"header": manager.refund_total, "rows": row_texts,
                              "gross": weighed["gross"], "unit_price": weighed["unit_price"]})
    watch = KeypadWatch()
    watch.start()
    d.tap(manager.ids.do_refund)
    yield (lambda: dialog() is not None, "the manager PIN dialog")
    yield 0.3
    pin = dialog()
    d.check("refund_pin_detail", pin.detail)
    d.shot("s12-refund-pin-with-total")
    said = []
    for _attempt in range(3):
        d.type(pin.ids.keypad, "1234")
        yield 0.1
        d.key(pin.ids.keypad, "OK")
        yield (lambda: bool(pin.error), "the wrong-PIN message")
        said.append(pin.error)
        yield 0.3
        if _attempt == 0:
            d.shot("s13-pin-wrong")
    d.shot("s14-pin-locked")
    first = pin.error
    yield 1.3
    d.check("pin_messages", {"said": said, "countdown": [first, pin.error],
                             "still_locked": pin.locked})
    d.type(pin.ids.keypad, "99")  # digits while locked keep the countdown on screen
    yield 0.2
    d.check("countdown_while_typing", {"text": pin.error, "locked": pin.locked})
    yield (lambda: not pin.locked, "the lockout to end", LOCKOUT_SECONDS + 10)
    yield 0.3
    d.check("after_lockout", pin.error)
    d.key(pin.ids.keypad, "C")
    d.type(pin.ids.keypad, "9999")
    d.check("pin_mask", pin.pin_mask)
    yield 0.2
    d.shot("s15-pin-typed")
    d.key(pin.ids.keypad, "OK")
    yield (lambda: dialog() is None and manager.message != "", "the refund done")
    watch.stop()
    d.result["keypad_watch"] = {"frames": watch.frames, "layouts": len(watch.samples)}
    d.check("refund_done", manager.message)
    d.sims.drawer.push_closed()
    yield 0.3
    d.shot("s16-refunded")

    # --- 5: reprint with the number field empty: the last sale, named --------------------
    d.tap(manager.ids.refund)  # the card sale looked up and backed out of: not the last sale
    yield 0.2
    d.type(manager.ids.refund_keypad, str(d.result["card_sale"]))
    d.key(manager.ids.refund_keypad, "OK")
    yield (lambda: manager.panel == "refund_lines", "the card sale's lines")
    yield 0.2
    d.tap(next(w for w in manager.ids.panels.current_screen.walk()
               if getattr(w, "text", "") == app_text("Back")))
    yield (lambda: manager.panel == "refund_find", "back to the receipt number")
    yield 0.2
    d.tap(manager.ids.reprint)
    yield (lambda: manager.message != "" and "Kopie" in manager.message, "the copy printed")
    yield 0.3
    d.shot("s17-reprint")
    row = JournalEntry.select().where(JournalEntry.type == "receipt_copy").order_by(
        JournalEntry.seq.desc()).first()
    d.check("reprint", {"message": manager.message, "kind": manager.message_kind,
                        "copy_of": row.ref_seq if row else None,
                        "last_sale": till.last_sale_seq(), "looked_up": d.result["card_sale"]})

    # --- 14: cash out then cash in within the minute: one PIN --------------------------------
    d.tap(manager.ids.cash)
    yield 0.2
    d.tap(manager.ids.kind_out)
    d.tap(manager.ids.reason_skim)
    d.type(manager.ids.cash_keypad, "25")  # euros: 2-5 is € 25,00
    d.check("cash_out_typed", manager.ids.cash_amount.text)
    d.key(manager.ids.cash_keypad, "OK")
    yield (lambda: dialog() is not None, "the PIN for cash out")
    yield 0.2
    d.type(dialog().ids.keypad, "9999")
    d.key(dialog().ids.keypad, "OK")
    yield (lambda: dialog() is None and "25,00" in manager.message, "the cash out booked")
    d.sims.drawer.push_closed()
    d.tap(manager.ids.kind_in)
    d.tap(manager.ids.reason_change)
    d.type(manager.ids.cash_keypad, "7,5")  # the decimal key: € 7,50
    d.check("cash_in_typed", manager.ids.cash_amount.text)
    d.key(manager.ids.cash_keypad, "OK")
    yield 0.5
    d.check("cash_in_asked_pin", dialog() is not None)
    yield (lambda: "7,50" in manager.message, "the cash in booked")
    d.sims.drawer.push_closed()
    yield 0.3
    d.shot("s18-cash-in-out")

    # --- 6: the drawer left open: a popup; the Z asks to close it first --------------------
    d.drawer_popup_ok = True
    d.sims.drawer.set_open(True)
    yield (lambda: getattr(app, "drawer_dialog", None) is not None, "the drawer-left-open popup")
    yield 0.4
    d.shot("s19-drawer-popup")
    d.check("drawer_popup", dialog().text)
    d.tap(dialog().children[0].children[0])  # OK: acknowledged, the drawer still open
    yield (lambda: dialog() is None, "the popup acknowledged")
    d.tap(manager.ids.z_close)
    yield (lambda: len(manager.ids.count_rows.children) > 0, "the cash count")
    yield 0.3
    d.tap(next(b for b in manager.ids.count_rows.children if b.cents == 2000))
    d.type(manager.ids.count_keypad, "1")
    d.key(manager.ids.count_keypad, "OK")  # one twenty
    yield 0.2
    d.shot("s20-cash-count")
    d.tap(manager.ids.close_day)
    yield (lambda: manager.message != "", "the Z refused with the drawer open")
    yield 0.3
    d.shot("s21-z-drawer-open")
    d.check("z_with_drawer_open", {"message": manager.message, "kind": manager.message_kind,
                                   "pin_asked": dialog() is not None,
                                   "z_entries": JournalEntry.select().where(
                                       JournalEntry.type == "z_close").count()})
    d.sims.drawer.push_closed()
    yield (lambda: getattr(app, "drawer_dialog", None) is None and dialog() is None, "no popup")
    d.drawer_popup_ok = False
    yield 1.0
    d.tap(manager.ids.close_day)
    yield (lambda: dialog() is not None, "the PIN for the Z")
    yield 0.2
    d.type(dialog().ids.keypad, "9999")
    d.key(dialog().ids.keypad, "OK")
    yield (lambda: "Z" in manager.report and dialog() is None, "the Z report")
    yield 0.3
    d.shot("s22-z-report")
    d.check("z_done", JournalEntry.select().where(JournalEntry.type == "z_close").count())
    rows = JournalEntry.select(JournalEntry.type, JournalEntry.body).order_by(JournalEntry.seq)
    bodies = [(r.type, json.loads(r.body)) for r in rows]
    d.result["cash_moves"] = [(t, b["data"].get("approved_by"), b["data"].get("amount"))
                              for t, b in bodies if t in ("cash_in", "cash_out")]
    d.result["refunds"] = [b["data"] for t, b in bodies if t == "refund"]
    d.result["voids"] = [b["data"].get("scope") for t, b in bodies if t == "void"]
    d.result["finished_shift"] = time.time()


def main(argv: list[str]) -> int:
    return run_scene(argv, "shift", {"terminal": {"lockout_seconds": LOCKOUT_SECONDS},
                                     "drawer": {"open_alert_seconds": 1}}, shift, ShiftDriver)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
