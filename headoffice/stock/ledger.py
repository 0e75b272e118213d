"""Stock moves and counts per location, each applied once (keyed by its source).

A count is absolute at the moment it was taken: moves made before it (even when they reach
head office later, from a till that was offline) are already in the count and are recorded
but not applied again; moves made after it are added on top. Transitions from none to
available are recorded as restocks (back-in-stock mails); levels below zero as oversold
(two channels sold the last piece).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import peewee

from headoffice.orm import is_postgres
from headoffice.stock.models import OfficeProduct, Oversold, ReorderLevel, Restock, Stock, StockMove


def ts_ms(iso: str) -> int:
    """Epoch milliseconds of an ISO time with offset (journal `ts`, webshop dates)."""
    moment = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def _level(location: str, sku: str) -> Stock:
    """The level row, locked for the rest of the transaction on PostgreSQL: two writers (a
    webhook and the journal feed) must not both add to the same figure they read."""
    def locked() -> Stock | None:
        query = Stock.select().where(Stock.location == location, Stock.sku == sku)
        return (query.for_update() if is_postgres() else query).first()

    row = locked()
    if row is None:
        Stock.insert(location=location, sku=sku, quantity=0, counted_ms=0).on_conflict_ignore().execute()
        row = locked()
    return row


def _known(location: str, sku: str) -> bool:
    """Whether head office has seen this SKU at this location before (a first count or
    delivery of a new product is no "back in stock")."""
    return StockMove.select().where(StockMove.location == location, StockMove.sku == sku).exists()


def _set(row: Stock, new: int, source: str, at: int, counted_ms: int | None = None,
         known: bool = True) -> None:
    before = row.quantity
    updates = {"quantity": new}
    if counted_ms is not None:
        updates["counted_ms"] = counted_ms
    Stock.update(**updates).where(Stock.id == row.id).execute()
    if known and before <= 0 < new:
        Restock.insert(location=row.location, sku=row.sku, at_ms=at,
                       source=source).on_conflict_ignore().execute()


def move(location: str, sku: str, delta: int, kind: str, source: str, at: int) -> bool:
    """Applies one change; False when `source` was applied before (idempotent)."""
    if StockMove.get_or_none(StockMove.source == source) is not None:
        return False
    row = _level(location, sku)
    known = _known(location, sku)
    applied = at >= row.counted_ms
    new = row.quantity + delta if applied else row.quantity
    StockMove.create(source=source, location=location, sku=sku, kind=kind, delta=delta,
                     ts_ms=at, applied=applied, level_after=new)
    if applied:
        _set(row, new, source, at, known=known)
        if new < 0 and delta < 0:
            Oversold.insert(location=location, sku=sku, source=source, level_after=new,
                            at_ms=at).on_conflict_ignore().execute()
    return True


def count(location: str, sku: str, counted: int, source: str, at: int) -> bool:
    """A stock count taken at `at`: the level becomes counted + later moves."""
    if StockMove.get_or_none(StockMove.source == source) is not None:
        return False
    row = _level(location, sku)
    known = _known(location, sku)
    if at < row.counted_ms:  # an older count than the one in force: keep it for the record
        StockMove.create(source=source, location=location, sku=sku, kind="stock_count",
                         delta=0, ts_ms=at, applied=False, level_after=row.quantity)
        return True
    later = (StockMove.select(peewee.fn.COALESCE(peewee.fn.SUM(StockMove.delta), 0))
             .where(StockMove.location == location, StockMove.sku == sku,
                    StockMove.applied == True, StockMove.ts_ms > at,  # noqa: E712
                    StockMove.kind != "stock_count").scalar())
    new = counted + int(later)
    StockMove.create(source=source, location=location, sku=sku, kind="stock_count",
                     delta=new - row.quantity, ts_ms=at, applied=True, level_after=new)
    _set(row, new, source, at, counted_ms=at, known=known)
    return True


def note_product(sku: str, name: str, price_cents: int | None) -> None:
    """Remembers a SKU's name and shelf price as seen on a sale line."""
    if not name:
        return
    OfficeProduct.insert(sku=sku, name=name[:255], price_cents=price_cents).on_conflict(
        conflict_target=[OfficeProduct.sku],
        update={OfficeProduct.name: name[:255], OfficeProduct.price_cents: price_cents},
    ).execute()


def level(location: str, sku: str) -> int:
    row = Stock.get_or_none(Stock.location == location, Stock.sku == sku)
    return row.quantity if row else 0


def levels(location: str | None = None) -> list[tuple[str, str, int]]:
    query = Stock.select(Stock.location, Stock.sku, Stock.quantity)
    if location:
        query = query.where(Stock.location == location)
    return list(query.order_by(Stock.location, Stock.sku).tuples())


def set_reorder_level(location: str, sku: str, minimum: int, reorder_to: int) -> None:
    if minimum < 0 or reorder_to <= minimum:
        raise ValueError(f"reorder level for {sku} at {location}: need 0 <= minimum < reorder_to,"
                         f" got {minimum} and {reorder_to}")
    ReorderLevel.insert(location=location, sku=sku, minimum=minimum, reorder_to=reorder_to).on_conflict(
        conflict_target=[ReorderLevel.location, ReorderLevel.sku],
        update={ReorderLevel.minimum: minimum, ReorderLevel.reorder_to: reorder_to}).execute()


@dataclass(frozen=True)
class ReorderLine:
    location: str
    sku: str
    name: str
    quantity: int
    minimum: int
    order: int


def reorder_list(location: str | None = None) -> list[ReorderLine]:
    """Every SKU at or below its low-stock level, with how many to order up to its target."""
    query = (ReorderLevel.select(ReorderLevel, Stock.quantity.alias("quantity"),
                                 OfficeProduct.name.alias("name"))
             .join(Stock, peewee.JOIN.LEFT_OUTER,
                   on=(Stock.location == ReorderLevel.location) & (Stock.sku == ReorderLevel.sku))
             .join_from(ReorderLevel, OfficeProduct, peewee.JOIN.LEFT_OUTER,
                        on=(OfficeProduct.sku == ReorderLevel.sku)))
    if location:
        query = query.where(ReorderLevel.location == location)
    result = []
    for row in query.order_by(ReorderLevel.location, ReorderLevel.sku).objects():
        quantity = row.quantity or 0
        if quantity <= row.minimum:
            result.append(ReorderLine(row.location, row.sku, row.name or "", quantity,
                                      row.minimum, row.reorder_to - quantity))
    return result


def oversold(location: str | None = None) -> list[Oversold]:
    query = Oversold.select()
    if location:
        query = query.where(Oversold.location == location)
    return list(query.order_by(Oversold.at_ms))
