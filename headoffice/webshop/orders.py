"""One webshop order followed through its statuses: head office's stock always holds what the
webshop holds out of stock for it now.

Each version of an order (its modification time) is compared with what head office took for
it so far, line by line: more wanted is taken, less wanted is given back to the location it
was taken from. Applying a version twice, or an older version after a newer one, moves
nothing, so an order heard of by a webhook and by the pull (or twice by either) moves stock
once. The first take is dated at the order's creation (when the webshop lowered its stock),
later changes at their modification time, so a stock import taken in between is respected
by the ledger. An order head office cannot take (a line without a usable SKU, or a SKU head
office has never heard of) is parked with its reason and one alert; it is tried again on
every sync and by `kassa webshop retry`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from headoffice.alerts.rules import raise_alert
from headoffice.customers.service import now_iso
from headoffice.orm import is_postgres, write_transaction
from headoffice.stock import ledger
from headoffice.stock.known import is_known
from headoffice.stock.models import WEBSHOP, Oversold
from headoffice.webshop.connector import TAKEN_STATUSES, WebOrder
from headoffice.webshop.models import PARKED, TRACKED, WebshopLink, WebshopLog, WebshopOrder

UNPAID = frozenset({"pending", "failed", "checkout-draft"})


@dataclass(frozen=True)
class Applied:
    """What applying one version of an order did."""

    outcome: str  # new | changed | same | older | parked | stale
    moved: int = 0  # stock moves made
    oversold: tuple[str, ...] = ()
    reason: str = ""


def _problem(order: WebOrder, tracked: dict[str, dict[str, Any]]) -> str:
    """Why head office cannot take this order ("" when it can); lines already taken keep
    the SKU they were taken as."""
    for line in order.lines:
        if line.line_id in tracked:
            continue
        if line.sku is None:
            return f"line {line.line_id} ({line.name or '?'}) has no usable SKU ({line.code!r})"
        if not is_known(line.sku):
            return f"line {line.line_id} ({line.name or '?'}): SKU {line.sku} is unknown at " \
                   f"head office"
    return ""


def _log(shop: str, action: str, ok: bool, target: str, detail: str) -> None:
    WebshopLog.create(at=now_iso(), shop=shop, action=action, target=target[:200], ok=ok,
                      detail=detail[:4000])


def _park(shop: str, order: WebOrder, row: WebshopOrder | None, reason: str) -> Applied:
    """Parks the order; its usable lines are kept (not taken) so the push holds their SKUs
    back: online they are sold, at head office not yet."""
    waiting = json.dumps([{"sku": line.sku, "wanted": order.wanted(line)}
                          for line in order.lines if line.sku is not None])
    if row is None:
        WebshopOrder.create(shop=shop, order_id=order.order_id, created=order.created,
                            taken=now_iso(), lines=waiting, email=order.email,
                            status=order.status, modified=order.version, state=PARKED,
                            reason=reason)
    else:
        WebshopOrder.update(status=order.status, modified=order.version, reason=reason,
                            lines=waiting, stale=False).where(WebshopOrder.id == row.id).execute()
    if row is None or row.reason != reason:
        _log(shop, "parked", False, order.order_id, reason)
    raise_alert(f"webshop_parked:{shop}:{order.order_id}", "webshop_parked",
                {"shop": shop, "order": order.order_id, "reason": reason}, store=shop)
    return Applied("parked", reason=reason)


def _legacy_lines(order: WebOrder, stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows taken before orders were followed name no line: pair them with the order's
    lines in order (they were written in that order)."""
    for entry, line in zip(stored, order.lines, strict=False):
        entry.setdefault("line_id", line.line_id)
        entry.setdefault("moves", 1)
    return stored


def _older(order: WebOrder, row: WebshopOrder) -> bool:
    """Versions are whole seconds: checkout's `order.created` (pending) and the payment's
    `order.updated` (processing) can carry the same one and arrive in either order. At an
    equal version an unpaid status never undoes a taken one (WooCommerce never goes back)."""
    if order.version != row.modified:
        return order.version < row.modified
    return order.status in UNPAID and row.status in TAKEN_STATUSES


def _location(sku: str, quantity: int, fulfil_from: tuple[str, ...]) -> str:
    return next((loc for loc in fulfil_from if ledger.level(loc, sku) >= quantity),
                fulfil_from[0])


def apply(shop: str, order: WebOrder, fulfil_from: tuple[str, ...],
          baseline: frozenset[str] = frozenset()) -> Applied:
    """Brings head office's stock in line with this version of the order (one transaction).
    Lines of a SKU in `baseline` are first recorded as taken at "webshop" without a move: the
    webshop's stock, just imported there, already lacks them."""
    with write_transaction():
        if is_postgres():  # one order change of a webshop at a time (SQLite: BEGIN IMMEDIATE)
            WebshopLink.select().where(WebshopLink.shop == shop).for_update().first()
        row = WebshopOrder.get_or_none(WebshopOrder.shop == shop,
                                       WebshopOrder.order_id == order.order_id)
        if row is not None and row.state == TRACKED and row.modified and _older(order, row):
            return Applied("older")
        if not order.refunds_known:
            if row is None:
                WebshopOrder.create(shop=shop, order_id=order.order_id, created=order.created,
                                    taken=now_iso(), lines="[]", email=order.email,
                                    status="", modified="", stale=True)
            else:
                WebshopOrder.update(stale=True).where(WebshopOrder.id == row.id).execute()
            return Applied("stale")
        stored = json.loads(row.lines) if row is not None and row.state == TRACKED else []
        if row is not None and row.state == TRACKED and not row.modified:
            stored = _legacy_lines(order, stored)
        tracked = {entry["line_id"]: entry for entry in stored if "line_id" in entry}
        reason = _problem(order, tracked)
        if reason:
            return _park(shop, order, row, reason)
        moved, oversold = 0, []
        seen = set()
        for line in order.lines:
            seen.add(line.line_id)
            entry = tracked.get(line.line_id)
            if entry is None:
                entry = {"line_id": line.line_id, "sku": line.sku, "location": "",
                         "quantity": 0, "moves": 0}
                if line.sku in baseline:
                    entry.update(location=WEBSHOP, quantity=order.wanted(line), moves=1)
                stored.append(entry)
                tracked[line.line_id] = entry
            moved += _bring(shop, order, entry, order.wanted(line), fulfil_from, oversold)
        for entry in stored:  # a line the order no longer has holds nothing
            if entry.get("line_id") not in seen:
                moved += _bring(shop, order, entry, 0, fulfil_from, oversold)
        fields = {"status": order.status, "modified": order.version, "lines": json.dumps(stored),
                  "state": TRACKED, "reason": "", "stale": False}
        if row is None:  # the e-mail is written once: a later version does not bring it back
            WebshopOrder.create(shop=shop, order_id=order.order_id, created=order.created,
                                taken=now_iso(), email=order.email, **fields)
            outcome = "new"
        else:
            WebshopOrder.update(**fields).where(WebshopOrder.id == row.id).execute()
            if row.state == PARKED or not row.status:  # parked, or only heard of: new now
                outcome = "new"
            else:
                outcome = "changed" if moved or row.status != order.status else "same"
        if moved:
            _log(shop, "take_order", True, order.order_id, f"{order.status}: " + "; ".join(
                f"{e['quantity']} x {e['sku']}" for e in stored))
        return Applied(outcome, moved, tuple(oversold))


def _bring(shop: str, order: WebOrder, entry: dict[str, Any], wanted: int,
           fulfil_from: tuple[str, ...], oversold: list[str]) -> int:
    """One line to `wanted` pieces taken: one stock move, or none when it is there."""
    delta = wanted - int(entry["quantity"])
    if delta == 0:
        return 0
    first = entry["moves"] == 0
    if not entry["location"]:
        entry["location"] = _location(entry["sku"], delta, fulfil_from)
    source = f"{shop}:{order.order_id}:{entry['line_id']}"
    if not first:
        source += f":{entry['moves']}"
    at = ledger.ts_ms(order.created if first else order.version)
    ledger.move(entry["location"], entry["sku"], -delta, "webshop_order", source, at)
    if delta > 0 and Oversold.get_or_none(Oversold.source == source) is not None:
        oversold.append(entry["sku"])
    entry["quantity"] = wanted
    entry["moves"] += 1
    return 1


def parked(shop: str | None = None) -> list[WebshopOrder]:
    query = WebshopOrder.select().where(WebshopOrder.state == PARKED)
    if shop:
        query = query.where(WebshopOrder.shop == shop)
    return list(query.order_by(WebshopOrder.id))


def held_back(shop: str) -> set[str]:
    """SKUs of parked orders' usable lines: their stock is not pushed until the order is
    taken (head office's figure lacks what the webshop sold)."""
    skus = set()
    for row in parked(shop):
        skus |= {line["sku"] for line in json.loads(row.lines) if line.get("wanted")}
    return skus


def to_refetch(shop: str) -> list[str]:
    """Orders to fetch again: parked ones (the product may exist now) and stale ones."""
    return [oid for (oid,) in WebshopOrder.select(WebshopOrder.order_id).where(
        WebshopOrder.shop == shop,
        (WebshopOrder.state == PARKED) | (WebshopOrder.stale == True)).tuples()]  # noqa: E712


def stale(shop: str) -> list[WebshopOrder]:
    return list(WebshopOrder.select().where(WebshopOrder.shop == shop,
                                            WebshopOrder.stale == True))  # noqa: E712


def is_stale(shop: str, order_id: str) -> bool:
    return WebshopOrder.select().where(WebshopOrder.shop == shop,
                                       WebshopOrder.order_id == order_id,
                                       WebshopOrder.stale == True).exists()  # noqa: E712
