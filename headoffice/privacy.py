"""GDPR erasure of a customer across every head-office table that links the pseudonym.

Above customers, offers and notifications (it deletes from all three), so none of them has
to know the others' tables.
"""

from __future__ import annotations

from headoffice.customers import service
from headoffice.customers.models import Customer, Erased, Favourite, Purchase
from headoffice.notify.models import Notification
from headoffice.offers.models import Offer
from headoffice.orm import write_transaction


def erase(ref: str) -> str:
    """GDPR erasure: the person and every link to the pseudonym go; returns the pseudonym.

    The journal (fiscal memory) keeps the pseudonym, which now maps to nobody. Offers are
    withdrawn; the next offers message removes the card from every till."""
    customer = service.get(ref)
    cid = customer.customer_id
    with write_transaction():
        Favourite.delete().where(Favourite.customer_id == cid).execute()
        Purchase.delete().where(Purchase.customer_id == cid).execute()
        Offer.delete().where(Offer.customer_id == cid).execute()
        Notification.delete().where(Notification.customer_id == cid).execute()
        Customer.delete().where(Customer.customer_id == cid).execute()
        Erased.insert(customer_id=cid, erased=service.now_iso()).on_conflict_ignore().execute()
    return cid
