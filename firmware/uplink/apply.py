"""Applies a checked catalogue or price list without holding the till's write lock for long.

A sale needs SQLite's one write lock for a few milliseconds. So a big message is not
written in one transaction: its rows go into `product_staging` in short transactions
(about `CHUNK_SECONDS` each, with a pause after each one so a waiting sale gets in), then
each row is matched to its product (by GTIN, or by PLU for a product without one) and new
products are inserted inactive, invisible to the till, also in short transactions. Only
the merge at the end, a handful of set-based statements that touch just the columns that
changed, is one transaction: the till sees the old catalogue or the new one, never a mix.

A product with a GTIN is the same product as long as its GTIN is; one without is known by
its PLU. A message that cannot be merged (a code held by another product it does not list,
a price for an unknown product) raises Conflict and changes nothing; a database that stays
locked raises firmware.db.DatabaseBusy, and the message can be applied again later.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import peewee

from contract.downstream import Catalogue, Prices
from contract.gtin import BarcodeError, normalize_gtin
from firmware.db import DatabaseBusy, is_busy

CHUNK_SECONDS = 0.02  # the longest a staging transaction should hold the write lock
MIN_PAUSE = 0.005  # seconds between two staging transactions, at least
FIRST_CHUNK = 500  # rows in the first staging transaction; later ones adapt

_STAGE = ("INSERT INTO product_staging (seq, op, gtin, plu, name, price_cents, vat_code, category,"
          " stock_tracked, active, sold_by_weight, favourite, name_folded, fresh)"
          " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,0)")
_COLUMNS = "s.op = 'product' AND s.target = product.id"


class Conflict(ValueError):
    """The message cannot be merged into the catalogue as it is; nothing was changed."""


@dataclass
class ApplyStats:
    rows: int = 0
    transactions: int = 0
    longest_lock: float = 0.0  # seconds, the longest transaction of this apply
    merge_seconds: float = 0.0


class Stager:
    """Runs one message's apply in short transactions on the uplink's connection."""

    def __init__(self, db: peewee.SqliteDatabase, chunk_seconds: float = CHUNK_SECONDS) -> None:
        self.db, self.chunk_seconds = db, chunk_seconds
        self.stats = ApplyStats()

    # -- the message kinds -----------------------------------------------------------------
    def catalogue(self, message: Catalogue, guard: Callable[[], None],
                  set_version: Callable[[], None]) -> ApplyStats:
        rows = [(i, "product", p.gtin, p.plu, p.name, p.price_cents, p.vat_code, p.category,
                 p.stock_tracked, p.active, p.sold_by_weight, p.favourite, p.name.casefold())
                for i, p in enumerate(message.products, start=1)]
        first_removal = len(rows) + 1
        rows += [(first_removal + i, "remove", *_code(code), *([None] * 9))
                 for i, code in enumerate(message.remove)]
        self._prepare(rows, fresh=True)

        def merge() -> None:
            guard()
            if message.mode == "full":
                self._sql("UPDATE product SET active = 0 WHERE active AND id NOT IN"
                          " (SELECT target FROM product_staging WHERE op = 'product')")
            self._sql("UPDATE product SET active = 0 WHERE active AND id IN (SELECT target FROM"
                      " product_staging WHERE op = 'remove' AND target IS NOT NULL)")
            self._merge_products()
            set_version()

        self._final(merge)
        return self.stats

    def prices(self, message: Prices, guard: Callable[[], None],
               set_version: Callable[[], None]) -> ApplyStats:
        rows = [(i, "price", c.gtin, c.plu, None, c.price_cents, *([None] * 7))
                for i, c in enumerate(message.prices, start=1)]
        self._prepare(rows, fresh=False)
        unknown = self.db.execute_sql("SELECT gtin, plu FROM product_staging WHERE target IS NULL"
                                      " LIMIT 1").fetchone()
        if unknown:
            raise Conflict(f"unknown product {unknown[0] or unknown[1]}")

        def merge() -> None:
            guard()
            self._sql("UPDATE product SET price_cents = s.price_cents FROM product_staging s"
                      " WHERE s.target = product.id AND product.price_cents != s.price_cents")
            set_version()

        self._final(merge)
        return self.stats

    # -- the steps ---------------------------------------------------------------------------
    def _prepare(self, rows: Sequence[tuple], fresh: bool) -> None:
        """Staging filled, every row matched to its product, new products inserted inactive."""
        self._short(lambda: self._sql("DELETE FROM product_staging"))
        self.stats.rows = len(rows)
        self._chunked(len(rows), lambda lo, hi: self.db.cursor().executemany(_STAGE, rows[lo:hi]))
        self._chunked(len(rows), lambda lo, hi: self._match(lo + 1, hi, fresh))
        if fresh:
            twice = self.db.execute_sql(
                "SELECT target FROM product_staging WHERE op = 'product' AND target IS NOT NULL"
                " GROUP BY target HAVING count(*) > 1 LIMIT 1").fetchone()
            if twice:
                raise Conflict(f"two listed products are one product (id {twice[0]}): a GTIN"
                               " and a PLU of different rows name it")

    def _match(self, first: int, last: int, fresh: bool) -> None:
        for by, where in (("gtin", "gtin IS NOT NULL"), ("plu", "gtin IS NULL")):
            self._sql(f"UPDATE product_staging SET target = (SELECT id FROM product p WHERE"
                      f" p.{by} = product_staging.{by}) WHERE seq BETWEEN ? AND ? AND {where}",
                      (first, last))
        if not fresh:
            return
        new = [seq for (seq,) in self.db.execute_sql(
            "SELECT seq FROM product_staging WHERE seq BETWEEN ? AND ? AND op = 'product'"
            " AND target IS NULL ORDER BY seq", (first, last))]
        if not new:
            return
        top = self.db.execute_sql("SELECT coalesce(max(id), 0) FROM product").fetchone()[0]
        self.db.cursor().executemany(
            "UPDATE product_staging SET target = ?, fresh = 1 WHERE seq = ?",
            [(top + n, seq) for n, seq in enumerate(new, start=1)])
        # the PLU comes with the merge: until then it may still belong to another product
        self._sql("INSERT INTO product (id, gtin, plu, name, price_cents, vat_code, category,"
                  " stock_tracked, active, sold_by_weight, favourite, name_folded)"
                  " SELECT target, gtin, NULL, name, price_cents, vat_code, category,"
                  " stock_tracked, 0, sold_by_weight, favourite, name_folded"
                  " FROM product_staging WHERE seq BETWEEN ? AND ? AND fresh", (first, last))

    def _merge_products(self) -> None:
        """Only the columns that differ are written: an index is rewritten only for the rows
        whose indexed value changes, which keeps the merge short."""
        # a PLU moving between listed products, or from a product no longer sold, is freed first
        self._sql(f"UPDATE product SET plu = NULL FROM product_staging s WHERE {_COLUMNS}"
                  " AND product.plu IS NOT NULL AND product.plu IS NOT s.plu")
        self._sql("UPDATE product SET plu = NULL WHERE NOT active AND plu IN (SELECT plu FROM"
                  " product_staging WHERE op = 'product' AND plu IS NOT NULL) AND id NOT IN"
                  " (SELECT target FROM product_staging WHERE op = 'product')")
        for columns in (("plu",), ("gtin",), ("name", "name_folded"), ("category",),
                        ("price_cents", "vat_code", "stock_tracked", "active", "sold_by_weight",
                         "favourite")):
            assign = ", ".join(f"{c} = s.{c}" for c in columns)
            differs = " OR ".join(f"product.{c} IS NOT s.{c}" for c in columns)
            self._sql(f"UPDATE product SET {assign} FROM product_staging s WHERE {_COLUMNS}"
                      f" AND ({differs})")

    def _final(self, merge: Callable[[], None]) -> None:
        started = time.perf_counter()
        try:
            self._short(merge)
        except peewee.IntegrityError as exc:
            raise Conflict(f"the catalogue cannot take it: {_cause(exc)} (a code is held by a"
                           " product that the message does not list)") from None
        finally:
            self.stats.merge_seconds = time.perf_counter() - started
        self._short(lambda: self._sql("DELETE FROM product_staging"))

    # -- transactions ----------------------------------------------------------------------
    def _chunked(self, total: int, work: Callable[[int, int], object]) -> None:
        """work(lo, hi) over 0..total in transactions of about chunk_seconds each."""
        size, lo = FIRST_CHUNK, 0
        while lo < total:
            hi = min(total, lo + size)
            took = self._short(lambda lo=lo, hi=hi: work(lo, hi))
            lo = hi
            size = max(50, min(size * 4, int(size * self.chunk_seconds / max(took, 1e-4))))
            time.sleep(max(MIN_PAUSE, took))  # the lock is free at least as long as we held it

    def _short(self, work: Callable[[], object]) -> float:
        started = time.perf_counter()
        try:
            with self.db.atomic("IMMEDIATE"):
                work()
        except peewee.OperationalError as exc:
            if is_busy(exc):
                raise DatabaseBusy(self.db.database, "applying a head-office message") from exc
            raise
        took = time.perf_counter() - started
        self.stats.transactions += 1
        self.stats.longest_lock = max(self.stats.longest_lock, took)
        return took

    def _sql(self, sql: str, params: tuple = ()) -> None:
        self.db.execute_sql(sql, params)


def _code(code: str) -> tuple[str | None, str | None]:
    """(gtin, plu) for a code in `remove`: a valid GTIN of 8+ digits, else a PLU."""
    if len(code) >= 8:
        try:
            return normalize_gtin(code), None
        except BarcodeError:
            pass
    return None, code.lstrip("0") or "0"


def _cause(exc: BaseException) -> str:
    return str(exc.args[0] if exc.args else exc)
