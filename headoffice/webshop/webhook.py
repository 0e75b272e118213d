"""WooCommerce webhooks (topics order.created, order.updated): the signature checked on the
raw body, the order applied like a pulled one, in one transaction before the answer.

WooCommerce signs each delivery with the webhook's secret: `X-WC-Webhook-Signature` is the
base64 HMAC-SHA256 of the raw body. A delivery with a wrong or missing signature is refused
and counted (webshop log `webhook_refused`); nothing of its body is used. Because applying is
idempotent and ordered by modification time, a delivery repeated, late or lost does no harm:
the periodic pull is the safety net. An order whose refunds the body does not detail, or one
arriving before the first sync linked the webshop, is marked to be fetched by the next sync.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass

from headoffice.customers.service import now_iso
from headoffice.orm import write_transaction
from headoffice.webshop import orders
from headoffice.webshop.models import WebshopLog, WebshopOrder
from headoffice.webshop.sync import fulfil_locations
from headoffice.webshop.woocommerce import parse_order

PING = re.compile(rb"webhook_id=\d+")
TOPICS = frozenset({"order.created", "order.updated", "order.restored"})


@dataclass(frozen=True)
class Delivery:
    status: int  # the HTTP status to answer
    outcome: str  # refused | ping | ignored | bad_body | new | changed | same | older | ...


def signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _refused(shop: str, why: str) -> Delivery:
    with write_transaction():
        WebshopLog.create(at=now_iso(), shop=shop, action="webhook_refused", ok=False,
                          detail=why)
    return Delivery(401, "refused")


def receive(shop: str, secret: str, body: bytes, signed: str | None, topic: str) -> Delivery:
    """One delivery: verified, then applied (or marked stale) before it is acknowledged."""
    if not topic and PING.fullmatch(body):  # sent unsigned when a webhook is saved; unused
        return Delivery(200, "ping")
    if not signed or not hmac.compare_digest(signed.encode(), signature(secret, body).encode()):
        return _refused(shop, f"bad signature on a {topic or 'delivery'} of {len(body)} bytes")
    if topic not in TOPICS:
        return Delivery(200, "ignored")
    try:
        raw = json.loads(body)
        order = parse_order(raw)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        with write_transaction():
            WebshopLog.create(at=now_iso(), shop=shop, action="webhook", ok=False,
                              detail=f"{topic}: unreadable body: {exc}")
        return Delivery(400, "bad_body")
    fulfil_from = fulfil_locations(shop)
    if fulfil_from is None:  # not linked yet: the first sync imports stock, then takes it
        with write_transaction():
            WebshopOrder.insert(shop=shop, order_id=order.order_id, created=order.created,
                                taken=now_iso(), lines="[]", email=order.email, status="",
                                modified="", stale=True).on_conflict_ignore().execute()
        return Delivery(200, "stale")
    return Delivery(200, orders.apply(shop, order, fulfil_from).outcome)
