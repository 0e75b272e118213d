"""Scheduled prices: head office's future prices, held by the till and switched by its own clock.

A catalogue or prices message may carry `scheduled` prices, each with a `valid_from`
(contract/downstream.py). The uplink stores them here (`replace`, inside the transaction that
flips the catalogue's generation) whether the moment has come or not. The till switches them
into the product's price itself (`PriceSchedule.catch_up`, run before every scan and product
lookup of the sales service; the price goes into the current generation's version of the
product, in place: firmware/catalogue_store.py `switch_prices`), so a price planned for
Monday 07:00 is the price of every item scanned from 07:00 on, with the broker reachable or
not: the till needs nothing but its clock.

A ticket opened before the switch keeps the prices its lines were scanned at: a line is
priced when it is added (the shelf price at that moment), and an item added after 07:00
gets the new price, on the same ticket. A parked ticket recalled later keeps its lines'
prices too. This is how a till with a paper price list always worked, and it never changes
the amount of a line the customer has already seen on the screen.

Switching is one short write transaction: the newest due price of each product goes into
its row, and the due rows are deleted. The next due moment is read from an index before
each scan (microseconds), so nothing runs on a timer.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import peewee

from firmware import catalogue_store

__all__ = ["PriceSchedule", "UnknownScheduledProduct", "pending", "replace", "store"]


class ScheduledChange(Protocol):
    """A price with its moment (contract.downstream.ScheduledPrice)."""

    gtin: str | None
    plu: str | None
    price_cents: int
    valid_from: dt.datetime  # aware

    @property
    def valid_from_text(self) -> str: ...


class UnknownScheduledProduct(ValueError):
    """A scheduled price names a product the till does not have; nothing was stored."""

    def __init__(self, code: str) -> None:
        super().__init__(f"scheduled price for unknown product {code}")
        self.code = code


def _product_id(db: peewee.SqliteDatabase, gtin: str | None, plu: str | None) -> int | None:
    column, value = ("gtin", gtin) if gtin is not None else ("plu", plu)
    found = db.execute_sql(f"SELECT id FROM product WHERE {column} = ?", (value,)).fetchone()
    return found[0] if found else None


def store(db: peewee.SqliteDatabase, changes: Sequence[ScheduledChange],
          named: Sequence[tuple[str | None, str | None]] | None) -> int:
    """Stores future prices inside the caller's transaction, as contract/downstream.py says:
    `named` None (a full catalogue): they replace every held price; otherwise they replace
    the held prices of each product the message names, in `named` (gtin, plu) or in
    `changes`. Raises UnknownScheduledProduct (the caller rolls back)."""
    rows = []
    for change in changes:
        product_id = _product_id(db, change.gtin, change.plu)
        if product_id is None:
            raise UnknownScheduledProduct(change.gtin or f"plu {change.plu}")
        rows.append((product_id, change.price_cents, int(change.valid_from.timestamp()),
                     change.valid_from_text))
    if named is None:
        replace(db, rows, None)
    else:
        ids = {_product_id(db, gtin, plu) for gtin, plu in named} | {row[0] for row in rows}
        replace(db, rows, sorted(i for i in ids if i is not None))
    return len(rows)


def replace(db: peewee.SqliteDatabase, rows: Sequence[tuple[int, int, int, str]],
            products: Sequence[int] | None) -> None:
    """Inside the caller's transaction: the pending prices of `products` (None: of every
    product) are replaced by `rows` (product id, price in cents, valid_from epoch, as sent).
    The uplink's apply calls it in the transaction that flips the catalogue's generation."""
    if products is None:
        db.execute_sql("DELETE FROM scheduled_price")
    else:
        db.cursor().executemany("DELETE FROM scheduled_price WHERE product_id = ?",
                                [(i,) for i in products])
    db.cursor().executemany(
        "INSERT INTO scheduled_price (product_id, price_cents, valid_from, valid_from_text)"
        " VALUES (?,?,?,?)", rows)


def pending(db: peewee.SqliteDatabase) -> list[tuple[int, int, int]]:
    """The prices still to come: (product id, price in cents, valid_from epoch), in order."""
    return [tuple(row) for row in db.execute_sql(
        "SELECT product_id, price_cents, valid_from FROM scheduled_price"
        " ORDER BY valid_from, product_id")]


class PriceSchedule:
    """Switches due prices into the catalogue by the till's clock (`clock`: epoch seconds;
    tests give it a controlled one)."""

    def __init__(self, db: peewee.SqliteDatabase,
                 clock: Callable[[], float] = time.time) -> None:
        self.db, self.clock = db, clock

    def next_switch(self) -> int | None:
        """The next moment a held price takes effect, or None."""
        row = self.db.execute_sql("SELECT min(valid_from) FROM scheduled_price").fetchone()
        return row[0] if row else None

    def catch_up(self) -> int:
        """Every held price whose moment has come goes into its product (the newest due
        one per product); returns how many products changed price."""
        due = self.next_switch()
        now = int(self.clock())
        if due is None or due > now:
            return 0
        with self.db.atomic("IMMEDIATE"):
            changed = catalogue_store.switch_prices(self.db, now)
            self.db.execute_sql("DELETE FROM scheduled_price WHERE valid_from <= ?", (now,))
        return changed
