"""The open ticket: lines, discounts, tenders and totals, as pure data in integer cents.

VAT is computed per rate on the gross total of that rate, after ticket discounts are spread
over the lines, exactly as the receipt and the journal state it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from contract.money import (
    CashRounding,
    div_round_half_up,
    percent_of,
    round_to_5_cents,
    vat_from_gross,
)
from firmware.errors import (
    CardAmountOutOfRange,
    CardReferenceMissing,
    DiscountExceedsLine,
    LineDiscountOutOfRange,
    NegativePrice,
    NoSuchLine,
    NothingDue,
    PaymentStarted,
    QuantityOutOfRange,
    TenderNotPositive,
    TenderTooSmall,
    TicketDiscountOutOfRange,
    TicketEmpty,
    TicketError,
    VoucherAlreadyOnTicket,
    VoucherCodeMissing,
    VoucherValueNotPositive,
)

__all__ = ["Line", "Tender", "Ticket", "TicketError", "VatLine", "MIN_QUANTITY", "MAX_QUANTITY"]

MIN_QUANTITY, MAX_QUANTITY = 1, 9999


@dataclass
class Line:
    line_no: int
    product_id: int | None
    code: str
    name: str
    vat_code: str
    unit_price: int  # cents per piece, or per kg when weight_g is set
    quantity: int = 1
    weight_g: int | None = None
    embedded_price: int | None = None  # a price-embedded in-store barcode fixes the amount
    original_unit_price: int | None = None  # set when the price was overridden
    discount: int = 0  # line discount in cents
    discount_percent: int | None = None  # set when the discount was given as a percentage
    ticket_discount: int = 0  # this line's share of the ticket discount
    promo_discount: int = 0  # this line's shares of head office's promotions (Ticket.promotions)
    removed: bool = False
    stock_tracked: bool = True
    override_by: str | None = None
    discount_by: str | None = None
    sku: str = ""  # the product's identity everywhere (GTIN-14 or plu:N), whatever was scanned
    # age check (firmware/age_check.py) and deposit (firmware/deposit.py)
    age_limit: int = 0  # the customer's age the product needs confirmed; 0: none
    deposit_for: int | None = None  # a deposit line: its product's line_no, 0 for empties

    @property
    def amount(self) -> int:
        """Gross before discounts."""
        if self.embedded_price is not None:
            return self.embedded_price * self.quantity
        if self.weight_g is not None:
            return div_round_half_up(self.unit_price * self.weight_g, 1000) * self.quantity
        return self.unit_price * self.quantity

    @property
    def gross(self) -> int:
        return self.amount - self.discount - self.promo_discount - self.ticket_discount

    @property
    def stock_units(self) -> int:
        """Pieces, or grams for goods sold by weight."""
        return self.weight_g * self.quantity if self.weight_g is not None else self.quantity

    def to_dict(self) -> dict[str, Any]:
        data = dict(vars(self))  # every field is a plain value: a shallow copy is a full copy
        data["amount"] = self.amount
        data["gross"] = self.gross
        data["stock_units"] = self.stock_units
        return data


@dataclass(frozen=True)
class VatLine:
    code: str
    rate_bp: int
    gross: int
    vat: int

    @property
    def net(self) -> int:
        return self.gross - self.vat


@dataclass
class Tender:
    kind: str  # cash | card | voucher
    amount: int  # what this tender pays towards the (rounded) total
    given: int = 0  # cash handed over
    reference: str = ""
    card: dict[str, Any] | None = None  # the PIN terminal's answer (contract CardPayment)

    @property
    def change(self) -> int:
        return self.given - self.amount if self.kind == "cash" else 0


@dataclass
class Ticket:
    lines: list[Line] = field(default_factory=list)
    tenders: list[Tender] = field(default_factory=list)
    ticket_discount: int = 0
    ticket_discount_by: str | None = None
    rounding: int = 0  # cash rounding delta applied at final cash settlement
    customer_id: str | None = None
    next_line_no: int = 1
    # Promotions given (firmware/promotions.py Applied.to_dict): id, name, version, discount
    # and each line's share; set only by set_promotions, in the pricing step.
    promotions: list[dict[str, Any]] = field(default_factory=list)
    age_check: dict[str, Any] | None = None  # firmware/age_check.py: {age, confirmed_by, at}

    # --- lines ---------------------------------------------------------------------------
    @property
    def active_lines(self) -> list[Line]:
        return [line for line in self.lines if not line.removed]

    @property
    def is_empty(self) -> bool:
        return not self.active_lines

    def add(self, line: Line) -> Line:
        self._require_unpaid()
        line.line_no = self.next_line_no
        self.next_line_no += 1
        self.lines.append(line)
        self._spread_ticket_discount()
        return line

    def line(self, line_no: int) -> Line:
        for line in self.lines:
            if line.line_no == line_no and not line.removed:
                return line
        raise NoSuchLine(line_no)

    def set_quantity(self, line_no: int, quantity: int) -> None:
        self._require_unpaid()
        if not MIN_QUANTITY <= quantity <= MAX_QUANTITY:
            raise QuantityOutOfRange(quantity, MIN_QUANTITY, MAX_QUANTITY)
        line = self.line(line_no)
        old = line.quantity
        line.quantity = quantity
        self._follow_percent_discount(line)
        if line.amount - line.discount < 0:  # promotions are worked out again after the edit
            line.quantity = old
            self._follow_percent_discount(line)
            raise DiscountExceedsLine()
        self._spread_ticket_discount()

    def remove(self, line_no: int) -> Line:
        self._require_unpaid()
        line = self.line(line_no)
        line.removed = True
        self._spread_ticket_discount()
        return line

    def set_line_discount(self, line_no: int, cents: int, by: str | None,
                          percent: int | None = None) -> None:
        """A discount in cents, or given as `percent`: then it follows the line's amount when
        the quantity or the price changes, so 10% stays 10% (never a fixed sum that grows into a
        larger share of a lowered price)."""
        self._require_unpaid()
        line = self.line(line_no)
        if cents < 0 or cents > line.amount:
            raise LineDiscountOutOfRange(cents, line.amount)
        line.discount, line.discount_by, line.discount_percent = cents, by, percent
        self._spread_ticket_discount()

    @staticmethod
    def _follow_percent_discount(line: Line) -> None:
        if line.discount_percent is not None:
            line.discount = percent_of(line.amount, line.discount_percent * 100)

    def set_ticket_discount(self, cents: int, by: str | None) -> None:
        self._require_unpaid()
        subtotal = sum(line.amount - line.discount - line.promo_discount for line in self.active_lines)
        if cents < 0 or cents > subtotal:
            raise TicketDiscountOutOfRange(cents, subtotal)
        self.ticket_discount, self.ticket_discount_by = cents, by
        self._spread_ticket_discount()

    def override_price(self, line_no: int, unit_price: int, by: str | None) -> Line:
        self._require_unpaid()
        if unit_price < 0:
            raise NegativePrice(unit_price)
        line = self.line(line_no)
        if line.original_unit_price is None:
            line.original_unit_price = line.unit_price
        line.unit_price, line.embedded_price, line.override_by = unit_price, None, by
        self._follow_percent_discount(line)
        if line.discount > line.amount:
            line.discount = 0
        self._spread_ticket_discount()
        return line

    def rule_lines(self, prefix: str) -> list[Line]:
        """The active lines whose discount a pricing rule set (discount_by starts with prefix)."""
        return [line for line in self.active_lines
                if line.discount_by is not None and line.discount_by.startswith(prefix)]

    def set_rule_discounts(self, prefix: str, discounts: dict[int, tuple[int, str]]) -> None:
        """Replaces a pricing rule's line discounts: lines discounted by the rule (discount_by
        starting with `prefix`) lose them, then `discounts` {line_no: (cents, by)} are set.
        Lines with a cashier's discount keep it. The ticket discount is spread again."""
        self._require_unpaid()
        for line in self.rule_lines(prefix):
            line.discount, line.discount_by, line.discount_percent = 0, None, None
        for line_no, (cents, by) in discounts.items():
            line = self.line(line_no)
            if line.discount or not 0 <= cents <= line.amount:
                raise LineDiscountOutOfRange(cents, line.amount)
            line.discount, line.discount_by, line.discount_percent = cents, by, None
        self._spread_ticket_discount()

    def set_promotions(self, applied: list[dict[str, Any]]) -> None:
        """Replaces the promotions on the ticket (pricing step, firmware/promotion_rule.py):
        each line's promo_discount becomes the sum of its shares; the ticket discount is spread
        again over what is left."""
        self._require_unpaid()
        per_line: dict[int, int] = {}
        for promotion in applied:
            for share in promotion["lines"]:
                per_line[share["line_no"]] = per_line.get(share["line_no"], 0) + share["discount"]
        for line in self.lines:
            line.promo_discount = per_line.pop(line.line_no, 0) if not line.removed else 0
            if line.amount - line.discount - line.promo_discount < 0:
                raise LineDiscountOutOfRange(line.promo_discount, line.amount - line.discount)
        if per_line:
            raise NoSuchLine(min(per_line))
        self.promotions = applied
        self._spread_ticket_discount()

    @property
    def promotion_total(self) -> int:
        return sum(line.promo_discount for line in self.active_lines)

    def _spread_ticket_discount(self) -> None:
        """Allocates the ticket discount to lines pro rata (largest remainder), for VAT."""
        lines = self.active_lines
        for line in self.lines:
            line.ticket_discount = 0
        if not self.ticket_discount:
            return  # nothing to spread (most tickets): no pass over the lines' amounts
        # never below 0: a promotion share can be stale for the moment between an edit and
        # the pricing step that works the promotions out again
        base = [max(0, line.amount - line.discount - line.promo_discount) for line in lines]
        total = sum(base)
        if not self.ticket_discount or total <= 0:
            self.ticket_discount = 0 if total <= 0 else self.ticket_discount
            return
        self.ticket_discount = min(self.ticket_discount, total)
        shares = [self.ticket_discount * b // total for b in base]
        remainders = sorted(range(len(lines)), key=lambda i: -(self.ticket_discount * base[i] % total))
        for i in remainders[: self.ticket_discount - sum(shares)]:
            shares[i] += 1
        for line, share in zip(lines, shares, strict=True):
            line.ticket_discount = share

    # --- totals --------------------------------------------------------------------------
    @property
    def total(self) -> int:
        """Gross total before cash rounding."""
        return sum(line.gross for line in self.active_lines)

    @property
    def discount_total(self) -> int:
        return sum(line.discount + line.promo_discount + line.ticket_discount
                   for line in self.active_lines)

    def vat_lines(self, rate_of: Callable[[str], int]) -> list[VatLine]:
        per_code: dict[str, int] = {}
        for line in self.active_lines:
            per_code[line.vat_code] = per_code.get(line.vat_code, 0) + line.gross
        result = []
        for code in sorted(per_code):
            rate = rate_of(code)
            result.append(VatLine(code, rate, per_code[code], vat_from_gross(per_code[code], rate)))
        return result

    @property
    def paid(self) -> int:
        return sum(t.amount for t in self.tenders)

    @property
    def due(self) -> int:
        """What is still to pay (total + rounding - paid)."""
        return self.total + self.rounding - self.paid

    @property
    def is_paid(self) -> bool:
        return bool(self.tenders) and self.due == 0

    @property
    def change(self) -> int:
        return sum(t.change for t in self.tenders)

    # --- tenders -------------------------------------------------------------------------
    def _require_unpaid(self) -> None:
        if self.tenders:
            raise PaymentStarted()

    def cash_due(self, round_cash: bool) -> CashRounding:
        """What a cash payment of the whole remainder would be (rounded when configured)."""
        remaining = self.due
        return round_to_5_cents(remaining) if round_cash else CashRounding(remaining, remaining)

    def pay_cash(self, given: int, round_cash: bool, partial: bool = False) -> Tender:
        if self.is_empty:
            raise TicketEmpty()
        if given <= 0:
            raise TenderNotPositive()
        if self.due <= 0:
            raise NothingDue()
        settle = self.cash_due(round_cash)
        if given >= settle.rounded:
            self.rounding += settle.delta
            tender = Tender("cash", settle.rounded, given=given)
        elif partial:
            tender = Tender("cash", given, given=given)
        else:
            raise TenderTooSmall(given, settle.rounded)
        self.tenders.append(tender)
        return tender

    def pay_card(self, amount: int, reference: str,
                 card: dict[str, Any] | None = None) -> Tender:
        if self.is_empty:
            raise TicketEmpty()
        if not reference.strip():
            raise CardReferenceMissing()
        if amount <= 0 or amount > self.due:
            raise CardAmountOutOfRange(amount, self.due)
        tender = Tender("card", amount, reference=reference.strip(), card=card)
        self.tenders.append(tender)
        return tender

    def pay_voucher(self, face_value: int, code: str) -> Tender:
        if self.is_empty:
            raise TicketEmpty()
        if not code.strip():
            raise VoucherCodeMissing()
        if face_value <= 0:
            raise VoucherValueNotPositive()
        if self.due <= 0:
            raise NothingDue()
        if any(t.kind == "voucher" and t.reference == code.strip() for t in self.tenders):
            raise VoucherAlreadyOnTicket(code.strip())
        # A voucher gives no change: it pays at most what is due.
        tender = Tender("voucher", min(face_value, self.due), given=face_value, reference=code.strip())
        self.tenders.append(tender)
        return tender

    def cancel_payments(self) -> None:
        self.tenders.clear()
        self.rounding = 0

    # --- persistence ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": [dict(vars(line)) for line in self.lines],
            "tenders": [{k: v for k, v in vars(t).items() if k != "card" or v is not None}
                        for t in self.tenders],
            "ticket_discount": self.ticket_discount,
            "ticket_discount_by": self.ticket_discount_by,
            "rounding": self.rounding,
            "customer_id": self.customer_id,
            "next_line_no": self.next_line_no,
            "promotions": self.promotions,
            "age_check": self.age_check,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ticket:
        ticket = cls(
            lines=[Line(**line) for line in data["lines"]],
            tenders=[Tender(**t) for t in data["tenders"]],
            ticket_discount=data["ticket_discount"],
            ticket_discount_by=data.get("ticket_discount_by"),
            rounding=data["rounding"],
            customer_id=data.get("customer_id"),
            next_line_no=data["next_line_no"],
            promotions=data.get("promotions", []),
            age_check=data.get("age_check"),
        )
        ticket._spread_ticket_discount()
        return ticket
