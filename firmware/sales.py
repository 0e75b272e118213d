"""The sales service: building the open ticket, parking it, voiding it open and paying it.
Built on the kernel's public API (firmware/kernel.py); what follows a sale on its receipt
number (refund, void, reprint) is firmware/returns.py.

Every edit of the ticket ends with the pricing step (firmware/pricing.py); when a pricing
rule fails the edit is refused and the ticket is put back as it was. A sale is committed
(journal entry, stock, offer redemptions: one transaction) before the drawer opens and the
receipt prints.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from contract.gtin import BarcodeError
from contract.money import percent_of
from contract.product_key import sku_of
from contract.shop_time import shop_stamp
from firmware import deposit, offers
from firmware.catalogue import Catalogue, ProductInfo, Resolved
from firmware.errors import (
    NeedsWeight,
    NoSuchParkedTicket,
    NothingToPark,
    PaymentStarted,
    PricingError,
    QuantityOutOfRange,
    StorageError,
    TicketOpen,
    TillError,
    UnknownPlu,
    UnknownProductId,
    code_refused,
)
from firmware.journal import Entry
from firmware.kernel import Committed, TillKernel
from firmware.models import ParkedTicket
from firmware.permissions import Action, Approval
from firmware.price_schedule import PriceSchedule
from firmware.pricing import Pricing
from firmware.ticket import MAX_QUANTITY, MIN_QUANTITY, Line, Ticket

T = TypeVar("T")


class SalesService:
    """The open ticket and the fiscal entries made from it."""

    def __init__(self, kernel: TillKernel, catalogue: Catalogue, pricing: Pricing) -> None:
        self.kernel, self.catalogue, self.pricing = kernel, catalogue, pricing
        self.ticket = Ticket()
        self.prices = PriceSchedule(kernel.db)  # scheduled prices switch before each lookup
        self.payment_checks: list[Callable[[Ticket], None]] = []  # e.g. the age check
        # Run inside the sale's transaction (e.g. the terminal payment it settles).
        self.sale_hooks: list[Callable[[Entry], None]] = []
        # Run before the open ticket is edited, parked or voided, with what is done to it
        # (e.g. refused while the PIN terminal has a payment of it: firmware/payment.py).
        self.edit_checks: list[Callable[[Ticket, str], None]] = []

    def _may_edit(self, action: str) -> None:
        for check in self.edit_checks:
            check(self.ticket, action)

    # --- editing, always followed by pricing -------------------------------------------------
    def edit(self, change: Callable[[Ticket], T], action: str, line_no: int | None = None,
             *, prices_from_now: bool = False) -> T:
        """Applies one change to the open ticket, then prices it. A refused change or a failed
        pricing rule leaves the ticket as it was. `prices_from_now`: the change may make a
        pricing rule apply that did not before (a customer is attached)."""
        with self.kernel.lock:
            self.kernel.require_cashier()
            self._may_edit(action)
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
            try:
                self.kernel.require_cashier()
                self.prices.catch_up()
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
            self.prices.catch_up()
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
            self.prices.catch_up()
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
            stock_tracked=product.stock_tracked, age_limit=product.age_limit,
        )
        return self.edit(lambda ticket: deposit.add_line(ticket, line, product), "add",
                         self.ticket.next_line_no)

    def set_quantity(self, line_no: int, quantity: int) -> None:
        self.edit(lambda ticket: deposit.set_quantity(ticket, line_no, quantity), "quantity",
                  line_no)

    def remove_line(self, line_no: int) -> None:
        self.edit(lambda ticket: deposit.remove(ticket, line_no), "remove", line_no)

    def _needs_manager(self, base: int, cents: int) -> bool:
        return cents > percent_of(base, self.kernel.config.cash.discount_limit_percent * 100)

    def discount_line(self, line_no: int, cents: int | None = None, percent: int | None = None,
                      approval: Approval | None = None) -> None:
        with self.kernel.lock:
            cashier = self.kernel.require_cashier()
            deposit.require_own_line(self.ticket, line_no)
            line = self.ticket.line(line_no)
            cents = percent_of(line.amount, percent * 100) if percent is not None else cents or 0
            by = None
            if self._needs_manager(line.amount, cents):
                by = self.kernel.authorise(Action.LARGE_DISCOUNT, approval)
            self.edit(lambda ticket: ticket.set_line_discount(line_no, cents, by or cashier.name,
                                                              percent), "discount", line_no)

    def discount_ticket(self, cents: int | None = None, percent: int | None = None,
                        approval: Approval | None = None) -> None:
        with self.kernel.lock:
            cashier = self.kernel.require_cashier()
            base = sum(line.amount - line.discount - line.promo_discount for line in self.ticket.active_lines)
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
            deposit.require_own_line(self.ticket, line_no)
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
            self._may_edit("park")
            if self.ticket.tenders:
                raise PaymentStarted()
            row = ParkedTicket.create(created=shop_stamp("microseconds"),
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
            self._may_edit("void")
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

    def pay_card(self, amount: int | None, reference: str,
                 card: dict[str, Any] | None = None) -> Committed | None:
        return self._pay(lambda ticket: ticket.pay_card(ticket.due if amount is None else amount,
                                                        reference, card))

    def pay_voucher(self, face_value: int, code: str) -> Committed | None:
        return self._pay(lambda ticket: ticket.pay_voucher(face_value, code))

    def cancel_payments(self) -> None:
        with self.kernel.lock:
            self.kernel.require_cashier()
            self._may_edit("payments_cancelled")
            self.ticket.cancel_payments()
            self.kernel.emit("ticket", action="payments_cancelled", line_no=None)

    def _pay(self, tender: Callable[[Ticket], Any]) -> Committed | None:
        with self.kernel.lock:
            self.kernel.require_cashier()
            for check in self.payment_checks:
                check(self.ticket)
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
        return ticket_data(ticket, self.kernel.rate_of)

    def _close_sale(self) -> Committed:
        ticket = self.ticket
        data = self.ticket_data(ticket)
        data.update({
            "rounding": ticket.rounding,
            "total_paid": ticket.total + ticket.rounding,
            "tenders": [{"kind": t.kind, "amount": t.amount, "given": t.given, "change": t.change,
                         "reference": t.reference, **({"card": t.card} if t.card else {})}
                        for t in ticket.tenders],
            "change": ticket.change,
        })
        stock = [(line.product_id, -line.stock_units) for line in ticket.active_lines
                 if line.stock_tracked and line.product_id is not None]
        with self.kernel.atomic("sale"):  # the sale and its offer redemptions commit together
            entry = self.kernel.commit("sale", data, stock=stock)
            offers.record_redemptions(self.kernel, entry)
            for hook in self.sale_hooks:
                hook(entry)
        # Committed: only now does anything physical happen.
        self.ticket = Ticket()
        opened = self.kernel.open_drawer_for(any(t.kind == "cash" for t in ticket.tenders))
        self.kernel.print_receipt(entry)
        self.kernel.emit("sale", seq=entry.seq, change=ticket.change, total=data["total_paid"])
        self.kernel.emit("ticket", action="new")
        return Committed(entry, ticket.change, opened)


def ticket_data(ticket: Ticket, rate_of: Callable[[str], int]) -> dict[str, Any]:
    """The journal data of a ticket: lines with their VAT rates, VAT per rate, totals."""
    lines = []
    for line in ticket.lines:
        data = line.to_dict()
        data["rate_bp"] = rate_of(line.vat_code)
        lines.append(data)
    data = {
        "lines": lines,
        "vat": [{"code": v.code, "rate_bp": v.rate_bp, "gross": v.gross, "vat": v.vat,
                 "net": v.net} for v in ticket.vat_lines(rate_of)],
        "total": ticket.total,
        "discount_total": ticket.discount_total,
        "ticket_discount": ticket.ticket_discount,
        "customer_id": ticket.customer_id,
        **({"age_check": dict(ticket.age_check)} if ticket.age_check else {}),
    }
    data.update(promotion_data(ticket))
    return data


def promotion_data(ticket: Ticket) -> dict[str, Any]:
    """The promotions of a ticket as its entry names them (absent when there are none, so a
    ticket without promotions is journaled as before)."""
    if not ticket.promotions:
        return {}
    return {"promotions": [{**p, "lines": [dict(share) for share in p["lines"]]}
                           for p in ticket.promotions]}
