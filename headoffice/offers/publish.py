"""Sends offers out: the retained `kassa/v1/{store}/offers` message to the tills, and one
e-mail per consenting customer with new offers.

The message is a full snapshot (firmware/offers.py documents it): every customer's card
(cards work in every shop), every offer still valid, and each offer's redemptions per
terminal as head office has them. A new version is published only when the content
changed, so it can run after every journal sync. It leaves head office sealed with head
office's key, through the one downstream path (headoffice/downstream_send.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import smtplib
from typing import Any

from contract.keys import PrivateKey
from headoffice.broker import Publish
from headoffice.customers.models import Customer, ErasedAddress
from headoffice.customers.service import now_iso
from headoffice.downstream_send import send_downstream
from headoffice.models import RegisteredTerminal
from headoffice.notify.backinstock import without_person
from headoffice.notify.mailer import Mailer, RateLimited, long_date, text
from headoffice.offers.compute import active_offers
from headoffice.offers.models import Offer, Published
from headoffice.offers.redeem import counts
from headoffice.orm import write_transaction
from headoffice.stock.models import OfficeProduct

# erased addresses stay in the offers message this long, so a till that was offline for
# weeks still drops a sign-up of that address from its outbox
FORGET_DAYS = 90


def stores() -> list[str]:
    known = {t for (t,) in RegisteredTerminal.select(RegisteredTerminal.store).where(
        RegisteredTerminal.status == "active").distinct().tuples()}
    return sorted(known)


def snapshot(today: dt.date | None = None) -> dict[str, Any]:
    """Customers and offers for the tills (without version and store)."""
    customers = [{"id": c.customer_id, "card": c.card, "name": c.name, "language": c.language}
                 for c in Customer.select().order_by(Customer.customer_id)]
    known = {c["id"] for c in customers}
    offers = list(active_offers(today))
    used = counts([o.offer_id for o in offers])
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=FORGET_DAYS)).isoformat(
        timespec="seconds")
    forget = [{"salt": row.salt, "digest": row.digest} for row in ErasedAddress.select().where(
        ErasedAddress.erased >= since).order_by(ErasedAddress.id)]
    return {"customers": customers, "forget": forget, "offers": [
        {"id": o.offer_id, "customer": o.customer_id, "sku": o.sku, "title": o.title,
         "kind": o.kind, "value": o.value, "max_units": o.max_units, "uses": o.uses,
         "valid_from": o.valid_from, "valid_until": o.valid_until,
         "redeemed": used.get(o.offer_id, {})}
        for o in offers if o.customer_id in known]}


def next_messages(store_ids: list[str] | None = None, force: bool = False,
                  today: dt.date | None = None) -> dict[str, dict[str, Any]]:
    """store -> body of a new version, for each store whose content changed."""
    body = snapshot(today)
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    out = {}
    with write_transaction():
        for store in store_ids if store_ids is not None else stores():
            row = Published.get_or_none(Published.store == store)
            if row is not None and row.digest == digest and not force:
                continue
            version = (row.version if row else 0) + 1
            Published.insert(store=store, version=version, digest=digest).on_conflict(
                conflict_target=[Published.store],
                update={Published.version: version, Published.digest: digest}).execute()
            out[store] = {"version": version, "store": store, **body}
    return out


def client_id() -> str:
    """The publisher's MQTT client id: its own per run, so two runs never take over each other."""
    return f"kassa-offers-{now_iso()[-8:].replace(':', '')}"


def publish(messages: dict[str, dict[str, Any]], send: Publish,
            key: PrivateKey | None = None) -> int:
    """Seals each store's message with head office's key (or `key`) and publishes it retained
    with QoS 1 through `send` (which waits for the broker's PUBACK and raises if the broker is
    away); returns how many were sent."""
    for store, body in messages.items():
        send_downstream(send, "offers", store, body, key)
    return len(messages)


def mail_offers(mailer: Mailer, shop_name: str = "Kassa") -> tuple[int, list[str]]:
    """One mail per consenting customer listing offers not mailed yet; (sent, errors)."""
    pending: dict[str, list[Offer]] = {}
    candidates = list(active_offers().where(Offer.emailed.is_null()))
    used = counts([o.offer_id for o in candidates])
    for offer in candidates:
        if sum(used.get(offer.offer_id, {}).values()) >= offer.uses:
            continue  # already redeemed (used up): not worth a mail
        pending.setdefault(offer.customer_id, []).append(offer)
    sent, errors = 0, []
    for customer_id, offers in sorted(pending.items()):
        customer = Customer.get_or_none(Customer.customer_id == customer_id)
        if customer is None or not customer.consent:
            continue
        lines = []
        for o in offers:
            product = OfficeProduct.get_or_none(OfficeProduct.sku == o.sku)
            lines.append(text(customer.language, "offer_line", percent=o.value,
                              product=product.name if product else o.sku,
                              start=long_date(customer.language, o.valid_from),
                              end=long_date(customer.language, o.valid_until)))
        try:
            mailer.send(customer.name, customer.email, text(customer.language, "offer_subject"),
                        text(customer.language, "offer_body", name=customer.name,
                             lines="\n".join(lines), shop=shop_name,
                             unsubscribe=mailer.unsubscribe_url(customer.unsubscribe_token)),
                        customer.unsubscribe_token)
        except RateLimited:
            break
        except (smtplib.SMTPException, OSError) as exc:
            errors.append(f"{customer_id}: {without_person(repr(exc), customer)}")
            continue
        with write_transaction():
            Offer.update(emailed=now_iso()).where(
                Offer.offer_id.in_([o.offer_id for o in offers])).execute()
        sent += 1
    return sent, errors
