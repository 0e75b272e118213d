"""One webshop round: take new orders from stock, then push stock levels and prices.

Orders are taken once (unique on shop + order id, in the same transaction as their stock
moves). An order line takes stock from the first location in `fulfil_from` that has enough,
else from the first one, which then goes below zero and is reported as oversold (the shop
and the webshop sold the last piece at once). The stock pushed for a SKU is the sum of what
is available at the `fulfil_from` locations, never below zero. Every call and every SKU that
failed is written to the webshop log.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from headoffice.customers.models import Customer
from headoffice.customers.service import add_favourite, now_iso
from headoffice.orm import write_transaction
from headoffice.stock import ledger
from headoffice.stock.models import WEBSHOP, OfficeProduct, Oversold, Stock
from headoffice.webshop.connector import PushResult, WebOrder, Webshop, WebshopError
from headoffice.webshop.models import WebshopLog, WebshopOrder

LOOKBACK = dt.timedelta(days=2)


@dataclass
class SyncResult:
    orders_taken: int = 0
    orders_seen: int = 0
    stock: PushResult | None = None
    prices: PushResult | None = None
    favourites: int = 0
    oversold: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _log(shop: str, action: str, ok: bool, target: str = "", detail: str = "",
         attempts: int = 1) -> None:
    with write_transaction():
        WebshopLog.create(at=now_iso(), shop=shop, action=action, target=target[:200], ok=ok,
                          attempts=attempts, detail=detail[:4000])


def take_order(shop: str, order: WebOrder, fulfil_from: tuple[str, ...]) -> list[str]:
    """Takes an order's goods from stock once; returns oversold SKUs ([] when already taken)."""
    at = ledger.ts_ms(order.created)
    oversold = []
    with write_transaction():
        if WebshopOrder.get_or_none(WebshopOrder.shop == shop,
                                    WebshopOrder.order_id == order.order_id) is not None:
            return []
        taken = []
        for line in order.lines:
            location = next((loc for loc in fulfil_from
                             if ledger.level(loc, line.sku) >= line.quantity), fulfil_from[0])
            source = f"{shop}:{order.order_id}:{line.line_id}"
            ledger.move(location, line.sku, -line.quantity, "webshop_order", source, at)
            if Oversold.get_or_none(Oversold.source == source) is not None:
                oversold.append(line.sku)
            taken.append({"sku": line.sku, "quantity": line.quantity, "location": location})
        WebshopOrder.create(shop=shop, order_id=order.order_id, created=order.created,
                            taken=now_iso(), lines=json.dumps(taken), email=order.email)
    return oversold


def _cursor(shop: str) -> str | None:
    """Orders turn `processing` when paid, possibly well after they were created: ask again
    for LOOKBACK before the newest order taken (taking is idempotent)."""
    last = (WebshopOrder.select(WebshopOrder.created).where(WebshopOrder.shop == shop)
            .order_by(WebshopOrder.created.desc()).limit(1).scalar())
    if last is None:
        return None
    moment = dt.datetime.fromisoformat(last.replace("Z", "+00:00")) - LOOKBACK
    return moment.replace(tzinfo=None).isoformat(timespec="seconds")


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


def sync(webshop: Webshop, fulfil_from: tuple[str, ...] = (WEBSHOP,),
         push_prices: bool = True) -> SyncResult:
    shop, result = webshop.name, SyncResult()
    try:
        orders = webshop.new_orders(_cursor(shop))
        _log(shop, "pull_orders", True, detail=f"{len(orders)} order(s)")
    except WebshopError as exc:
        _log(shop, "pull_orders", False, detail=str(exc))
        result.errors.append(str(exc))
        orders = []
    for order in orders:
        result.orders_seen += 1
        if WebshopOrder.get_or_none(WebshopOrder.shop == shop,
                                    WebshopOrder.order_id == order.order_id) is not None:
            continue
        oversold = take_order(shop, order, fulfil_from)
        result.orders_taken += 1
        _log(shop, "take_order", True, order.order_id,
             "; ".join(f"{line.quantity} x {line.sku}" for line in order.lines))
        for sku in oversold:
            result.oversold.append(sku)
            _log(shop, "oversold", False, f"{order.order_id} {sku}",
                 f"order {order.order_id} took {sku} that was no longer in stock at "
                 f"{', '.join(fulfil_from)}; resolve it (backorder or refund)")
    skus = [sku for (sku,) in OfficeProduct.select(OfficeProduct.sku).tuples()]
    skus = sorted(set(skus) | {sku for (sku,) in Stock.select(Stock.sku).where(
        Stock.location.in_(list(fulfil_from))).tuples()})
    try:
        result.stock = webshop.push_stock(available(skus, fulfil_from))
        _push_log(shop, "push_stock", result.stock, result)
    except WebshopError as exc:
        _log(shop, "push_stock", False, detail=str(exc))
        result.errors.append(str(exc))
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
    return result


def failures(limit: int = 50) -> list[WebshopLog]:
    return list(WebshopLog.select().where(WebshopLog.ok == False)  # noqa: E712
                .order_by(WebshopLog.id.desc()).limit(limit))
