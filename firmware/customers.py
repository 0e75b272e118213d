"""Loyalty customers at the till: card scans, search, attaching to the ticket, favourites.

The till only knows what head office sent in the `offers` message (firmware/offers.py): a
pseudonymous customer id, the card number, a name to find them by, their language. The
journal carries only the pseudonymous id, so erasing a customer at head office (GDPR)
leaves every fiscal entry intact.
"""

from __future__ import annotations

from dataclasses import dataclass

from contract.product_key import DEFAULT_LAYOUTS, sku_for_code
from firmware.errors import CustomerError, NoCustomer, NoProductCode, TillError, UnknownCard
from firmware.journal import Entry
from firmware.kernel import TillKernel
from firmware.models import LocalCustomer
from firmware.sales import SalesService

__all__ = ["CustomerError", "CustomerInfo", "CustomerService"]


@dataclass(frozen=True)
class CustomerInfo:
    customer_id: str
    card: str
    name: str
    language: str


def _info(row: LocalCustomer) -> CustomerInfo:
    return CustomerInfo(row.customer_id, row.card, row.name, row.language)


class CustomerService:
    """Cards, search, the customer on the open ticket, favourites."""

    def __init__(self, kernel: TillKernel, sales: SalesService) -> None:
        self.kernel, self.sales = kernel, sales

    def by_card(self, card: str) -> CustomerInfo:
        row = LocalCustomer.get_or_none(LocalCustomer.card == card.strip())
        if row is None:
            raise UnknownCard(card.strip())
        return _info(row)

    def search(self, text: str, limit: int = 20) -> list[CustomerInfo]:
        """Customers whose name or card number contains `text` (case-insensitive)."""
        needle = text.strip().casefold()
        if len(needle) < 2:
            return []
        query = (LocalCustomer.select()
                 .where(LocalCustomer.name_folded.contains(needle)
                        | LocalCustomer.card.contains(needle))
                 .order_by(LocalCustomer.name).limit(limit))
        return [_info(row) for row in query]

    def attach_card(self, card: str) -> CustomerInfo:
        """A scanned or typed loyalty card: its customer goes on the ticket, offers apply. A
        refusal is announced as scan_rejected with the typed error under error=."""
        with self.kernel.lock:
            try:
                self.kernel.require_cashier()
                customer = self.by_card(card)
            except TillError as exc:
                self.kernel.emit("scan_rejected", code=card, reason=str(exc), error=exc)
                raise
            return self.attach(customer)

    def attach(self, customer: CustomerInfo) -> CustomerInfo:
        """Puts the customer on the open ticket; their offers are priced at once."""
        with self.kernel.lock:
            self.sales.set_customer(customer.customer_id)
            self.kernel.emit("customer", customer_id=customer.customer_id, name=customer.name,
                             language=customer.language)
            return customer

    def detach(self) -> None:
        with self.kernel.lock:
            self.sales.set_customer(None)
            self.kernel.emit("customer", customer_id=None, name=None, language=None)

    def add_favourite(self, line_no: int) -> Entry:
        """Marks the product of a ticket line as the attached customer's favourite (journaled,
        so it reaches head office through the same outbox as the sales)."""
        with self.kernel.lock:
            self.kernel.require_cashier()
            customer = self.sales.ticket.customer_id
            if customer is None:
                raise NoCustomer()
            line = self.sales.line(line_no)
            sku = sku_for_code(line.code, self.sales.catalogue.layouts or DEFAULT_LAYOUTS)
            if sku is None:
                raise NoProductCode(line.name)
            return self.kernel.commit("customer_favourite", {"customer_id": customer, "sku": sku,
                                                             "name": line.name})
