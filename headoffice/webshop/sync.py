"""One webshop round: link (first time), pull changed orders, push stock and prices.

The first round with a webshop imports the stock it shows into location "webshop" (a count,
so orders it had already taken are not taken twice), unless head office already keeps stock
there: a link never pushes zeros over stock the webshop has. Orders are pulled by
modification time (with an overlap; applying is idempotent) and followed through their
statuses (headoffice.webshop.orders); parked and stale orders are fetched again one by one.
Stock is pushed only when this round's pull succeeded and no order waits to be fetched again,
so the figure pushed includes every order seen; only SKUs head office keeps stock for at the
`fulfil_from` locations are pushed. Every call and every SKU that failed is logged.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field

from headoffice.customers.models import Customer
from headoffice.customers.service import add_favourite, now_iso
from headoffice.orm import write_transaction
from headoffice.stock import ledger
from headoffice.stock.models import WEBSHOP, OfficeProduct, Stock, StockMove
from headoffice.webshop import orders
from headoffice.webshop.connector import PushResult, WebOrder, Webshop, WebshopError
from headoffice.webshop.models import WebshopLink, WebshopLog

LOOKBACK = dt.timedelta(days=2)  # the first pull: orders changed in the last two days
OVERLAP = dt.timedelta(minutes=5)  # each pull asks again for the last minutes (clock skew)
LINK_ATTEMPTS = 3
RECHECKS = 3  # pulls after a push, for orders placed while it was on its way


@dataclass
class SyncResult:
    orders_taken: int = 0  # new orders taken
    orders_changed: int = 0  # known orders whose status or lines changed
    orders_seen: int = 0
    parked: list[str] = field(default_factory=list)
    imported: dict[str, int] = field(default_factory=dict)  # first link: stock imported
    stock: PushResult | None = None
    stock_skipped: str = ""  # why stock was not pushed this round
    prices: PushResult | None = None
    favourites: int = 0
    oversold: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        return {"taken": self.orders_taken, "changed": self.orders_changed,
                "seen": self.orders_seen, "parked": len(self.parked),
                "pushed": len(self.stock.updated) if self.stock else 0,
                "skipped": self.stock_skipped, "errors": len(self.errors)}


def _log(shop: str, action: str, ok: bool, target: str = "", detail: str = "",
         attempts: int = 1) -> None:
    with write_transaction():
        WebshopLog.create(at=now_iso(), shop=shop, action=action, target=target[:200], ok=ok,
                          attempts=attempts, detail=detail[:4000])


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def _count(levels: dict[str, int], shop: str, replace: bool, at: int) -> dict[str, int]:
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    imported = {}
    for sku, quantity in sorted(levels.items()):
        kept = StockMove.select().where(StockMove.location == WEBSHOP,
                                        StockMove.sku == sku).exists()
        if kept and not replace:
            continue
        ledger.count(WEBSHOP, sku, max(0, quantity), f"webshop_import:{shop}:{sku}:{stamp}", at)
        imported[sku] = max(0, quantity)
    return imported


def import_stock(webshop: Webshop, replace: bool = False) -> dict[str, int]:
    """The webshop's stock as a count at location "webshop" now (orders dated before now are
    taken as already in it); SKUs head office keeps stock for there are left alone unless
    `replace`. Best done when the webshop is quiet; the first link does it exactly."""
    levels = webshop.stock_levels()
    with write_transaction():
        return _count(levels, webshop.name, replace, int(time.time() * 1000))


def _consistent_read(webshop: Webshop) -> tuple[dict[str, int], list[WebOrder]]:
    """The webshop's stock and its recent orders as of one moment: the orders are read before
    and after the stock, and again if anything changed in between."""
    since = _utc(dt.datetime.now(dt.UTC) - LOOKBACK)
    for _ in range(LINK_ATTEMPTS):
        before = {o.order_id: o.version for o in webshop.changed_orders(since)}
        levels = webshop.stock_levels()
        after = webshop.changed_orders(since)
        if before == {o.order_id: o.version for o in after}:
            return levels, after
    raise WebshopError(f"orders kept changing while the stock was read ({LINK_ATTEMPTS} tries)")


def link(webshop: Webshop, fulfil_from: tuple[str, ...], result: SyncResult) -> WebshopLink | None:
    """The link to this webshop, made on the first round. Its stock is imported at "webshop"
    (never zeroed); the orders it holds stock for at that moment are recorded as already in
    that stock, so a later cancellation gives their pieces back and nothing is taken twice."""
    shop = webshop.name
    row = WebshopLink.get_or_none(WebshopLink.shop == shop)
    wanted = ",".join(fulfil_from)
    if row is not None:
        if row.fulfil_from != wanted:
            with write_transaction():
                WebshopLink.update(fulfil_from=wanted).where(WebshopLink.shop == shop).execute()
            row.fulfil_from = wanted
        return row
    try:
        levels, present = _consistent_read(webshop)
    except WebshopError as exc:
        _log(shop, "link", False, detail=f"stock import failed, not linked: {exc}")
        result.errors.append(str(exc))
        return None
    with write_transaction():
        # the webshop's own figure matters only when it sells from location "webshop"
        result.imported = _count(levels, shop, False, 0) if WEBSHOP in fulfil_from else {}
        baseline = frozenset(result.imported)
        for order in present:
            orders.apply(shop, order, fulfil_from, baseline)
        WebshopLink.insert(shop=shop, linked=now_iso(), fulfil_from=wanted,
                           cursor=max((o.version for o in present), default="")).execute()
    _log(shop, "link", True, detail=f"linked; stock of {len(result.imported)} SKU(s) imported "
         f"at {WEBSHOP}, {len(present)} recent order(s) recorded: " + ", ".join(
             f"{s}={q}" for s, q in result.imported.items()))
    return WebshopLink.get(WebshopLink.shop == shop)


def fulfil_locations(shop: str) -> tuple[str, ...] | None:
    row = WebshopLink.get_or_none(WebshopLink.shop == shop)
    return tuple(row.fulfil_from.split(",")) if row else None


def _take(shop: str, order: WebOrder, fulfil_from: tuple[str, ...], result: SyncResult) -> None:
    applied = orders.apply(shop, order, fulfil_from)
    result.orders_seen += 1
    if applied.outcome == "new":
        result.orders_taken += 1
    elif applied.outcome == "changed":
        result.orders_changed += 1
    elif applied.outcome == "parked":
        result.parked.append(order.order_id)
    for sku in applied.oversold:
        result.oversold.append(sku)
        _log(shop, "oversold", False, f"{order.order_id} {sku}",
             f"order {order.order_id} took {sku} that was no longer in stock at "
             f"{', '.join(fulfil_from)}; resolve it (backorder or refund)")


def pull(webshop: Webshop, link_row: WebshopLink, result: SyncResult) -> bool:
    """Every order changed since the cursor, then the parked and stale ones; True when head
    office now holds every order the webshop has shown it."""
    shop, fulfil_from = webshop.name, tuple(link_row.fulfil_from.split(","))
    if link_row.cursor:
        since = dt.datetime.fromisoformat(link_row.cursor).replace(tzinfo=dt.UTC) - OVERLAP
    else:
        since = dt.datetime.now(dt.UTC) - LOOKBACK
    try:
        changed = webshop.changed_orders(_utc(since))
    except WebshopError as exc:
        _log(shop, "pull_orders", False, detail=str(exc))
        result.errors.append(str(exc))
        return False
    _log(shop, "pull_orders", True, detail=f"{len(changed)} order(s) changed")
    for order in changed:
        _take(shop, order, fulfil_from, result)
    newest = max((o.version for o in changed), default="")
    if newest > link_row.cursor:
        with write_transaction():
            WebshopLink.update(cursor=newest).where(WebshopLink.shop == shop).execute()
    complete = True
    pulled = {o.order_id for o in changed}
    for order_id in orders.to_refetch(shop):
        if order_id in pulled and not orders.is_stale(shop, order_id):
            continue
        try:
            order = webshop.order(order_id)
        except WebshopError as exc:
            _log(shop, "fetch_order", False, order_id, str(exc))
            result.errors.append(str(exc))
            complete = False
            continue
        _take(shop, order, fulfil_from, result)
    if orders.stale(shop):
        complete = False
    return complete


def available(skus: list[str], fulfil_from: tuple[str, ...]) -> dict[str, int]:
    levels = dict.fromkeys(skus, 0)
    for sku, quantity in (Stock.select(Stock.sku, Stock.quantity)
                          .where(Stock.location.in_(list(fulfil_from)), Stock.sku.in_(skus))
                          .tuples()):
        levels[sku] += max(0, quantity)
    return levels


def _push_log(shop: str, action: str, push: PushResult, result: SyncResult) -> None:
    for sku, why in sorted(push.failed.items()):
        _log(shop, action, False, sku, why)
        result.errors.append(f"{action} {sku}: {why}")
    if push.unknown:
        _log(shop, action, False, ",".join(push.unknown[:20]),
             f"{len(push.unknown)} SKU(s) are not in the webshop")
    _log(shop, action, not push.failed, f"{len(push.updated)} updated")


def _push_stock(webshop: Webshop, fulfil_from: tuple[str, ...], result: SyncResult) -> None:
    """Pushes the stock, then pulls once more: an order placed online while the push was on
    its way was lowered from the webshop's old figure and then overwritten by ours, so the
    SKUs it changed at head office are pushed again (at most RECHECKS times)."""
    shop = webshop.name
    held = orders.held_back(shop)
    skus = sorted({sku for (sku,) in Stock.select(Stock.sku).where(
        Stock.location.in_(list(fulfil_from))).tuples()} - held)
    if held:
        result.stock_skipped = f"held back for parked orders: {', '.join(sorted(held))}"
        _log(shop, "push_stock", False, ",".join(sorted(held))[:200], result.stock_skipped)
    levels = available(skus, fulfil_from)
    try:
        result.stock = webshop.push_stock(levels)
        _push_log(shop, "push_stock", result.stock, result)
        for _ in range(RECHECKS):
            late = SyncResult()
            if not pull(webshop, WebshopLink.get(WebshopLink.shop == shop), late):
                result.errors += late.errors
                return
            result.orders_taken += late.orders_taken
            result.orders_changed += late.orders_changed
            result.oversold += late.oversold
            result.parked += [p for p in late.parked if p not in result.parked]
            held = orders.held_back(shop)
            changed = {sku: n for sku, n in available(skus, fulfil_from).items()
                       if n != levels[sku] and sku not in held}
            if not changed:
                return
            again = webshop.push_stock(changed)
            _push_log(shop, "push_stock", again, result)
            levels.update(changed)
    except WebshopError as exc:
        _log(shop, "push_stock", False, detail=str(exc))
        result.errors.append(str(exc))


def sync(webshop: Webshop, fulfil_from: tuple[str, ...] = (WEBSHOP,),
         push_prices: bool = True) -> SyncResult:
    shop, result = webshop.name, SyncResult()
    link_row = link(webshop, fulfil_from, result)
    complete = link_row is not None and pull(webshop, link_row, result)
    if not complete:
        result.stock_skipped = ("not linked yet" if link_row is None else
                                "orders could not all be read; stock not pushed")
        _log(shop, "push_stock", False, detail=result.stock_skipped)
    else:
        _push_stock(webshop, fulfil_from, result)
    if push_prices:
        prices = {p.sku: p.price_cents for p in OfficeProduct.select().where(
            OfficeProduct.price_cents.is_null(False))}
        try:
            result.prices = webshop.push_prices(prices)
            _push_log(shop, "push_prices", result.prices, result)
        except WebshopError as exc:
            _log(shop, "push_prices", False, detail=str(exc))
            result.errors.append(str(exc))
    try:
        for email, sku in webshop.favourites():
            customer = Customer.get_or_none(Customer.email == email)
            if customer is not None and add_favourite(customer.customer_id, sku, "webshop"):
                result.favourites += 1
    except WebshopError as exc:
        _log(shop, "favourites", False, detail=str(exc))
        result.errors.append(str(exc))
    _log(shop, "sync", not result.errors, detail=json.dumps(result.summary()))
    return result


def retry(webshop: Webshop, order_id: str) -> orders.Applied:
    """Fetches one order again and applies it (a parked order after its product exists)."""
    fulfil_from = fulfil_locations(webshop.name)
    if fulfil_from is None:
        raise WebshopError(f"webshop {webshop.name} is not linked yet: run `kassa webshop sync`")
    return orders.apply(webshop.name, webshop.order(order_id), fulfil_from)


def failures(limit: int = 50) -> list[WebshopLog]:
    return list(WebshopLog.select().where(WebshopLog.ok == False)  # noqa: E712
                .order_by(WebshopLog.id.desc()).limit(limit))
