"""The returns service: what follows a sale on its receipt number: a refund of some goods,
a void of the whole paid ticket (both counter-entries, stock comes back) and a journaled
receipt copy. Built on the kernel's public API (firmware/kernel.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from contract.money import div_round_half_up, round_to_5_cents
from firmware import deposit
from firmware.errors import (
    AlreadyRefunded,
    NoSaleToReprint,
    NoSuchReceipt,
    NoSuchReceiptLine,
    NotASale,
    NothingToRefund,
    NotRefundable,
    RefundReferenceMissing,
    RefundTenderNotAllowed,
)
from firmware.journal import Entry
from firmware.kernel import Committed, TillKernel
from firmware.models import JournalEntry
from firmware.permissions import Action, Approval
from firmware.promotions import refund_share
from firmware.sales import ticket_data
from firmware.ticket import Line, Ticket

RECEIPT_TYPES = ("sale", "refund", "void")


class ReturnService:
    """Refunds, voids of paid tickets and receipt copies."""

    def __init__(self, kernel: TillKernel) -> None:
        self.kernel = kernel
        # Run before a refund or paid void of sale seq is made (e.g. a card refund of it whose
        # outcome is not known yet: firmware/payment.py).
        self.refund_checks: list[Callable[[int], None]] = []

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
               reference: str = "", approval: Approval | None = None,
               card: dict[str, Any] | None = None) -> Committed:
        """Returns goods of receipt `seq`; never more than was sold and not yet returned.
        `card`: the PIN terminal's answer to a referenced refund (firmware/payment.py)."""
        with self.kernel.lock:
            by = self.kernel.authorise(Action.REFUND, approval)
            for check in self.refund_checks:
                check(seq)
            return self.commit_refund(seq, quantities, tender, reference, by, card)

    def commit_refund(self, seq: int, quantities: dict[int, int], tender: str, reference: str,
                      by: str | None, card: dict[str, Any] | None = None,
                      within: Callable[[], None] | None = None) -> Committed:
        """The refund entry, already authorised by `by` (a card refund the terminal approved
        is journaled even after a restart, with the manager who approved it then); `within`
        runs in the same transaction (the pending refund it settles is removed)."""
        with self.kernel.lock:
            data, refund = self._refund_data(seq, quantities, tender, reference)
            if tender == "card" and not reference.strip():
                raise RefundReferenceMissing()
            if card is not None:
                data["tenders"][0]["card"] = card
            data["approved_by"] = by
            stock = [(line.product_id, line.stock_units) for line in refund.active_lines
                     if line.stock_tracked and line.product_id is not None]
            with self.kernel.atomic("refund"):
                committed = self.kernel.commit("refund", data, ref_seq=seq, stock=stock)
                if within is not None:
                    within()
            opened = self.kernel.open_drawer_for(tender == "cash")
            self.kernel.print_receipt(committed)
            return Committed(committed, 0, opened)

    def refund_preview(self, seq: int, quantities: dict[int, int],
                       tender: str = "cash") -> dict[str, Any]:
        """What refund() would pay back, computed the same way and stored nowhere, so the
        amounts are on screen before the manager's PIN or the card reference is asked for:
        'lines' (line_no, name, quantity, amount: negative cents), 'total', 'rounding' and
        'total_paid' (what the customer gets, negative)."""
        with self.kernel.lock:
            data, _refund = self._refund_data(seq, quantities, tender, "")
            return {"lines": [{key: line[key] for key in ("line_no", "name", "quantity", "gross")}
                              for line in data["lines"]],
                    "total": data["total"], "rounding": data["rounding"],
                    "total_paid": data["total_paid"]}

    def _refund_data(self, seq: int, quantities: dict[int, int], tender: str,
                     reference: str) -> tuple[dict[str, Any], Ticket]:
        """The refund entry's data (without who approved it) and its ticket."""
        entry = self.sale_entry(seq)
        remaining = self.refundable(seq)
        if not quantities or all(q == 0 for q in quantities.values()):
            raise NothingToRefund()
        sold = {line["line_no"]: line for line in entry.body["data"]["lines"]}
        quantities = deposit.with_deposits(list(sold.values()), quantities, remaining)  # bottles go back too
        given = promotions_back(entry.body["data"], sold, remaining, quantities)
        promo_back: dict[int, int] = {}
        for promotion in given:
            for share in promotion["lines"]:
                promo_back[share["line_no"]] = promo_back.get(share["line_no"], 0) + share["discount"]
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
                discount=share, promo_discount=promo_back.get(line_no, 0),
                age_limit=original.get("age_limit", 0), deposit_for=original.get("deposit_for"),
            )
            refund.add(line)
            refund.lines[-1].line_no = line_no
        refund.promotions = given
        data = ticket_data(refund, self.kernel.rate_of)
        negate_lines(data)
        total = data["total"]
        cash_rounding = self.kernel.config.cash.round_to_5_cents
        if tender == "cash":
            delta = round_to_5_cents(total).rounded - total if cash_rounding else 0
        elif tender == "card":
            delta = 0
        else:
            raise RefundTenderNotAllowed(tender)
        data.update({
            "rounding": delta, "total_paid": total + delta,
            "tenders": [{"kind": tender, "amount": total + delta, "given": 0, "change": 0,
                         "reference": reference.strip()}],
            "change": 0,
        })
        return data, refund

    def void_sale(self, seq: int, approval: Approval | None = None) -> Committed:
        """Cancels a paid ticket with a counter-entry; stock returns."""
        with self.kernel.lock:
            by = self.kernel.authorise(Action.VOID_PAID_TICKET, approval)
            for check in self.refund_checks:
                check(seq)
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
            opened = self.kernel.open_drawer_for(any(t["kind"] == "cash" for t in data["tenders"]))
            self.kernel.print_receipt(committed)
            return Committed(committed, 0, opened)

    def last_sale_seq(self) -> int:
        """The receipt number of the last completed sale (what a reprint defaults to)."""
        row = (JournalEntry.select(JournalEntry.seq).where(JournalEntry.type == "sale")
               .order_by(JournalEntry.seq.desc()).first())
        if row is None:
            raise NoSaleToReprint()
        return row.seq

    def reprint(self, seq: int | None = None) -> Entry:
        """A copy of a receipt: journaled first, marked as a copy. With no number, the last
        completed sale (never a receipt that was only looked up)."""
        with self.kernel.lock:
            self.kernel.require_cashier()
            if seq is None:
                seq = self.last_sale_seq()
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
        if "promo_discount" in line:
            line["promo_discount"] = -line["promo_discount"]
    for vat in data["vat"]:
        for key in ("gross", "vat", "net"):
            vat[key] = -vat[key]
    for key in ("total", "discount_total", "ticket_discount"):
        data[key] = -data[key]
    for promotion in data.get("promotions", ()):
        promotion["discount"] = -promotion["discount"]
        for share in promotion["lines"]:
            share["discount"] = -share["discount"]


def promotions_back(sale: dict[str, Any], sold: dict[int, dict[str, Any]],
                    remaining: dict[int, int], quantities: dict[int, int]) -> list[dict[str, Any]]:
    """The promotions' shares a refund of `quantities` gives back (positive cents; the
    caller negates them with the rest): per promotion and line, firmware/promotions.py's
    refund_share, so returning every piece in any number of refunds gives back each share
    exactly. A promotion none of whose lines is refunded is left out."""
    back = []
    for promotion in sale.get("promotions", ()):
        shares = []
        for share in promotion["lines"]:
            line_no, quantity = share["line_no"], quantities.get(share["line_no"], 0)
            if quantity <= 0 or line_no not in sold:
                continue
            bought = sold[line_no]["quantity"]
            cents = refund_share(share["discount"], bought, bought - remaining[line_no], quantity)
            if cents:
                shares.append({"line_no": line_no, "discount": cents})
        if shares:
            back.append({"id": promotion["id"], "name": promotion["name"],
                         "version": promotion["version"],
                         "discount": sum(s["discount"] for s in shares), "lines": shares})
    return back
