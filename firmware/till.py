"""The till service: the one place where scans, taps and payments become journal entries.

The UI, the simulator and the tests all drive this class; it enforces permissions, commits
every fiscal event (with its stock change) before anything physical happens, and only then
opens the drawer and queues the receipt.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import peewee

from contract.cards import is_card
from contract.config import Config
from contract.gtin import BarcodeError
from contract.money import div_round_half_up, percent_of, round_to_5_cents
from contract.product_key import sku_of
from firmware import customers, offers, stock_ops
from firmware.catalogue import Catalogue, ProductInfo, Resolved
from firmware.errors import (
    AlreadyRefunded,
    AmountNotPositive,
    BadPieceCount,
    JournalAlarmActive,
    NeedsWeight,
    NoJournalAlarm,
    NoSuchParkedTicket,
    NoSuchReceipt,
    NoSuchReceiptLine,
    NotASale,
    NothingToPark,
    NothingToRefund,
    NotLoggedIn,
    NotRefundable,
    PaymentStarted,
    QuantityOutOfRange,
    ReasonRequired,
    RefundReferenceMissing,
    RefundTenderNotAllowed,
    StorageError,
    TicketOpen,
    TillError,
    TrainingActive,
    TrainingAlreadyOff,
    TrainingAlreadyOn,
    UnknownCashMovement,
    UnknownDenomination,
    UnknownPlu,
    UnknownProductId,
    code_refused,
    storage_error,
)
from firmware.journal import Entry, Journal
from firmware.models import JournalEntry, ParkedTicket
from firmware.permissions import Action, Approval, authorising_manager
from firmware.ports import DeviceError, Drawer
from firmware.print_queue import PrintJob, PrintQueue
from firmware.receipt import build_receipt
from firmware.ticket import MAX_QUANTITY, MIN_QUANTITY, Line, Ticket
from firmware.users import AuthError, Cashier, Users

__all__ = ["Committed", "StorageError", "TillError", "TillService"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Committed:
    """A committed fiscal entry and what follows it physically."""

    entry: Entry
    change: int = 0
    drawer_opened: bool = False


Listener = Callable[[str, dict[str, Any]], None]


class TillService:
    def __init__(
        self,
        config: Config,
        db: peewee.SqliteDatabase,
        journal: Journal,
        drawer: Drawer | None = None,
        print_queue: PrintQueue | None = None,
        users: Users | None = None,
    ) -> None:
        self.config, self.db, self.journal = config, db, journal
        self.catalogue = Catalogue.for_scanner(db, config.scanner)
        self.users = users or Users(config.terminal.pin_attempts, config.terminal.lockout_seconds)
        self.drawer = drawer
        self.print_queue = print_queue
        self.ticket = Ticket()
        self.cashier: Cashier | None = None
        self.training = False
        self.journal_alarm: str | None = None  # set by the start-up check (firmware/integrity.py)
        self.journal_alarm_codes: list[dict[str, Any]] = []
        self.language = config.ui.language
        self._listeners: list[Listener] = [offers.ticket_listener(self)]  # offer discounts first
        self._lock = threading.RLock()
        self._deferred: list[dict[str, Any]] | None = None  # committed events awaiting COMMIT

    # --- events --------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def emit(self, event: str, **data: Any) -> None:
        for listener in list(self._listeners):
            try:
                listener(event, data)
            except Exception:
                log.exception("listener failed on %s", event)

    # --- helpers -------------------------------------------------------------------------
    def _require_cashier(self) -> Cashier:
        if self.cashier is None:
            raise NotLoggedIn()
        return self.cashier

    def rate_of(self, vat_code: str) -> int:
        return self.config.tax.rate_bp(vat_code, dt.date.today())

    def _commit(self, entry_type: str, data: dict[str, Any] | Callable[[], dict[str, Any]], *,
                ref_seq: int | None = None, stock: list[tuple[int, int]] = (),
                cashier: str | None = None) -> Entry:
        """Writes one journal entry and its stock changes in one transaction, or nothing.

        `data` may be a function, called inside the transaction (reports read the totals).
        """
        name = cashier if cashier is not None else (self.cashier.name if self.cashier else None)
        if self.journal_alarm and entry_type not in ALLOWED_DURING_ALARM:
            raise self._alarm_error()
        try:
            with self._atomic():
                if callable(data):
                    data = data()
                entry = self.journal.append(entry_type, data, cashier=name,
                                            training=self.training, ref_seq=ref_seq)
                if not self.training and stock:
                    self.db.cursor().executemany(
                        "INSERT INTO stock_level (product_id, quantity) VALUES (?, ?) ON CONFLICT"
                        "(product_id) DO UPDATE SET quantity = quantity + excluded.quantity",
                        list(stock))
                self._deferred.append({"seq": entry.seq, "type": entry_type})
        except (peewee.OperationalError, peewee.DatabaseError, sqlite3.Error, OSError) as exc:
            raise storage_error(exc, entry_type) from exc
        return entry

    @contextlib.contextmanager
    def _atomic(self) -> Any:
        """A write transaction. 'committed' events wait for the outermost one to commit, so
        nothing is announced (or printed by `kassa sim`) that a crash could still undo."""
        outer = self._deferred is None
        if outer:
            self._deferred = []
        try:
            with self.journal.transaction():
                yield
        except BaseException:
            if outer:
                self._deferred = None
            raise
        if outer:
            events, self._deferred = self._deferred, None
            for event in events:
                self.emit("committed", **event)

    def _alarm_error(self) -> JournalAlarmActive:
        codes = [str(p.get("code", "")) for p in self.journal_alarm_codes] or ["journal"]
        return JournalAlarmActive(",".join(dict.fromkeys(codes)))

    def _open_drawer(self) -> bool:
        if self.drawer is None:
            return False
        try:
            self.drawer.open()
        except DeviceError as exc:
            self.emit("device", device="drawer", state="error", detail=str(exc))
            return False
        return True

    def _print(self, entry: Entry, copy: bool = False) -> PrintJob | None:
        if self.print_queue is None:
            return None
        document = build_receipt(entry.body, entry.hash, self.config.terminal,
                                 self.config.printer.columns, self.language, copy=copy)
        return self.print_queue.submit(entry.seq, document)

    # --- sessions ------------------------------------------------------------------------
    def login(self, pin: str) -> Cashier:
        with self._lock:
            try:
                cashier = self.users.authenticate(pin)
            except AuthError as exc:
                self.emit("auth_failed", reason=str(exc), error=exc)
                raise
            if self.cashier is not None and self.cashier.id != cashier.id:
                self.logout()
            self.cashier = cashier
            self._commit("login", {"role": cashier.role}, cashier=cashier.name)
            self.emit("session", cashier=cashier.name, role=cashier.role)
            return cashier

    def logout(self) -> None:
        with self._lock:
            if self.cashier is None:
                return
            if not self.ticket.is_empty:
                self.park(label="logout")
            self._commit("logout", {})
            self.cashier = None
            self.emit("session", cashier=None, role=None)

    def approve(self, pin: str, action: Action) -> Approval:
        """A manager's PIN for one action (the override dialog)."""
        manager = self.users.authenticate(pin, role="manager")
        return Approval(manager, action)

    def _authorise(self, action: Action, approval: Approval | None) -> str | None:
        manager = authorising_manager(self._require_cashier(), action, approval)
        return manager.name if manager else None

    # --- building the ticket -------------------------------------------------------------
    def scan(self, code: str) -> Line | None:
        """A code from the scanner or typed in: adds the product, or raises with the reason.
        A loyalty card (scanner.loyalty_prefix) attaches its customer and returns None."""
        with self._lock:
            self._require_cashier()
            if is_card(code, self.config.scanner.loyalty_prefix):
                self.attach_card(code)
                return None
            try:
                resolved = self.catalogue.resolve(code)
                return self._add_resolved(resolved, 1)
            except BarcodeError as exc:
                error = code_refused(exc)
                self.emit("scan_rejected", code=code, reason=str(error), error=error)
                raise error from None
            except TillError as exc:
                self.emit("scan_rejected", code=code, reason=str(exc), error=exc)
                raise

    def add_product(self, product_id: int, quantity: int = 1, weight_g: int | None = None) -> Line:
        with self._lock:
            self._require_cashier()
            product = self.catalogue.by_id(product_id)
            if product is None or not product.active:
                raise UnknownProductId(product_id)
            if product.sold_by_weight and weight_g is None:
                raise NeedsWeight(product.name)
            return self._add_resolved(Resolved(product, product.gtin or product.plu or "",
                                               weight_g=weight_g), quantity)

    def add_plu(self, plu: str, quantity: int = 1) -> Line:
        with self._lock:
            self._require_cashier()
            product = self.catalogue.by_plu(plu)
            if product is None or not product.active:
                raise UnknownPlu(plu)
            return self._add_resolved(Resolved(product, plu), quantity)

    def _add_resolved(self, resolved: Resolved, quantity: int) -> Line:
        if not MIN_QUANTITY <= quantity <= MAX_QUANTITY:
            raise QuantityOutOfRange(quantity, MIN_QUANTITY, MAX_QUANTITY)
        if self.journal_alarm:
            raise self._alarm_error()
        product: ProductInfo = resolved.product
        if product.sold_by_weight and resolved.weight_g is None and resolved.embedded_price is None:
            raise NeedsWeight(product.name)
        line = self.ticket.add(Line(
            line_no=0, product_id=product.id, code=resolved.code, name=product.name,
            sku=sku_of(product.gtin, product.plu),
            vat_code=product.vat_code, unit_price=product.price_cents, quantity=quantity,
            weight_g=resolved.weight_g, embedded_price=resolved.embedded_price,
            stock_tracked=product.stock_tracked,
        ))
        self.emit("ticket", action="add", line_no=line.line_no)
        return line

    def _edit(self, change: Callable[[], Any], action: str, line_no: int | None = None) -> Any:
        with self._lock:
            self._require_cashier()
            result = change()
            self.emit("ticket", action=action, line_no=line_no)
            return result

    def set_quantity(self, line_no: int, quantity: int) -> None:
        self._edit(lambda: self.ticket.set_quantity(line_no, quantity), "quantity", line_no)

    def remove_line(self, line_no: int) -> None:
        self._edit(lambda: self.ticket.remove(line_no), "remove", line_no)

    def _discount_needs_manager(self, base: int, cents: int) -> bool:
        return cents > percent_of(base, self.config.cash.discount_limit_percent * 100)

    def discount_line(self, line_no: int, cents: int | None = None, percent: int | None = None,
                      approval: Approval | None = None) -> None:
        with self._lock:
            line = self._line(line_no)
            cents = percent_of(line.amount, percent * 100) if percent is not None else cents or 0
            by = None
            if self._discount_needs_manager(line.amount, cents):
                by = self._authorise(Action.LARGE_DISCOUNT, approval)
            self._edit(lambda: self.ticket.set_line_discount(line_no, cents, by or self.cashier.name),
                       "discount", line_no)

    def discount_ticket(self, cents: int | None = None, percent: int | None = None,
                        approval: Approval | None = None) -> None:
        with self._lock:
            base = sum(line.amount - line.discount for line in self.ticket.active_lines)
            cents = percent_of(base, percent * 100) if percent is not None else cents or 0
            by = None
            if self._discount_needs_manager(base, cents):
                by = self._authorise(Action.LARGE_DISCOUNT, approval)
            self._edit(lambda: self.ticket.set_ticket_discount(cents, by or self.cashier.name),
                       "discount")

    def override_price(self, line_no: int, unit_price: int, approval: Approval | None = None) -> None:
        """A manual price: needs a manager, and is journaled on its own as well as on the sale."""
        with self._lock:
            line = self._line(line_no)
            by = self._authorise(Action.PRICE_OVERRIDE, approval)
            old = line.unit_price
            self._edit(lambda: self.ticket.override_price(line_no, unit_price, by), "price", line_no)
            self._commit("price_override", {
                "product_id": line.product_id, "name": line.name, "old_unit_price": old,
                "new_unit_price": unit_price, "approved_by": by,
            })

    def _line(self, line_no: int) -> Line:
        return self.ticket.line(line_no)

    # --- park / recall / void open -------------------------------------------------------
    def park(self, label: str = "") -> int:
        with self._lock:
            cashier = self._require_cashier()
            if self.ticket.is_empty:
                raise NothingToPark()
            if self.ticket.tenders:
                raise PaymentStarted()
            row = ParkedTicket.create(created=dt.datetime.now().astimezone().isoformat(),
                                      cashier=cashier.name, label=label,
                                      payload=json.dumps(self.ticket.to_dict()))
            self.ticket = Ticket()
            self.emit("ticket", action="park")
            return row.id

    def parked(self) -> list[ParkedTicket]:
        return list(ParkedTicket.select().order_by(ParkedTicket.id))

    def recall(self, parked_id: int) -> None:
        with self._lock:
            self._require_cashier()
            if not self.ticket.is_empty:
                raise TicketOpen()
            row = ParkedTicket.get_or_none(ParkedTicket.id == parked_id)
            if row is None:
                raise NoSuchParkedTicket(parked_id)
            with self.db.atomic():
                self.ticket = Ticket.from_dict(json.loads(row.payload))
                row.delete_instance()
            self.emit("ticket", action="recall")

    def void_open_ticket(self) -> Entry | None:
        """Cancels the open ticket; a ticket with lines leaves a void entry in the journal."""
        with self._lock:
            self._require_cashier()
            if not self.ticket.lines:
                return None
            entry = self._commit("void", {"scope": "open", **self._ticket_data(self.ticket)})
            self.ticket = Ticket()
            self.emit("ticket", action="void")
            return entry

    def void_parked(self, parked_id: int) -> Entry:
        with self._lock:
            self._require_cashier()
            row = ParkedTicket.get_or_none(ParkedTicket.id == parked_id)
            if row is None:
                raise NoSuchParkedTicket(parked_id)
            ticket = Ticket.from_dict(json.loads(row.payload))
            with self._atomic():
                entry = self._commit("void", {"scope": "parked", **self._ticket_data(ticket)})
                row.delete_instance()
            return entry

    # --- payment -------------------------------------------------------------------------
    def cash_due(self) -> int:
        return self.ticket.cash_due(self.config.cash.round_to_5_cents).rounded

    def pay_cash(self, given: int, partial: bool = False) -> Committed | None:
        return self._pay(lambda: self.ticket.pay_cash(given, self.config.cash.round_to_5_cents, partial))

    def pay_card(self, amount: int | None, reference: str) -> Committed | None:
        return self._pay(lambda: self.ticket.pay_card(self.ticket.due if amount is None else amount,
                                                      reference))

    def pay_voucher(self, face_value: int, code: str) -> Committed | None:
        return self._pay(lambda: self.ticket.pay_voucher(face_value, code))

    def cancel_payments(self) -> None:
        self._edit(self.ticket.cancel_payments, "payments_cancelled")

    def _pay(self, tender: Callable[[], Any]) -> Committed | None:
        with self._lock:
            self._require_cashier()
            snapshot = self.ticket.to_dict()
            tender()
            if not self.ticket.is_paid:
                self.emit("ticket", action="tender")
                return None
            try:
                return self._close_sale()
            except StorageError:
                self.ticket = Ticket.from_dict(snapshot)
                raise

    def _ticket_data(self, ticket: Ticket) -> dict[str, Any]:
        lines = []
        for line in ticket.lines:
            data = line.to_dict()
            data["rate_bp"] = self.rate_of(line.vat_code)
            lines.append(data)
        return {
            "lines": lines,
            "vat": [{"code": v.code, "rate_bp": v.rate_bp, "gross": v.gross, "vat": v.vat,
                     "net": v.net} for v in ticket.vat_lines(self.rate_of)],
            "total": ticket.total,
            "discount_total": ticket.discount_total,
            "ticket_discount": ticket.ticket_discount,
            "customer_id": ticket.customer_id,
        }

    def _close_sale(self) -> Committed:
        ticket = self.ticket
        data = self._ticket_data(ticket)
        data.update({
            "rounding": ticket.rounding,
            "total_paid": ticket.total + ticket.rounding,
            "tenders": [{"kind": t.kind, "amount": t.amount, "given": t.given, "change": t.change,
                         "reference": t.reference} for t in ticket.tenders],
            "change": ticket.change,
        })
        stock = [(line.product_id, -line.stock_units) for line in ticket.active_lines
                 if line.stock_tracked and line.product_id is not None]
        try:
            with self._atomic():  # the sale and its offer redemptions commit together
                entry = self._commit("sale", data, stock=stock)
                offers.record_redemptions(self, entry)
        except (peewee.DatabaseError, sqlite3.Error, OSError) as exc:
            raise storage_error(exc, "sale") from exc
        # Committed: only now does anything physical happen.
        self.ticket = Ticket()
        opened = any(t.kind == "cash" for t in ticket.tenders) and self._open_drawer()
        self._print(entry)
        self.emit("sale", seq=entry.seq, change=ticket.change, total=data["total_paid"])
        self.emit("ticket", action="new")
        return Committed(entry, ticket.change, opened)

    # --- after the sale ------------------------------------------------------------------
    def sale_entry(self, seq: int) -> Entry:
        entry = self.journal.get(seq)
        if entry is None or entry.type != "sale":
            raise NotASale(seq)
        return entry

    def refundable(self, seq: int) -> dict[int, int]:
        """line_no -> quantity that can still be refunded from sale `seq`."""
        entry = self.sale_entry(seq)
        remaining = {line["line_no"]: line["quantity"] for line in entry.body["data"]["lines"]
                     if not line.get("removed")}
        for row in JournalEntry.select().where(JournalEntry.ref_seq == seq,
                                              JournalEntry.type.in_(("refund", "void"))):
            body = json.loads(row.body)
            if body["type"] == "void":
                return dict.fromkeys(remaining, 0)
            for line in body["data"]["lines"]:
                remaining[line["line_no"]] -= -line["quantity"]
        return remaining

    def refund(self, seq: int, quantities: dict[int, int], tender: str = "cash",
               reference: str = "", approval: Approval | None = None) -> Committed:
        """Returns goods of receipt `seq`; never more than was sold and not yet returned."""
        with self._lock:
            by = self._authorise(Action.REFUND, approval)
            entry = self.sale_entry(seq)
            remaining = self.refundable(seq)
            if not quantities or all(q == 0 for q in quantities.values()):
                raise NothingToRefund()
            sold = {line["line_no"]: line for line in entry.body["data"]["lines"]}
            refund = Ticket()
            for line_no, quantity in sorted(quantities.items()):
                if line_no not in remaining:
                    raise NoSuchReceiptLine(seq, line_no)
                if quantity < 0 or quantity > remaining[line_no]:
                    raise NotRefundable(line_no, quantity, remaining[line_no])
                if quantity == 0:
                    continue
                original = sold[line_no]
                # The customer gets back what they paid for these pieces, discounts included.
                share = div_round_half_up(
                    (original["discount"] + original["ticket_discount"]) * quantity,
                    original["quantity"])
                line = Line(
                    line_no=0, product_id=original["product_id"], code=original["code"],
                    sku=original.get("sku", ""),
                    name=original["name"], vat_code=original["vat_code"],
                    unit_price=original["unit_price"], quantity=quantity,
                    weight_g=original["weight_g"], embedded_price=original["embedded_price"],
                    stock_tracked=original["stock_tracked"],
                    discount=share,
                )
                refund.add(line)
                refund.lines[-1].line_no = line_no
            data = self._ticket_data(refund)
            negate_lines(data)
            total = data["total"]
            if tender == "cash":
                rounding = (round_to_5_cents(total) if self.config.cash.round_to_5_cents
                            else round_to_5_cents(0))
                delta = rounding.rounded - total if self.config.cash.round_to_5_cents else 0
            elif tender == "card":
                if not reference.strip():
                    raise RefundReferenceMissing()
                delta = 0
            else:
                raise RefundTenderNotAllowed(tender)
            data.update({
                "rounding": delta, "total_paid": total + delta,
                "tenders": [{"kind": tender, "amount": total + delta, "given": 0, "change": 0,
                             "reference": reference.strip()}],
                "change": 0, "approved_by": by,
            })
            stock = [(line.product_id, line.stock_units) for line in refund.active_lines
                     if line.stock_tracked and line.product_id is not None]
            committed = self._commit("refund", data, ref_seq=seq, stock=stock)
            opened = tender == "cash" and self._open_drawer()
            self._print(committed)
            return Committed(committed, 0, opened)

    def void_sale(self, seq: int, approval: Approval | None = None) -> Committed:
        """Cancels a paid ticket with a counter-entry; stock returns."""
        with self._lock:
            by = self._authorise(Action.VOID_PAID_TICKET, approval)
            entry = self.sale_entry(seq)
            remaining = self.refundable(seq)
            sold = {line["line_no"]: line["quantity"] for line in entry.body["data"]["lines"]
                    if not line.get("removed")}
            if remaining != sold:
                raise AlreadyRefunded(seq)
            data = json.loads(json.dumps(entry.body["data"]))
            data["lines"] = [line for line in data["lines"] if not line.get("removed")]
            negate_lines(data)
            for key in ("rounding", "total_paid", "change"):
                data[key] = -data[key]
            for tender in data["tenders"]:
                tender["amount"], tender["given"], tender["change"] = -tender["amount"], 0, 0
            data.update({"scope": "paid", "approved_by": by})
            stock = [(line["product_id"], -line["stock_units"]) for line in data["lines"]
                     if line["stock_tracked"] and line["product_id"] is not None]
            committed = self._commit("void", data, ref_seq=seq, stock=stock)
            opened = any(t["kind"] == "cash" for t in data["tenders"]) and self._open_drawer()
            self._print(committed)
            return Committed(committed, 0, opened)

    def reprint(self, seq: int) -> Entry:
        """A copy of a receipt: journaled first, marked as a copy."""
        with self._lock:
            self._require_cashier()
            original = self.journal.get(seq)
            if original is None or original.type not in ("sale", "refund", "void"):
                raise NoSuchReceipt(seq)
            copy_entry = self._commit("receipt_copy", {"of_type": original.type}, ref_seq=seq)
            self._print(original, copy=True)
            return copy_entry

    # --- drawer and cash -----------------------------------------------------------------
    def no_sale(self, reason: str = "", approval: Approval | None = None) -> Committed:
        with self._lock:
            by = self._authorise(Action.NO_SALE, approval)
            entry = self._commit("no_sale", {"reason": reason, "approved_by": by})
            return Committed(entry, 0, self._open_drawer())

    def cash_movement(self, kind: str, amount: int, reason: str,
                      approval: Approval | None = None) -> Committed:
        """Opening float, cash in or cash out; journaled before the drawer opens."""
        with self._lock:
            if kind not in ("float", "cash_in", "cash_out"):
                raise UnknownCashMovement(kind)
            if amount <= 0:
                raise AmountNotPositive(amount)
            if kind != "float" and not reason.strip():
                raise ReasonRequired()
            by = self._authorise(Action.CASH_IN_OUT, approval)
            entry = self._commit(kind, {"amount": amount, "reason": reason.strip(), "approved_by": by})
            return Committed(entry, 0, self._open_drawer())

    def set_training(self, on: bool, approval: Approval | None = None) -> Entry:
        with self._lock:
            by = self._authorise(Action.TRAINING, approval)
            if on == self.training:
                raise TrainingAlreadyOn() if on else TrainingAlreadyOff()
            if not self.ticket.is_empty:
                raise TicketOpen()
            if on:
                entry = self._commit("training_on", {"approved_by": by})
                self.training = True
            else:
                self.training = False
                entry = self._commit("training_off", {"approved_by": by})
            self.emit("training", on=on)
            return entry


    # --- customers, favourites and stock (firmware/customers.py, offers.py, stock_ops.py) ---
    def attach_card(self, card: str) -> customers.CustomerInfo:
        """A scanned or typed loyalty card: its customer goes on the ticket, offers apply."""
        with self._lock:
            self._require_cashier()
            try:
                customer = customers.by_card(self, card)
            except TillError as exc:
                self.emit("scan_rejected", code=card, reason=str(exc), error=exc)
                raise
            return customers.attach(self, customer)

    def search_customers(self, text: str) -> list[customers.CustomerInfo]:
        return customers.search(self, text)

    def attach_customer(self, customer: customers.CustomerInfo) -> customers.CustomerInfo:
        with self._lock:
            self._require_cashier()
            return customers.attach(self, customer)

    def detach_customer(self) -> None:
        with self._lock:
            customers.detach(self)

    def add_favourite(self, line_no: int) -> Entry:
        """The line's product becomes the attached customer's favourite (a line action)."""
        with self._lock:
            self._require_cashier()
            return customers.add_favourite(self, line_no)

    def goods_received(self, lines: list[tuple[int | str, int]], supplier: str = "",
                       reference: str = "", approval: Approval | None = None) -> Entry:
        return stock_ops.goods_received(self, lines, supplier, reference, approval)

    def stock_count(self, counts: list[tuple[int | str, int]], note: str = "",
                    approval: Approval | None = None) -> Entry:
        return stock_ops.stock_count(self, counts, note, approval)

    # --- reports and the journal alarm (firmware/reports.py, firmware/integrity.py) ---------
    def x_report(self) -> Committed:
        """An interim report of the open period: journaled and printed, nothing reset."""
        from firmware import reports
        from firmware.receipt import build_report

        with self._lock:
            self._authorise(Action.X_REPORT, None)
            entry = self._commit("x_report", lambda: reports.x_data(self.journal))
            self._print_document(entry, build_report(entry.body, entry.hash, self.config.terminal,
                                                     self.config.printer.columns, self.language))
            return Committed(entry)

    def z_close(self, counted_by_denomination: dict[int, int],
                approval: Approval | None = None) -> Committed:
        """Closes the day: figures, counted cash and variance in one z_close entry."""
        from firmware import reports
        from firmware.receipt import build_report

        with self._lock:
            by = self._authorise(Action.Z_CLOSE, approval)
            if self.training:
                raise TrainingActive()
            if not self.ticket.is_empty:
                raise TicketOpen()
            denominations = self.config.cash.denominations_cents
            for denomination, pieces in counted_by_denomination.items():
                if denomination not in denominations:
                    raise UnknownDenomination(denomination)
                if isinstance(pieces, bool) or not isinstance(pieces, int) or pieces < 0:
                    raise BadPieceCount(denomination, pieces)
            counted = reports.counted_cash(counted_by_denomination, denominations)
            entry = self._commit("z_close", lambda: reports.z_data(self.journal, counted, by))
            self._print_document(entry, build_report(entry.body, entry.hash, self.config.terminal,
                                                     self.config.printer.columns, self.language))
            self.emit("z_close", seq=entry.seq, z_number=entry.body["data"]["z_number"])
            return Committed(entry)

    def _print_document(self, entry: Entry, document: dict[str, Any]) -> None:
        if self.print_queue is not None:
            self.print_queue.submit(entry.seq, document)

    def acknowledge_journal_alarm(self, approval: Approval | None = None) -> Entry:
        """A manager accepts the start-up alarm; the acknowledgement is journaled."""
        from firmware import reports

        with self._lock:
            if not self.journal_alarm:
                raise NoJournalAlarm()
            by = self._authorise(Action.ACK_JOURNAL_ALARM, approval)
            from firmware import integrity

            with self._atomic():
                entry = self._commit("journal_alarm_ack", {
                    "problem": self.journal_alarm, "problems": self.journal_alarm_codes,
                    "approved_by": by})
                integrity.clear_alarm(self.journal)
            if any(p["code"] in RESYNC_CODES for p in self.journal_alarm_codes):
                reports.resync_totals(self.journal)
            self.journal_alarm, self.journal_alarm_codes = None, []
            self.emit("journal_alarm", active=False)
            return entry


ALLOWED_DURING_ALARM = frozenset({"login", "logout", "journal_alarm_ack", "software_start"})
RESYNC_CODES = frozenset({"totals", "truncated", "missing"})  # counters may disagree: rebuild


def negate_lines(data: dict[str, Any]) -> None:
    """Turns the amounts of a ticket's data into a counter-entry (refund or void)."""
    for line in data["lines"]:
        for key in ("quantity", "amount", "gross", "discount", "ticket_discount", "stock_units"):
            line[key] = -line[key]
    for vat in data["vat"]:
        for key in ("gross", "vat", "net"):
            vat[key] = -vat[key]
    for key in ("total", "discount_total", "ticket_discount"):
        data[key] = -data[key]
