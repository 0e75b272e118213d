"""Back-in-stock mails: for every restock (none -> available at a location), each consenting
customer who marked the product a favourite and shops there (home store, or the webshop)
gets one mail.

Never twice: the (customer, restock) row is committed as `sending` before the mail leaves,
so a crash after sending cannot send it again (at most once; a crash in between leaves the
row `sending` for review). An SMTP error marks it `failed`; later runs retry it with a
doubling backoff (RETRY_FIRST .. RETRY_MAX) until GIVE_UP_AFTER has passed since the first
refusal, then it is `gave_up`: an SMTP server down overnight loses no mail. The rate limit
stops a run early; the rest goes out in the next run.
"""

from __future__ import annotations

import datetime as dt
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field

from headoffice.customers.models import Customer, Favourite
from headoffice.customers.service import now_iso
from headoffice.notify.mailer import Mailer, RateLimited, text
from headoffice.notify.models import MailRetry, Notification, StoreName
from headoffice.orm import write_transaction
from headoffice.stock.models import WEBSHOP, OfficeProduct, Restock

RETRY_FIRST = dt.timedelta(minutes=5)
RETRY_MAX = dt.timedelta(hours=2)
GIVE_UP_AFTER = dt.timedelta(days=1)
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


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th refusal: 5 min, 10, 20, ... at most 2 h."""
    return min(RETRY_FIRST * (2 ** max(0, attempts - 1)), RETRY_MAX)


def _due(row: Notification, now: dt.datetime) -> bool:
    """A failed mail whose backoff has passed (and whose day of retries is not over)."""
    if row.state != "failed":
        return False
    retry = MailRetry.get_or_none(MailRetry.notification == row.id)
    return retry is None or dt.datetime.fromisoformat(retry.next_try) <= now


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _claim(customer: Customer, restock: Restock, now: dt.datetime) -> bool:
    """True when this mail is ours to send now (new, or failed and due again)."""
    with write_transaction():
        row = Notification.get_or_none(Notification.customer_id == customer.customer_id,
                                       Notification.restock == restock.id)
        if row is None:
            Notification.insert(customer_id=customer.customer_id, restock=restock.id,
                                sku=restock.sku, location=restock.location, state="sending",
                                attempts=1, at=now_iso()).on_conflict_ignore().execute()
            return True
        if _due(row, now):
            return Notification.update(state="sending", attempts=row.attempts + 1, at=now_iso()).where(
                Notification.id == row.id, Notification.state == "failed").execute() == 1
        return False


def _failed(customer: Customer, restock: Restock, detail: str, now: dt.datetime) -> bool:
    """Marks a refused mail for a later try; True while the day of retries is not over
    (after it the mail is `gave_up`)."""
    with write_transaction():
        row = Notification.get(Notification.customer_id == customer.customer_id,
                               Notification.restock == restock.id)
        retry = MailRetry.get_or_none(MailRetry.notification == row.id)
        first = dt.datetime.fromisoformat(retry.first_failed) if retry else now
        next_try = now + backoff(row.attempts)
        state = "failed" if next_try - first <= GIVE_UP_AFTER else "gave_up"
        MailRetry.insert(notification=row.id, first_failed=first.isoformat(timespec="seconds"),
                         next_try=next_try.isoformat(timespec="seconds")).on_conflict(
            conflict_target=[MailRetry.notification],
            update={MailRetry.next_try: next_try.isoformat(timespec="seconds")}).execute()
        Notification.update(state=state, at=now_iso(), detail=detail[:1000]).where(
            Notification.id == row.id).execute()
    return state == "failed"


def without_person(text_: str, customer: Customer) -> str:
    """An SMTP error as it may be logged: a refusal often quotes the address (and the name);
    logs name the customer by pseudonym only, so erasure need not chase them."""
    for needle in (customer.email, customer.name):
        if needle:
            text_ = text_.replace(needle, "<" + customer.customer_id + ">")
    return text_


def shop_label(language: str, location: str) -> str:
    """'in onze winkel Centrum' with the shop's name (StoreName), never its store id."""
    if location == WEBSHOP:
        return text(language, "where_web")
    named = StoreName.get_or_none(StoreName.store == location)
    if named is None:
        return text(language, "where_any_shop")
    return text(language, "where_shop", location=named.name)


def set_store_name(store: str, name: str) -> None:
    with write_transaction():
        StoreName.insert(store=store, name=name.strip()).on_conflict(
            conflict_target=[StoreName.store], update={StoreName.name: name.strip()}).execute()


def _finish(customer: Customer, restock: Restock, state: str, detail: str = "") -> None:
    with write_transaction():
        Notification.update(state=state, at=now_iso(), detail=detail[:1000]).where(
            Notification.customer_id == customer.customer_id,
            Notification.restock == restock.id).execute()


def send_back_in_stock(mailer: Mailer, shop_name: str = "Kassa",
                       clock: Callable[[], dt.datetime] = utc_now) -> NotifyResult:
    """One run over the open restocks; `clock` (UTC) decides which failed mails are due."""
    result = NotifyResult()
    now = clock()
    for restock in Restock.select().where(Restock.notified == False).order_by(Restock.id):  # noqa: E712
        product = OfficeProduct.get_or_none(OfficeProduct.sku == restock.sku)
        product_name = product.name if product and product.name else restock.sku
        pending = False
        for customer in _recipients(restock):
            existing = Notification.get_or_none(Notification.customer_id == customer.customer_id,
                                                Notification.restock == restock.id)
            if existing is not None and existing.state in ("sent", "sending", "gave_up"):
                continue
            if existing is not None and not _due(existing, now):
                pending = True  # waits for its backoff; the restock stays open
                continue
            if existing is None and _recently_told(customer.customer_id, restock.sku):
                continue
            try:
                mailer.check_rate()
            except RateLimited:
                result.rate_limited = True
                return result
            if not _claim(customer, restock, now):
                continue
            where = shop_label(customer.language, restock.location)
            try:
                mailer.send(customer.name, customer.email,
                            text(customer.language, "back_subject", product=product_name),
                            text(customer.language, "back_body", name=customer.name,
                                 product=product_name, where=where, shop=shop_name,
                                 unsubscribe=mailer.unsubscribe_url(customer.unsubscribe_token)),
                            customer.unsubscribe_token)
            except (smtplib.SMTPException, OSError) as exc:
                reason = without_person(repr(exc), customer)
                retrying = _failed(customer, restock, reason, now)
                result.failed += 1
                result.errors.append(f"{customer.customer_id} / {restock.sku}: {reason}"
                                     f"{'' if retrying else ' (gave up after a day)'}")
                pending = pending or retrying
                continue
            _finish(customer, restock, "sent")
            result.sent += 1
        if not pending:
            with write_transaction():
                Restock.update(notified=True).where(Restock.id == restock.id).execute()
    return result
