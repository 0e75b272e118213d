"""GDPR erasure of a customer across every head-office table that links the pseudonym.

Above customers, offers, notifications and the webshop's orders (it changes all of them), so
none of them has to know the others' tables.

What "gone" means on disk (docs/customers.md): on SQLite the deletes run with
`PRAGMA secure_delete=ON` (freed cells and pages are overwritten with zeros) and end with a
`wal_checkpoint(TRUNCATE)`, so neither the database file nor its WAL holds the name, e-mail
or card afterwards. On PostgreSQL a delete leaves a dead tuple until VACUUM; erasure runs
`VACUUM` on the tables it touched, which makes the space reusable but does not promise to
overwrite it (nor the WAL segments, backups or replicas): see docs/customers.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from contract.signup import new_forget_entry
from headoffice.customers import service
from headoffice.customers.models import (
    ConsentLog,
    Customer,
    Erased,
    ErasedAddress,
    Favourite,
    Purchase,
    TillSignup,
)
from headoffice.notify.models import MailRetry, Notification
from headoffice.offers.models import Offer
from headoffice.orm import database_proxy, is_postgres, write_transaction
from headoffice.webshop.models import WebshopLog, WebshopOrder

ERASED_MARK = "[erased]"
_TOUCHED = (Customer, Favourite, Purchase, ConsentLog, Notification, WebshopOrder, WebshopLog,
            TillSignup)


@dataclass(frozen=True)
class Erasure:
    customer_id: str
    orders: int  # webshop orders whose e-mail was blanked
    mails: int  # back-in-stock mail records deleted
    log_lines: int  # webshop log lines whose detail named the person


def erase(ref: str) -> str:
    """GDPR erasure: the person and every link to the pseudonym go; returns the pseudonym."""
    return erase_everywhere(ref).customer_id


def erase_everywhere(ref: str) -> Erasure:
    """Deletes the person (name, e-mail, card), their favourites, history, consent log and
    mail records; blanks their e-mail on webshop orders and in the webshop log; then makes
    the database overwrite the freed bytes.

    The journal (fiscal memory) and redemptions keep the pseudonym, which now maps to
    nobody; the customer's offers stay as pseudonymous rows so `offers report` still knows
    how often each was allowed, but are no longer sent to tills or mailed. The next
    `customers sync` removes the card from every till."""
    customer = service.get(ref)
    cid, email, name, card = customer.customer_id, customer.email, customer.name, customer.card
    db = database_proxy.obj
    if not is_postgres():
        db.execute_sql("PRAGMA secure_delete=ON")
    with write_transaction():
        Favourite.delete().where(Favourite.customer_id == cid).execute()
        Purchase.delete().where(Purchase.customer_id == cid).execute()
        ConsentLog.delete().where(ConsentLog.customer_id == cid).execute()
        MailRetry.delete().where(MailRetry.notification.in_(
            Notification.select(Notification.id).where(Notification.customer_id == cid))).execute()
        mails = Notification.delete().where(Notification.customer_id == cid).execute()
        Offer.update(emailed=None).where(Offer.customer_id == cid).execute()
        orders = WebshopOrder.update(email="").where(WebshopOrder.email == email).execute()
        log_lines = 0
        for needle in (email, name, card):
            for row in WebshopLog.select().where(WebshopLog.detail.contains(needle)
                                                 | WebshopLog.target.contains(needle)):
                WebshopLog.update(detail=row.detail.replace(needle, ERASED_MARK),
                                  target=row.target.replace(needle, ERASED_MARK)).where(
                    WebshopLog.id == row.id).execute()
                log_lines += 1
        TillSignup.delete().where(TillSignup.customer_id == cid).execute()
        Customer.delete().where(Customer.customer_id == cid).execute()
        stamp = service.now_iso()
        Erased.insert(customer_id=cid, erased=stamp).on_conflict_ignore().execute()
        # the tills drop a sign-up with this address still in their outbox (offers message)
        ErasedAddress.create(**new_forget_entry(email), erased=stamp)
    overwrite_freed(db)
    return Erasure(cid, orders, mails, log_lines)


def overwrite_freed(db) -> None:
    """SQLite: move the WAL into the (securely deleted) file and truncate it. PostgreSQL:
    VACUUM the touched tables so their dead tuples' space is reclaimed (not overwritten)."""
    if is_postgres():
        conn = db.connection()
        autocommit = conn.autocommit
        conn.autocommit = True  # VACUUM cannot run inside a transaction block
        try:
            with conn.cursor() as cur:
                for model in _TOUCHED:
                    cur.execute(f'VACUUM "{model._meta.table_name}"')
        finally:
            conn.autocommit = autocommit
        return
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
