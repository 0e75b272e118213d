"""Promotions at head office: stored in the fields of contract/promotions.py, checked by it
before they are stored and again before they are published, audited, and sent per store.

The promotions message of a store is a full list with its own version sequence (the
contract's rule): every active promotion for that store or for every store. A new version
goes out only when the list changed (or when forced).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from contract.promotions import KIND, PromotionError, parse_promotions, promotion
from headoffice.broker import Publish
from headoffice.catalogue import audit
from headoffice.catalogue.errors import BadField, UnknownPromotion
from headoffice.catalogue.models import CatalogueState, Promotion
from headoffice.catalogue.times import now_utc, stored
from headoffice.downstream_send import send_downstream
from headoffice.orm import write_transaction

PARAMS = ("n", "price_cents", "buy", "get", "percent")
WINDOW = ("valid_from", "valid_until", "time_from", "time_until")


@dataclass(frozen=True)
class PublishedPromotions:
    store: str
    version: int  # 0 and sent False: nothing changed
    promotions: int
    sent: bool


def as_item(row: Promotion) -> dict[str, Any]:
    """The promotion as the contract's message lists it."""
    item: dict[str, Any] = {"id": row.promo_id, "name": row.name, "version": row.edit,
                            "type": row.kind, **json.loads(row.params)}
    for key in ("products", "categories", "weekdays", "stores"):
        value = json.loads(getattr(row, key))
        if value:
            item[key] = value
    for key in WINDOW:
        if getattr(row, key):
            item[key] = getattr(row, key)
    return item


def save_promotion(item: dict[str, Any], actor: str, active: bool = True) -> Promotion:
    """Creates or changes a promotion from a contract-shaped dict (without `version`, which
    counts the edits); BadField names what the contract refused."""
    pid = str(item.get("id", ""))
    with write_transaction():
        row = Promotion.get_or_none(Promotion.promo_id == pid)
        edit = row.edit + 1 if row else 1
        candidate = {**item, "version": edit}
        try:
            checked = promotion(candidate, "promotion")
        except PromotionError as exc:
            raise BadField(exc.where, pid, exc.reason) from None
        values = {
            "name": checked.name, "kind": checked.type,
            "params": json.dumps({k: item[k] for k in PARAMS if k in item}, sort_keys=True),
            "products": json.dumps(sorted(checked.products)),
            "categories": json.dumps(sorted(checked.categories)),
            "weekdays": json.dumps(sorted(checked.weekdays)),
            "stores": json.dumps(sorted(checked.stores)),
            **{k: item.get(k) for k in WINDOW}, "edit": edit, "active": active,
            "updated": stored(now_utc())}
        old = as_item(row) | {"active": bool(row.active)} if row else None
        if row is None:
            Promotion.create(promo_id=pid, **values)
        else:
            Promotion.update(**values).where(Promotion.promo_id == pid).execute()
        new = Promotion.get_by_id(pid)
        audit.record(actor, "promotion", pid, "update" if old else "create", old,
                     as_item(new) | {"active": active})
    return new


def set_active(pid: str, active: bool, actor: str) -> None:
    row = Promotion.get_or_none(Promotion.promo_id == pid)
    if row is None:
        raise UnknownPromotion(pid)
    item = {k: v for k, v in as_item(row).items() if k != "version"}
    save_promotion(item, actor, active)


def for_store(store: str) -> list[dict[str, Any]]:
    out = []
    for row in Promotion.select().where(Promotion.active).order_by(Promotion.promo_id):
        stores = json.loads(row.stores)
        if not stores or store in stores:
            out.append(as_item(row))
    return out


def publish_promotions(send: Publish, store: str, force: bool = False) -> PublishedPromotions:
    """Sends the store's promotions list when it changed; checked by the contract first."""
    with write_transaction():
        state = CatalogueState.locked(store, KIND)
        items = for_store(store)
        digest = hashlib.sha256(json.dumps(items, sort_keys=True).encode()).hexdigest()
        if state.digest == digest and state.version and not force:
            return PublishedPromotions(store, state.version, len(items), False)
        version = state.version + 1
        body = {"version": version, "promotions": items}
        parse_promotions(json.loads(json.dumps(body)))
        CatalogueState.update(version=version, full_version=version, digest=digest,
                              published=stored(now_utc())).where(
            CatalogueState.id == state.id).execute()
        send_downstream(send, KIND, store, body)
    return PublishedPromotions(store, version, len(items), True)
