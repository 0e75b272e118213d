"""Back-in-stock mails: for every restock (none -> available at a location), each consenting
customer who marked the product a favourite and shops there (home store, or the webshop)
gets one mail.

Never twice: the (customer, restock) row is committed as `sending` before the mail leaves,
so a crash after sending cannot send it again (at most once; a crash in between leaves the
row `sending` for review). An SMTP error marks it `failed` and a later run retries it up to
MAX_ATTEMPTS. The rate limit stops a run early; the rest goes out in the next run.
"""

from __future__ import annotations

import datetime as dt
import smtplib
from dataclasses import dataclass, field

from headoffice.customers.models import Customer, Favourite
from headoffice.customers.service import now_iso
from headoffice.notify.mailer import Mailer, RateLimited, text
from headoffice.notify.models import Notification
from headoffice.orm import write_transaction
from headoffice.stock.models import WEBSHOP, OfficeProduct, Restock

MAX_ATTEMPTS = 3
QUIET_HOURS = 24  # one customer gets at most one mail per product in this many hours


@dataclass
class NotifyResult:
    sent: int = 0
    failed: int = 0
    rate_limited: bool = False
    errors: list[str] = field(default_factory=list)


def _recipients(restock: Restock) -> list[Customer]:
    query = (Customer.select().join(Favourite, on=(Favourite.customer_id == Customer.customer_id))
             .where(Favourite.sku == restock.sku, Customer.consent == True))  # noqa: E712
    if restock.location != WEBSHOP:
        query = query.where(Customer.home_store == restock.location)
    return list(query.order_by(Customer.customer_id))


def _recently_told(customer_id: str, sku: str) -> bool:
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=QUIET_HOURS)).isoformat(timespec="seconds")
    return Notification.select().where(
        Notification.customer_id == customer_id, Notification.sku == sku,
        Notification.state == "sent", Notification.at >= since).exists()


def _claim(customer: Customer, restock: Restock) -> bool:
    """True when this mail is ours to send now (new, or failed with attempts left)."""
    with write_transaction():
        row = Notification.get_or_none(Notification.customer_id == customer.customer_id,
                                       Notification.restock == restock.id)
        if row is None:
            Notification.insert(customer_id=customer.customer_id, restock=restock.id,
                                sku=restock.sku, location=restock.location, state="sending",
                                attempts=1, at=now_iso()).on_conflict_ignore().execute()
            return True
        if row.state == "failed" and row.attempts < MAX_ATTEMPTS:
            return Notification.update(state="sending", attempts=row.attempts + 1, at=now_iso()).where(
                Notification.id == row.id, Notification.state == "failed").execute() == 1
        return False


def _finish(customer: Customer, restock: Restock, state: str, detail: str = "") -> None:
    with write_transaction():
        Notification.update(state=state, at=now_iso(), detail=detail[:1000]).where(
            Notification.customer_id == customer.customer_id,
            Notification.restock == restock.id).execute()


def send_back_in_stock(mailer: Mailer, shop_name: str = "Kassa") -> NotifyResult:
    result = NotifyResult()
    for restock in Restock.select().where(Restock.notified == False).order_by(Restock.id):  # noqa: E712
        product = OfficeProduct.get_or_none(OfficeProduct.sku == restock.sku)
        product_name = product.name if product and product.name else restock.sku
        pending = False
        for customer in _recipients(restock):
            existing = Notification.get_or_none(Notification.customer_id == customer.customer_id,
                                                Notification.restock == restock.id)
            if existing is not None and (existing.state in ("sent", "sending")
                                         or existing.attempts >= MAX_ATTEMPTS):
                continue
            if existing is None and _recently_told(customer.customer_id, restock.sku):
                continue
            try:
                mailer.check_rate()
            except RateLimited:
                result.rate_limited = True
                return result
            if not _claim(customer, restock):
                continue
            where = (text(customer.language, "where_web") if restock.location == WEBSHOP else
                     text(customer.language, "where_shop", location=restock.location))
            try:
                mailer.send(customer.name, customer.email,
                            text(customer.language, "back_subject", product=product_name),
                            text(customer.language, "back_body", name=customer.name,
                                 product=product_name, where=where, shop=shop_name,
                                 unsubscribe=mailer.unsubscribe_url(customer.unsubscribe_token)),
                            customer.unsubscribe_token)
            except (smtplib.SMTPException, OSError) as exc:
                _finish(customer, restock, "failed", repr(exc))
                result.failed += 1
                result.errors.append(f"{customer.customer_id} / {restock.sku}: {exc!r}")
                pending = True
                continue
            _finish(customer, restock, "sent")
            result.sent += 1
        if not pending:
            with write_transaction():
                Restock.update(notified=True).where(Restock.id == restock.id).execute()
    return result
