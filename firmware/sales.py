"""The sales service: building the open ticket, parking it, paying it, and what follows a
sale (refund, void, reprint). Built on the kernel's public API (firmware/kernel.py).

Every edit of the ticket ends with the pricing step (firmware/pricing.py); when a pricing
rule fails the edit is refused and the ticket is put back as it was. A sale is committed
(journal entry, stock, offer redemptions: one transaction) before the drawer opens and the
receipt prints.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any, TypeVar

from contract.gtin import BarcodeError
from contract.money import div_round_half_up, percent_of, round_to_5_cents
from contract.product_key import sku_of
from firmware import offers
from firmware.catalogue import Catalogue, ProductInfo, Resolved
from firmware.errors import (
    AlreadyRefunded,
    NeedsWeight,
    NoSuchParkedTicket,
    NoSuchReceipt,
    NoSuchReceiptLine,
    NotASale,
    NothingToPark,
    NothingToRefund,
    NotRefundable,
    PaymentStarted,
    PricingError,
    QuantityOutOfRange,
    RefundReferenceMissing,
    RefundTenderNotAllowed,
    StorageError,
    TicketOpen,
    TillError,
    UnknownPlu,
    UnknownProductId,
    code_refused,
)
from firmware.journal import Entry
from firmware.kernel import Committed, TillKernel
from firmware.models import JournalEntry, ParkedTicket
from firmware.permissions import Action, Approval
from firmware.pricing import Pricing
from firmware.ticket import MAX_QUANTITY, MIN_QUANTITY, Line, Ticket

T = TypeVar("T")
RECEIPT_TYPES = ("sale", "refund", "void")


class SalesService:
    """The open ticket and the fiscal entries made from it."""

    def __init__(self, kernel: TillKernel, catalogue: Catalogue, pricing: Pricing) -> None:
        self.kernel, self.catalogue, self.pricing = kernel, catalogue, pricing
        self.ticket = Ticket()

    # --- editing, always followed by pricing -------------------------------------------------
    def edit(self, change: Callable[[Ticket], T], action: str, line_no: int | None = None,
             *, prices_from_now: bool = False) -> T:
        """Applies one change to the open ticket, then prices it. A refused change or a failed
        pricing rule leaves the ticket as it was. `prices_from_now`: the change may make a
        pricing rule apply that did not before (a customer is attached)."""
        with self.kernel.lock:
            self.kernel.require_cashier()
            ticket = self.ticket
            snapshot = (ticket.to_dict() if prices_from_now or self.pricing.needed(ticket)
                        else None)
            result = change(ticket)
            if snapshot is not None:
                self._price(snapshot)
            self.kernel.emit("ticket", action=action, line_no=line_no)
            return result

    def _price(self, snapshot: dict[str, Any]) -> None:
        try:
            self.ticket = self.pricing.price(self.ticket)
        except PricingError:
            self.ticket = Ticket.from_dict(snapshot)
            raise

    def line(self, line_no: int) -> Line:
        return self.ticket.line(line_no)

    def scan(self, code: str) -> Line:
        """A product code from the scanner or typed in: adds the product or raises a typed
        error (also announced as a scan_rejected event carrying it under error=)."""
        with self.kernel.lock:
            self.kernel.require_cashier()
            try:
                try:
                    resolved = self.catalogue.resolve(code)
                except BarcodeError as exc:
                    raise code_refused(exc) from None
                return self._add_resolved(resolved, 1)
            except TillError as exc:
                self.kernel.emit("scan_rejected", code=code, reason=str(exc), error=exc)
                raise

    def add_product(self, product_id: int, quantity: int = 1, weight_g: int | None = None) -> Line:
        with self.kernel.lock:
            self.kernel.require_cashier()
            product = self.catalogue.by_id(product_id)
            if product is None or not product.active:
                raise UnknownProductId(product_id)
            if product.sold_by_weight and weight_g is None:
                raise NeedsWeight(product.name)
            return self._add_resolved(Resolved(product, product.gtin or product.plu or "",
                                               weight_g=weight_g), quantity)

    def add_plu(self, plu: str, quantity: int = 1) -> Line:
        with self.kernel.lock:
            self.kernel.require_cashier()
            product = self.catalogue.by_plu(plu)
            if product is None or not product.active:
                raise UnknownPlu(plu)
            return self._add_resolved(Resolved(product, plu), quantity)

    def _add_resolved(self, resolved: Resolved, quantity: int) -> Line:
        if not MIN_QUANTITY <= quantity <= MAX_QUANTITY:
            raise QuantityOutOfRange(quantity, MIN_QUANTITY, MAX_QUANTITY)
        self.kernel.require_no_alarm()
        product: ProductInfo = resolved.product
        if product.sold_by_weight and resolved.weight_g is None and resolved.embedded_price is None:
            raise NeedsWeight(product.name)
        line = Line(
            line_no=0, product_id=product.id, code=resolved.code, name=product.name,
            sku=sku_of(product.gtin, product.plu),
            vat_code=product.vat_code, unit_price=product.price_cents, quantity=quantity,
            weight_g=resolved.weight_g, embedded_price=resolved.embedded_price,
            stock_tracked=product.stock_tracked,
        )
        return self.edit(lambda ticket: ticket.add(line), "add", self.ticket.next_line_no)

    def set_quantity(self, line_no: int, quantity: int) -> None:
        self.edit(lambda ticket: ticket.set_quantity(line_no, quantity), "quantity", line_no)

    def remove_line(self, line_no: int) -> None:
        self.edit(lambda ticket: ticket.remove(line_no), "remove", line_no)

    def _needs_manager(self, base: int, cents: int) -> bool:
        return cents > percent_of(base, self.kernel.config.cash.discount_limit_percent * 100)

    def discount_line(self, line_no: int, cents: int | None = None, percent: int | None = None,
                      approval: Approval | None = None) -> None:
        with self.kernel.lock:
            cashier = self.kernel.require_cashier()
            line = self.ticket.line(line_no)
            cents = percent_of(line.amount, percent * 100) if percent is not None else cents or 0
            by = None
            if self._needs_manager(line.amount, cents):
                by = self.kernel.authorise(Action.LARGE_DISCOUNT, approval)
            self.edit(lambda ticket: ticket.set_line_discount(line_no, cents, by or cashier.name),
                      "discount", line_no)

    def discount_ticket(self, cents: int | None = None, percent: int | None = None,
                        approval: Approval | None = None) -> None:
        with self.kernel.lock:
            cashier = self.kernel.require_cashier()
            base = sum(line.amount - line.discount for line in self.ticket.active_lines)
            cents = percent_of(base, percent * 100) if percent is not None else cents or 0
            by = None
            if self._needs_manager(base, cents):
                by = self.kernel.authorise(Action.LARGE_DISCOUNT, approval)
            self.edit(lambda ticket: ticket.set_ticket_discount(cents, by or cashier.name),
                      "discount")

    def override_price(self, line_no: int, unit_price: int,
                       approval: Approval | None = None) -> None:
        """A manual price: needs a manager, and is journaled on its own as well as on the sale."""
        with self.kernel.lock:
            line = self.ticket.line(line_no)
            by = self.kernel.authorise(Action.PRICE_OVERRIDE, approval)
            old = line.unit_price
            self.edit(lambda ticket: ticket.override_price(line_no, unit_price, by), "price",
                      line_no)
            self.kernel.commit("price_override", {
                "product_id": line.product_id, "name": line.name, "old_unit_price": old,
                "new_unit_price": unit_price, "approved_by": by,
            })

    def set_customer(self, customer_id: str | None) -> None:
        """Attaches (or with None detaches) a customer; their offers are priced at once."""
        def change(ticket: Ticket) -> None:
            if ticket.tenders:
                raise PaymentStarted()
            ticket.customer_id = customer_id

        self.edit(change, "customer", prices_from_now=customer_id is not None)

    # --- park / recall / void open -------------------------------------------------------
    def park(self, label: str = "") -> int:
        with self.kernel.lock:
            cashier = self.kernel.require_cashier()
            if self.ticket.is_empty:
                raise NothingToPark()
            if self.ticket.tenders:
                raise PaymentStarted()
            row = ParkedTicket.create(created=dt.datetime.now().astimezone().isoformat(),
                                      cashier=cashier.name, label=label,
                                      payload=json.dumps(self.ticket.to_dict()))
            self.ticket = Ticket()
            self.kernel.emit("ticket", action="park")
            return row.id

    def parked(self) -> list[ParkedTicket]:
        return list(ParkedTicket.select().order_by(ParkedTicket.id))

    def recall(self, parked_id: int) -> None:
        with self.kernel.lock:
            self.kernel.require_cashier()
            if not self.ticket.is_empty:
                raise TicketOpen()
            row = ParkedTicket.get_or_none(ParkedTicket.id == parked_id)
            if row is None:
                raise NoSuchParkedTicket(parked_id)
            recalled = Ticket.from_dict(json.loads(row.payload))
            if self.pricing.needed(recalled):
                recalled = self.pricing.price(recalled)  # a failure leaves it parked
            with self.kernel.db.atomic():
                row.delete_instance()
            self.ticket = recalled
            self.kernel.emit("ticket", action="recall")

    def void_open_ticket(self) -> Entry | None:
        """Cancels the open ticket; a ticket with lines leaves a void entry in the journal."""
        with self.kernel.lock:
            self.kernel.require_cashier()
            if not self.ticket.lines:
                return None
            entry = self.kernel.commit("void", {"scope": "open", **self.ticket_data(self.ticket)})
            self.ticket = Ticket()
            self.kernel.emit("ticket", action="void")
            return entry

    def void_parked(self, parked_id: int) -> Entry:
        with self.kernel.lock:
            self.kernel.require_cashier()
            row = ParkedTicket.get_or_none(ParkedTicket.id == parked_id)
            if row is None:
                raise NoSuchParkedTicket(parked_id)
            ticket = Ticket.from_dict(json.loads(row.payload))
            with self.kernel.atomic("void"):
                entry = self.kernel.commit("void", {"scope": "parked", **self.ticket_data(ticket)})
                row.delete_instance()
            return entry

    # --- payment -------------------------------------------------------------------------
    def cash_due(self) -> int:
        return self.ticket.cash_due(self.kernel.config.cash.round_to_5_cents).rounded

    def pay_cash(self, given: int, partial: bool = False) -> Committed | None:
        rounding = self.kernel.config.cash.round_to_5_cents
        return self._pay(lambda ticket: ticket.pay_cash(given, rounding, partial))

    def pay_card(self, amount: int | None, reference: str) -> Committed | None:
        return self._pay(lambda ticket: ticket.pay_card(ticket.due if amount is None else amount,
                                                        reference))

    def pay_voucher(self, face_value: int, code: str) -> Committed | None:
        return self._pay(lambda ticket: ticket.pay_voucher(face_value, code))

    def cancel_payments(self) -> None:
        with self.kernel.lock:
            self.kernel.require_cashier()
            self.ticket.cancel_payments()
            self.kernel.emit("ticket", action="payments_cancelled", line_no=None)

    def _pay(self, tender: Callable[[Ticket], Any]) -> Committed | None:
        with self.kernel.lock:
            self.kernel.require_cashier()
            snapshot = self.ticket.to_dict()
            tender(self.ticket)
            if not self.ticket.is_paid:
                self.kernel.emit("ticket", action="tender")
                return None
            try:
                return self._close_sale()
            except StorageError:
                self.ticket = Ticket.from_dict(snapshot)
                raise

    def ticket_data(self, ticket: Ticket) -> dict[str, Any]:
        """The journal data of a ticket: lines with their VAT rates, VAT per rate, totals."""
        rate_of = self.kernel.rate_of
        lines = []
        for line in ticket.lines:
            data = line.to_dict()
            data["rate_bp"] = rate_of(line.vat_code)
            lines.append(data)
        return {
            "lines": lines,
            "vat": [{"code": v.code, "rate_bp": v.rate_bp, "gross": v.gross, "vat": v.vat,
                     "net": v.net} for v in ticket.vat_lines(rate_of)],
            "total": ticket.total,
            "discount_total": ticket.discount_total,
            "ticket_discount": ticket.ticket_discount,
            "customer_id": ticket.customer_id,
        }

    def _close_sale(self) -> Committed:
        ticket = self.ticket
        data = self.ticket_data(ticket)
        data.update({
            "rounding": ticket.rounding,
            "total_paid": ticket.total + ticket.rounding,
            "tenders": [{"kind": t.kind, "amount": t.amount, "given": t.given, "change": t.change,
                         "reference": t.reference} for t in ticket.tenders],
            "change": ticket.change,
        })
        stock = [(line.product_id, -line.stock_units) for line in ticket.active_lines
                 if line.stock_tracked and line.product_id is not None]
        with self.kernel.atomic("sale"):  # the sale and its offer redemptions commit together
            entry = self.kernel.commit("sale", data, stock=stock)
            offers.record_redemptions(self.kernel, entry)
        # Committed: only now does anything physical happen.
        self.ticket = Ticket()
        opened = any(t.kind == "cash" for t in ticket.tenders) and self.kernel.open_drawer()
        self.kernel.print_receipt(entry)
        self.kernel.emit("sale", seq=entry.seq, change=ticket.change, total=data["total_paid"])
        self.kernel.emit("ticket", action="new")
        return Committed(entry, ticket.change, opened)

    # --- after the sale ------------------------------------------------------------------
    def sale_entry(self, seq: int) -> Entry:
        entry = self.kernel.journal.get(seq)
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
        with self.kernel.lock:
            by = self.kernel.authorise(Action.REFUND, approval)
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
            data = self.ticket_data(refund)
            negate_lines(data)
            total = data["total"]
            cash_rounding = self.kernel.config.cash.round_to_5_cents
            if tender == "cash":
                delta = round_to_5_cents(total).rounded - total if cash_rounding else 0
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
            committed = self.kernel.commit("refund", data, ref_seq=seq, stock=stock)
            opened = tender == "cash" and self.kernel.open_drawer()
            self.kernel.print_receipt(committed)
            return Committed(committed, 0, opened)

    def void_sale(self, seq: int, approval: Approval | None = None) -> Committed:
        """Cancels a paid ticket with a counter-entry; stock returns."""
        with self.kernel.lock:
            by = self.kernel.authorise(Action.VOID_PAID_TICKET, approval)
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
            committed = self.kernel.commit("void", data, ref_seq=seq, stock=stock)
            opened = any(t["kind"] == "cash" for t in data["tenders"]) and self.kernel.open_drawer()
            self.kernel.print_receipt(committed)
            return Committed(committed, 0, opened)

    def reprint(self, seq: int) -> Entry:
        """A copy of a receipt: journaled first, marked as a copy."""
        with self.kernel.lock:
            self.kernel.require_cashier()
            original = self.kernel.journal.get(seq)
            if original is None or original.type not in RECEIPT_TYPES:
                raise NoSuchReceipt(seq)
            copy_entry = self.kernel.commit("receipt_copy", {"of_type": original.type},
                                            ref_seq=seq)
            self.kernel.print_receipt(original, copy=True)
            return copy_entry


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
