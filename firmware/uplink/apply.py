"""Applies a checked catalogue or price list beside selling: new versions, then one flip.

The catalogue is stored as versions of products in generations (firmware/catalogue_store.py)
and the till reads the current generation G. An apply builds G+1 beside it, so that the one
write the till notices is tiny:
1. the message's rows go into a TEMP staging table (the connection's own temporary
   database: no write lock on the till's file), each is matched to its product (by GTIN, or
   PLU for a product without one), and what the message changes becomes a staged version:
   a new product, a changed one, one taken off sale, one whose PLU another product takes;
2. the apply claims G+1 with a token in the pointer row (undoing first what an apply cut
   off by kill -9 or a power cut left there), marks the current versions it replaces as
   dying at G+1 and inserts the new versions born at G+1, in short write transactions
   (about CHUNK_SECONDS each, with a pause after each so a waiting sale gets in). The till
   does not see any of it;
3. one tiny transaction moves the pointer to G+1, with the catalogue version, the message's
   scheduled prices (firmware/price_schedule.py; their products' ids worked out before)
   and the event for the journal: from its next statement on the till sees the whole new
   catalogue;
4. the versions G+1 retired are deleted in short transactions (what a cut-off apply left
   is deleted by the next one).
Only the rows that change are written: a delta of 1,000 prices writes 1,000 versions.

Write transactions before the flip commit with synchronous=NORMAL: they are not sales, and
WAL keeps them in order, so a power cut loses a tail of them and the next apply undoes the
rest; the apply fsyncs the WAL itself after each, with no lock held, so that a sale's commit
does not flush the apply's writes; the flip commits with FULL.

A message that cannot be merged (a code held by a product that stays on sale, a price for an
unknown product) raises Conflict and changes nothing the till can see; a database that stays
locked, or an apply that another one superseded, raises firmware.db.DatabaseBusy, and the
message can be applied again later.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import peewee

from contract.downstream import Catalogue, Prices, ProductRow, ScheduledPrice
from contract.gtin import BarcodeError, normalize_gtin
from firmware import catalogue_store, price_schedule
from firmware.catalogue_store import POINTER, VERSIONS
from firmware.db import DatabaseBusy, is_busy
from firmware.models import PRODUCT_COLUMNS

CHUNK_SECONDS = 0.02  # the longest a write transaction of the apply should hold the lock
MIN_PAUSE = 0.005  # seconds between two write transactions, at least
FIRST_CHUNK = 500  # rows in the first write transaction; later ones adapt
CHECKPOINT_SECONDS = 0.25  # the WAL is copied into the file about this often during an apply

STAGING = "kassa_staging"  # in the temp schema: gone with the connection, never in the file
_COLS = ", ".join(PRODUCT_COLUMNS)
# op: product (listed), remove (a code to take off sale), off (a stored product taken off
# sale or losing its PLU: a copy of its version); target: the product id; changed: a version
# to write; fresh: a product new to the till
_CREATE = (f"CREATE TEMP TABLE {STAGING} (seq INTEGER PRIMARY KEY, op TEXT, {_COLS},"
           " target INTEGER, fresh INTEGER DEFAULT 0, changed INTEGER DEFAULT 0)")
_DIFFERS = " OR ".join(f"p.{c} IS NOT s.{c}" for c in PRODUCT_COLUMNS)


class Conflict(ValueError):
    """The message cannot be merged into the catalogue as it is; nothing was changed."""


@dataclass
class ApplyStats:
    rows: int = 0
    fresh: int = 0  # products new to this till
    written: int = 0  # versions written (new, changed, taken off sale)
    transactions: int = 0  # write transactions on the till's database
    longest_lock: float = 0.0  # seconds, the longest a transaction held the write lock
    longest_cpu: float = 0.0  # CPU seconds of this thread inside the longest such
    holds: list[float] = field(default_factory=list)  # every transaction's hold, seconds
    flip_seconds: float = 0.0  # the flip's hold of the lock
    visible_after: float = 0.0  # seconds from the start until the till sees the new catalogue
    cleanup_seconds: float = 0.0  # deleting what the flip retired, after it


class Stager:
    """Runs one message's apply on the uplink's connection."""

    def __init__(self, db: peewee.SqliteDatabase, chunk_seconds: float = CHUNK_SECONDS) -> None:
        self.db, self.chunk_seconds = db, chunk_seconds
        self.stats = ApplyStats()
        self.token = self.staged_on = 0
        self.started = self.checkpointed = 0.0

    # -- the message kinds -----------------------------------------------------------------
    def catalogue(self, message: Catalogue, guard: Callable[[], None],
                  set_version: Callable[[], None]) -> ApplyStats:
        self.started = time.perf_counter()
        rows = [(i, "product", *_values(p)) for i, p in enumerate(message.products, start=1)]
        first_removal = len(rows) + 1
        blank = [None] * len(PRODUCT_COLUMNS)
        for i, code in enumerate(message.remove):
            gtin, plu = _code(code)
            rows.append((first_removal + i, "remove", *_with(blank, gtin=gtin, plu=plu)))
        try:
            self._stage(rows)
            twice = self._one(f"SELECT target FROM {STAGING} WHERE op = 'product' AND target IS"
                              " NOT NULL GROUP BY target HAVING count(*) > 1 LIMIT 1")
            if twice:
                raise Conflict(f"two listed products are one product (id {twice[0]}): a GTIN"
                               " and a PLU of different rows name it")
            self._retire(full=message.mode == "full")
            self._free_plus(delta=message.mode != "full")
            self._mark_changed()
            self._write(guard, set_version, message.scheduled, full=message.mode == "full")
        finally:
            self._sql(f"DROP TABLE IF EXISTS temp.{STAGING}")
        return self.stats

    def prices(self, message: Prices, guard: Callable[[], None],
               set_version: Callable[[], None]) -> ApplyStats:
        self.started = time.perf_counter()
        blank = [None] * len(PRODUCT_COLUMNS)
        rows = [(i, "product", *_with(blank, gtin=c.gtin, plu=c.plu, price_cents=c.price_cents))
                for i, c in enumerate(message.prices, start=1)]
        try:
            self._stage(rows)
            unknown = self._one(f"SELECT gtin, plu FROM {STAGING} WHERE target IS NULL LIMIT 1")
            if unknown:
                raise Conflict(f"unknown product {unknown[0] or unknown[1]}")
            # a product priced twice: the last price counts
            self._sql(f"DELETE FROM {STAGING} WHERE seq NOT IN (SELECT max(seq) FROM {STAGING}"
                      " GROUP BY target)")
            others = ", ".join(f"{c} = p.{c}" for c in PRODUCT_COLUMNS if c != "price_cents")
            self._sql(f"UPDATE {STAGING} AS s SET {others} FROM main.product p"
                      " WHERE p.id = s.target")
            self._mark_changed()
            self._write(guard, set_version, message.scheduled, full=False)
        finally:
            self._sql(f"DROP TABLE IF EXISTS temp.{STAGING}")
        return self.stats

    # -- staging (reads only of the till's file) ------------------------------------------
    def _stage(self, rows: Sequence[tuple]) -> None:
        """Staging filled and each row matched to its product (`target`)."""
        self.stats.rows = len(rows)
        self._sql("PRAGMA temp_store = MEMORY")  # the staging table never touches the disk
        self._sql(f"DROP TABLE IF EXISTS temp.{STAGING}")
        self._sql(_CREATE)
        with self.db.atomic():
            self.db.cursor().executemany(
                f"INSERT INTO {STAGING} (seq, op, {_COLS}) VALUES"
                f" ({', '.join('?' * (2 + len(PRODUCT_COLUMNS)))})", rows)
            for by, which in (("gtin", "gtin IS NOT NULL"), ("plu", "gtin IS NULL")):
                self._sql(f"UPDATE {STAGING} SET target = (SELECT id FROM main.product p WHERE"
                          f" p.{by} = {STAGING}.{by}) WHERE {which}")
            self.staged_on = catalogue_store.generation(self.db)[0]  # same snapshot

    def _retire(self, full: bool) -> None:
        """A copy, inactive, of each product the message takes off sale: in a full catalogue
        every active product it does not list, in any the ones it names in `remove`."""
        which = "1 = 1" if full else (f"p.id IN (SELECT target FROM {STAGING}"
                                      " WHERE op = 'remove')")
        copied = ", ".join("0" if c == "active" else f"p.{c}" for c in PRODUCT_COLUMNS)
        self._sql(f"INSERT INTO {STAGING} (op, target, {_COLS}) SELECT 'off', p.id, {copied}"
                  f" FROM main.product p WHERE p.active AND {which} AND p.id NOT IN"
                  f" (SELECT target FROM {STAGING} WHERE op = 'product' AND target IS NOT NULL)")

    def _free_plus(self, delta: bool) -> None:
        """A PLU a listed product takes from a product it does not list: freed when that
        product is off sale (or goes off sale now); a delta taking it from one that stays on
        sale is a Conflict."""
        holders = (f"SELECT p.id, p.plu, p.active FROM main.product p WHERE p.plu IN (SELECT plu"
                   f" FROM {STAGING} WHERE op = 'product' AND plu IS NOT NULL) AND p.id NOT IN"
                   f" (SELECT target FROM {STAGING} WHERE op IN ('product', 'off')"
                   " AND target IS NOT NULL)")
        if delta:
            held = self._one(f"SELECT id, plu FROM ({holders}) WHERE active LIMIT 1")
            if held:
                raise Conflict(f"PLU {held[1]} belongs to product {held[0]}, which stays on sale"
                               " and is not listed")
        self._sql(f"INSERT INTO {STAGING} (op, target, {_COLS}) SELECT 'off', p.id,"
                  f" {', '.join(f'p.{c}' for c in PRODUCT_COLUMNS)} FROM main.product p"
                  f" WHERE p.id IN (SELECT id FROM ({holders}))")
        self._sql(f"UPDATE {STAGING} SET plu = NULL WHERE op = 'off' AND plu IN (SELECT plu FROM"
                  f" {STAGING} WHERE op = 'product' AND plu IS NOT NULL)")

    def _mark_changed(self) -> None:
        """Which staged rows become versions: new products and those that differ."""
        self._sql(f"UPDATE {STAGING} SET fresh = 1, changed = 1 WHERE op = 'product'"
                  " AND target IS NULL")
        self._sql(f"UPDATE {STAGING} AS s SET changed = 1 WHERE op IN ('product', 'off') AND"
                  f" target IS NOT NULL AND EXISTS (SELECT 1 FROM main.product p WHERE"
                  f" p.id = s.target AND ({_DIFFERS}))")
        self.stats.fresh = self._one(f"SELECT count(*) FROM {STAGING} WHERE fresh")[0]

    # -- writing the next generation ------------------------------------------------------
    def _write(self, guard: Callable[[], None], set_version: Callable[[], None],
               scheduled: Sequence[ScheduledPrice], full: bool) -> None:
        current = self._claim()
        following = current + 1
        self._undo(current)
        if self.stats.fresh:  # ids for the new products, reserved (gaps do no harm)
            low, high = self._one(f"SELECT min(seq), max(seq) FROM {STAGING} WHERE fresh")
            first: list[int] = []
            self._short(lambda: first.append(self._reserve(high - low + 1)))
            self._sql(f"UPDATE {STAGING} SET target = ? + seq WHERE fresh", (first[0] - low,))
        try:
            held, named = self._scheduled(scheduled, full)
        except Conflict:
            self._abandon(current)
            raise
        replaced = self._seqs("changed AND NOT fresh")
        written = self._seqs("changed")
        self.stats.written = len(written)
        try:
            # every replaced version dies first, so a code can move to a version born later
            self._chunked(replaced, lambda lo, hi: self._sql(
                f"UPDATE {VERSIONS} SET died = ? WHERE died IS NULL AND product_id IN (SELECT"
                f" target FROM {STAGING} WHERE changed AND NOT fresh AND seq BETWEEN ? AND ?)",
                (following, lo, hi)))
            filled = ", ".join(f"coalesce({c}, {catalogue_store.default_sql(c)})"
                               for c in PRODUCT_COLUMNS)
            self._chunked(written, lambda lo, hi: self._sql(
                f"INSERT INTO {VERSIONS} (product_id, born, {_COLS}) SELECT target, ?,"
                f" {filled} FROM {STAGING} WHERE changed AND seq BETWEEN ? AND ?",
                (following, lo, hi)))
        except peewee.IntegrityError as exc:
            self._abandon(current)
            raise Conflict(f"the catalogue cannot take it: {_cause(exc)} (a code is held by a"
                           " product that the message does not list)") from None

        def flip() -> None:
            guard()
            self._sql(f"UPDATE {POINTER} SET generation = ?, pending = NULL WHERE id = 1",
                      (following,))
            price_schedule.replace(self.db, held, named)
            set_version()

        try:
            self.stats.flip_seconds = self._short(flip, durable=True)
        except Exception:
            self._abandon(current)
            raise
        self.stats.visible_after = time.perf_counter() - self.started
        started = time.perf_counter()
        with contextlib.suppress(DatabaseBusy):  # applied all the same; the next apply
            self.clean()  # deletes what is left
        self.stats.cleanup_seconds = time.perf_counter() - started

    def _scheduled(self, changes: Sequence[ScheduledPrice], full: bool
                   ) -> tuple[list[tuple[int, int, int, str]], list[int] | None]:
        """The message's future prices as rows of the next generation's products, and the
        products whose pending prices they replace (None: all, for a full catalogue), read
        before the flip so that the flip stays tiny: only the ids that hold a pending price
        now. A listed code means the listed product (it may be new, or take a PLU over);
        another code, the stored product. Raises Conflict for a code the till lacks."""
        listed: dict[tuple[str, str], int] = {}
        if changes:
            for gtin, plu, target in self.db.execute_sql(
                    f"SELECT gtin, plu, target FROM {STAGING} WHERE op = 'product'"):
                listed.update({("gtin", gtin): target} if gtin is not None else {})
                listed.update({("plu", plu): target} if plu is not None else {})
        held = []
        for change in changes:
            by, code = ("gtin", change.gtin) if change.gtin is not None else ("plu", change.plu)
            target = listed.get((by, str(code)))
            if target is None:
                found = self._one(f"SELECT id FROM main.product WHERE {by} = ?", (code,))
                if found is None:
                    raise Conflict(str(price_schedule.UnknownScheduledProduct(
                        change.gtin or f"plu {change.plu}")))
                target = found[0]
            held.append((target, change.price_cents, int(change.valid_from.timestamp()),
                         change.valid_from_text))
        if full:
            return held, None
        ids = {row[0] for row in held}
        named = {i for (i,) in self.db.execute_sql(
            "SELECT DISTINCT product_id FROM main.scheduled_price WHERE product_id IN"
            f" (SELECT target FROM {STAGING} WHERE op IN ('product', 'remove')"
            " AND target IS NOT NULL)")}
        return held, sorted(named | ids)

    def clean(self) -> None:
        """Deletes the versions no generation from the current one on sees, in short
        transactions; the till's statements never need them."""
        current = catalogue_store.generation(self.db)[0]
        dead = [vid for (vid,) in self.db.execute_sql(
            f"SELECT vid FROM {VERSIONS} WHERE died <= ? ORDER BY vid", (current,))]
        self._chunked(dead, lambda lo, hi: self._sql(
            f"DELETE FROM {VERSIONS} WHERE vid BETWEEN ? AND ? AND died <= ?",
            (lo, hi, current)), owned=False)

    def _claim(self) -> int:
        """Takes the next generation for this apply; returns the current one."""
        self.token = secrets.randbelow(2**62) + 1
        got: list[int] = []

        def claim() -> None:
            got.append(catalogue_store.generation(self.db)[0])
            if got[0] != self.staged_on:  # only another apply moves the pointer
                raise DatabaseBusy(self.db.database, "applying a head-office message (the"
                                   " catalogue changed generation while it was staged)")
            self._sql(f"UPDATE {POINTER} SET pending = ? WHERE id = 1", (self.token,))

        self._short(claim, owned=False)
        return got[0]

    def _abandon(self, current: int) -> None:
        """Takes this apply's next generation away again, unless another apply took it over."""
        try:
            self._undo(current)
            self._short(lambda: self._sql(f"UPDATE {POINTER} SET pending = NULL WHERE id = 1"
                                          " AND pending = ?", (self.token,)), owned=False)
        except DatabaseBusy:
            pass  # superseded or locked: the next apply undoes what is left

    def _undo(self, current: int) -> None:
        """Takes away what an unfinished apply wrote for the next generation: its versions
        first, then the marks on the versions it would have retired."""
        born = [vid for (vid,) in self.db.execute_sql(
            f"SELECT vid FROM {VERSIONS} WHERE born > ? ORDER BY vid", (current,))]
        self._chunked(born, lambda lo, hi: self._sql(
            f"DELETE FROM {VERSIONS} WHERE vid BETWEEN ? AND ? AND born > ?",
            (lo, hi, current)))
        dying = [vid for (vid,) in self.db.execute_sql(
            f"SELECT vid FROM {VERSIONS} WHERE died > ? ORDER BY vid", (current,))]
        self._chunked(dying, lambda lo, hi: self._sql(
            f"UPDATE {VERSIONS} SET died = NULL WHERE vid BETWEEN ? AND ? AND died > ?",
            (lo, hi, current)))

    def _reserve(self, count: int) -> int:
        """The first of `count` product ids reserved for new products (pointer's next_id)."""
        first = self._one(f"SELECT {catalogue_store.NEXT_ID}")[0]
        self._sql(f"UPDATE {POINTER} SET next_id = ? WHERE id = 1", (first + count,))
        return first

    def _seqs(self, where: str) -> list[int]:
        return [seq for (seq,) in self.db.execute_sql(
            f"SELECT seq FROM {STAGING} WHERE {where} ORDER BY seq")]

    # -- transactions ----------------------------------------------------------------------
    def _chunked(self, keys: list[int], work: Callable[[int, int], object],
                 owned: bool = True) -> None:
        """work(lo, hi) over ranges of the sorted keys, in write transactions of about
        chunk_seconds each, with the lock left free at least as long after each."""
        size, at = FIRST_CHUNK, 0
        while at < len(keys):
            chunk = keys[at:at + size]
            timed: list[float] = []
            took = self._short(lambda c=chunk, t=timed: t.append(_timed(work, c[0], c[-1])),
                               owned=owned)
            at += len(chunk)
            # sized by the work, not the commit
            size = max(50, min(size * 4, int(size * self.chunk_seconds / max(timed[0], 1e-4))))
            pause = time.perf_counter() + max(MIN_PAUSE, took)
            self._sync_wal()
            self._checkpoint()
            time.sleep(max(0.0, pause - time.perf_counter()))

    def _sync_wal(self) -> None:
        """Puts the transaction's WAL frames on disk now, with no lock held: they were committed
        with synchronous=NORMAL, and the next sale's commit (FULL) would otherwise wait for
        them in its own fsync."""
        try:
            fd = os.open(f"{self.db.database}-wal", os.O_RDONLY)
        except OSError:
            return  # no WAL file (an in-memory database)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _checkpoint(self) -> None:
        """Copies the WAL into the file now and then, between transactions: it takes no lock a
        sale needs, and the apply's own connection does it instead of the next sale's commit
        (the automatic checkpoint is off while an apply runs, see _short)."""
        if time.perf_counter() - self.checkpointed >= CHECKPOINT_SECONDS:
            self._sql("PRAGMA wal_checkpoint(PASSIVE)")
            self.checkpointed = time.perf_counter()

    def _short(self, work: Callable[[], object], durable: bool = False,
               owned: bool = True) -> float:
        """One write transaction; returns how long it held the write lock. `owned`: only while
        this apply's token is in the pointer (another apply superseded it otherwise)."""
        self._sql(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
        # a commit's automatic checkpoint would run inside the timed commit call
        self._sql("PRAGMA wal_autocheckpoint = 0")
        try:
            with self.db.atomic("IMMEDIATE"):
                started, cpu = time.perf_counter(), time.thread_time()
                if owned and catalogue_store.generation(self.db)[1] != self.token:
                    raise DatabaseBusy(self.db.database, "applying a head-office message (another"
                                       " apply took over the catalogue's next generation)")
                work()
            took, cpu = time.perf_counter() - started, time.thread_time() - cpu
        except peewee.OperationalError as exc:
            if is_busy(exc):
                raise DatabaseBusy(self.db.database, "applying a head-office message") from exc
            raise
        finally:
            self._sql("PRAGMA synchronous = FULL")
            self._sql("PRAGMA wal_autocheckpoint = 1000")
        self.stats.transactions += 1
        self.stats.holds.append(took)
        if took > self.stats.longest_lock:
            self.stats.longest_lock, self.stats.longest_cpu = took, cpu
        return took

    def _one(self, sql: str, params: tuple = ()) -> Any:
        return self.db.execute_sql(sql, params).fetchone()

    def _sql(self, sql: str, params: tuple = ()) -> None:
        self.db.execute_sql(sql, params)


def _values(product: ProductRow) -> list[Any]:
    """A listed product's values in PRODUCT_COLUMNS order (None for one it does not carry)."""
    values = {c: getattr(product, c, None) for c in PRODUCT_COLUMNS}
    values["name_folded"] = str(values["name"]).casefold()
    values.update(_age_and_deposit(product))
    return list(values.values())


def _age_and_deposit(p: ProductRow) -> dict[str, Any]:
    """The columns of the age check and the deposit item; head office sends the deposit as
    one nested object {code, amount_cents, vat_code}, or none."""
    if p.deposit is None:
        return {"age_limit": p.age_limit, "deposit_code": "", "deposit_cents": 0,
                "deposit_vat_code": ""}
    return {"age_limit": p.age_limit, "deposit_code": p.deposit.code,
            "deposit_cents": p.deposit.amount_cents, "deposit_vat_code": p.deposit.vat_code}


def _with(blank: list[Any], **values: Any) -> list[Any]:
    row = list(blank)
    for column, value in values.items():
        row[PRODUCT_COLUMNS.index(column)] = value
    return row


def _timed(work: Callable[[int, int], object], lo: int, hi: int) -> float:
    started = time.perf_counter()
    work(lo, hi)
    return time.perf_counter() - started


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
