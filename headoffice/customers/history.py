"""Purchase history of known customers, from the sale entries that carry their pseudonym."""

from __future__ import annotations

from contract.entries import Entry, TicketLine
from headoffice.customers.models import Customer, Purchase


def record_purchase(customer_id: str, entry: Entry, line: TicketLine, sku: str) -> None:
    """One sale line; skipped for a pseudonym that has no (or no longer a) customer."""
    if Customer.get_or_none(Customer.customer_id == customer_id) is None:
        return
    Purchase.insert(customer_id=customer_id, terminal=entry.terminal, seq=entry.seq,
                    line_no=line.line_no, sku=sku, quantity=line.quantity,
                    day=entry.ts[:10]).on_conflict_ignore().execute()
