"""Loyalty customers at the till: card scans, search, attaching to the ticket, favourites.

The till only knows what head office sent in the `offers` message (firmware/offers.py): a
pseudonymous customer id, the card number, a name to find them by, their language. The
journal carries only the pseudonymous id, so erasing a customer at head office (GDPR)
leaves every fiscal entry intact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from firmware.errors import (
    CustomerError,
    NoCustomer,
    NoProductCode,
    PaymentStarted,
    UnknownCard,
)
from firmware.models import LocalCustomer

__all__ = ["CustomerError", "CustomerInfo", "add_favourite", "attach", "by_card", "detach",
           "search"]

if TYPE_CHECKING:
    from firmware.journal import Entry
    from firmware.till import TillService


@dataclass(frozen=True)
class CustomerInfo:
    customer_id: str
    card: str
    name: str
    language: str


def _info(row: LocalCustomer) -> CustomerInfo:
    return CustomerInfo(row.customer_id, row.card, row.name, row.language)


def by_card(till: TillService, card: str) -> CustomerInfo:
    row = LocalCustomer.get_or_none(LocalCustomer.card == card.strip())
    if row is None:
        raise UnknownCard(card.strip())
    return _info(row)


def search(till: TillService, text: str, limit: int = 20) -> list[CustomerInfo]:
    """Customers whose name or card number contains `text` (case-insensitive)."""
    needle = text.strip().casefold()
    if len(needle) < 2:
        return []
    query = (LocalCustomer.select()
             .where(LocalCustomer.name_folded.contains(needle) | LocalCustomer.card.contains(needle))
             .order_by(LocalCustomer.name).limit(limit))
    return [_info(row) for row in query]


def attach(till: TillService, customer: CustomerInfo) -> CustomerInfo:
    """Puts the customer on the open ticket; their offers are applied at once."""
    from firmware.offers import apply_to_ticket

    if till.ticket.tenders:
        raise PaymentStarted()
    till.ticket.customer_id = customer.customer_id
    apply_to_ticket(till)
    till.emit("customer", customer_id=customer.customer_id, name=customer.name,
              language=customer.language)
    till.emit("ticket", action="customer")
    return customer


def detach(till: TillService) -> None:
    from firmware.offers import apply_to_ticket

    if till.ticket.tenders:
        raise PaymentStarted()
    till.ticket.customer_id = None
    apply_to_ticket(till)
    till.emit("customer", customer_id=None, name=None, language=None)
    till.emit("ticket", action="customer")


def add_favourite(till: TillService, line_no: int) -> Entry:
    """Marks the product of a ticket line as the attached customer's favourite (journaled, so
    it reaches head office through the same outbox as the sales)."""
    from contract.product_key import DEFAULT_LAYOUTS, sku_for_code

    customer = till.ticket.customer_id
    if customer is None:
        raise NoCustomer()
    line = till._line(line_no)
    sku = sku_for_code(line.code, till.catalogue.layouts or DEFAULT_LAYOUTS)
    if sku is None:
        raise NoProductCode(line.name)
    return till._commit("customer_favourite", {"customer_id": customer, "sku": sku,
                                               "name": line.name})
