"""Deposit (statiegeld): a product linked to a deposit item brings its deposit as a line of its
own, and returned empties are a negative deposit line.

The product row says it all (firmware/models.py, from head office's catalogue): the deposit
code, the amount per piece and the VAT code of the deposit ("" = the product's own). At the
till:
- adding the product adds the deposit line right after it, same quantity; the deposit line
  follows its product (quantity, removal) and cannot be changed, discounted or repriced on
  its own (DepositFollowsProduct). On the receipt and in the journal it is a line like any
  other (its own VAT code, so VAT per rate is right), with `deposit_for` naming its
  product's line and `code` the deposit type; it has no product id and no SKU (it is not
  a product: no stock, no customer's purchase, no offer at head office);
- refunding the product refunds its deposit at the same quantity (`with_deposits`), unless
  the refund names the deposit line itself;
- returned empties without a purchase receipt are a negative deposit line on the open
  ticket (`deposit_for` 0), set off against the purchase; they need a manager as a refund
  does, and never take the ticket below zero (EmptiesExceedTicket).
"""

from __future__ import annotations

from typing import Any

from firmware.catalogue import ProductInfo
from firmware.errors import (
    DepositFollowsProduct,
    EmptiesExceedTicket,
    QuantityOutOfRange,
    UnknownDeposit,
)
from firmware.kernel import TillKernel
from firmware.permissions import Action, Approval
from firmware.ticket import MAX_QUANTITY, MIN_QUANTITY, Line, Ticket

__all__ = ["DEPOSIT_NAME", "DepositService", "add_line", "is_deposit",
           "remove", "require_own_line", "set_quantity", "with_deposits"]

DEPOSIT_NAME = "Statiegeld"
EMPTIES = 0  # deposit_for of returned empties: no product line on this ticket


def is_deposit(line: Line) -> bool:
    return line.deposit_for is not None


def _deposit_line(product: ProductInfo, quantity: int, deposit_for: int) -> Line:
    return Line(line_no=0, product_id=None, code=product.deposit_code, name=DEPOSIT_NAME,
                vat_code=product.deposit_vat_code or product.vat_code,
                unit_price=product.deposit_cents, quantity=quantity, stock_tracked=False,
                deposit_for=deposit_for)


def add_line(ticket: Ticket, line: Line, product: ProductInfo) -> Line:
    """Adds a product's line and, when it has a deposit item, the deposit line after it."""
    added = ticket.add(line)
    if product.deposit_code:
        ticket.add(_deposit_line(product, line.quantity, added.line_no))
    return added


def deposits_of(ticket: Ticket, line_no: int) -> list[Line]:
    return [line for line in ticket.active_lines if line.deposit_for == line_no and line_no]


def require_own_line(ticket: Ticket, line_no: int) -> None:
    """Refuses an edit of a deposit line that follows its product."""
    line = ticket.line(line_no)
    if line.deposit_for:
        raise DepositFollowsProduct(line_no)


def set_quantity(ticket: Ticket, line_no: int, quantity: int) -> None:
    """The quantity of a product line; its deposit lines follow."""
    line = ticket.line(line_no)
    if is_deposit(line):
        raise DepositFollowsProduct(line_no)
    ticket.set_quantity(line_no, quantity)
    for follower in deposits_of(ticket, line_no):
        ticket.set_quantity(follower.line_no, quantity)


def remove(ticket: Ticket, line_no: int) -> Line:
    """Removes a line and its deposit lines; a deposit line alone only when it is empties."""
    line = ticket.line(line_no)
    if line.deposit_for:
        raise DepositFollowsProduct(line_no)
    for follower in deposits_of(ticket, line_no):
        ticket.remove(follower.line_no)
    return ticket.remove(line_no)


def with_deposits(sold: list[dict[str, Any]], quantities: dict[int, int],
                  remaining: dict[int, int]) -> dict[int, int]:
    """A refund's quantities with the deposits of the refunded products added at the same
    quantity, at most what of the deposit is still refundable (a deposit line the refund
    names itself keeps its own quantity)."""
    out = dict(quantities)
    for line in sold:
        parent, line_no = line.get("deposit_for"), line["line_no"]
        if parent and not line.get("removed") and line_no not in out \
                and quantities.get(parent, 0) > 0:
            out[line_no] = min(quantities[parent], remaining.get(line_no, 0))
    return out


class DepositService:
    """Returned empties on the open ticket."""

    def __init__(self, kernel: TillKernel, sales: Any) -> None:  # firmware.sales.SalesService
        self.kernel, self.sales = kernel, sales

    def deposit_types(self) -> list[tuple[str, int]]:
        """The deposit codes the catalogue's products carry, with their amount per piece."""
        return [(row[0], row[1]) for row in self.kernel.db.execute_sql(
            "SELECT deposit_code, min(deposit_cents) FROM product WHERE deposit_code != ''"
            " AND active GROUP BY deposit_code ORDER BY deposit_code")]

    def deposit_item(self, code: str) -> tuple[int, str]:
        """(cents per piece, VAT code) of a deposit code, as the products carrying it say."""
        row = self.kernel.db.execute_sql(
            "SELECT deposit_cents, CASE deposit_vat_code WHEN '' THEN vat_code"
            " ELSE deposit_vat_code END FROM product WHERE deposit_code = ? AND active"
            " ORDER BY id LIMIT 1", (code,)).fetchone()
        if row is None:
            raise UnknownDeposit(code)
        return row[0], row[1]

    def return_empties(self, code: str, quantity: int,
                       approval: Approval | None = None) -> Line:
        """Empties brought back: a negative deposit line; a manager approves it, as a refund."""
        with self.kernel.lock:
            if not MIN_QUANTITY <= quantity <= MAX_QUANTITY:
                raise QuantityOutOfRange(quantity, MIN_QUANTITY, MAX_QUANTITY)
            by = self.kernel.authorise(Action.REFUND, approval)
            cents, vat_code = self.deposit_item(code)
            line = Line(line_no=0, product_id=None, code=code, name=DEPOSIT_NAME,
                        vat_code=vat_code, unit_price=cents,
                        quantity=-quantity, stock_tracked=False, deposit_for=EMPTIES,
                        override_by=by)

            def add(ticket: Ticket) -> Line:
                if ticket.total + line.amount < 0:
                    raise EmptiesExceedTicket(-line.amount, ticket.total)
                return ticket.add(line)

            return self.sales.edit(add, "add", self.sales.ticket.next_line_no)
