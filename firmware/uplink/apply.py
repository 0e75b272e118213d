"""Applies a checked catalogue or price list without holding the till's write lock for long.

A sale needs SQLite's one write lock for a few milliseconds, so a big message is not
written in one transaction:
1. its rows go into a TEMP staging table (the connection's own temporary database: no
   write lock on the till's file, no fsync), each row is matched to its product (by GTIN,
   or by PLU for a product without one) and what differs from the product is marked;
2. new products are inserted inactive, invisible to the till, in short write transactions
   (about `CHUNK_SECONDS` each, with a pause after each so a waiting sale gets in);
3. one short transaction merges: a handful of set-based statements that write only the
   rows and columns that change. The till sees the old catalogue or the new one, never a mix.

A message that cannot be merged (a code held by a product it does not list, a price for an
unknown product) raises Conflict and changes nothing the till can see; a database that
stays locked raises firmware.db.DatabaseBusy, and the message can be applied again later.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import peewee

from contract.downstream import Catalogue, Prices, ProductRow
from contract.gtin import BarcodeError, normalize_gtin
from firmware import price_schedule
from firmware.db import DatabaseBusy, is_busy

CHUNK_SECONDS = 0.02  # the longest a write transaction of the apply should hold the lock
MIN_PAUSE = 0.005  # seconds between two write transactions, at least
FIRST_CHUNK = 500  # rows in the first write transaction; later ones adapt

STAGING = "kassa_staging"  # in the temp schema: gone with the connection, never in the file
_CREATE = (f"CREATE TEMP TABLE IF NOT EXISTS {STAGING} (seq INTEGER PRIMARY KEY, op TEXT,"
           " gtin TEXT, plu TEXT, name TEXT, price_cents INTEGER, vat_code TEXT, category TEXT,"
           " stock_tracked INTEGER, active INTEGER, sold_by_weight INTEGER, favourite INTEGER,"
           " name_folded TEXT, target INTEGER, fresh INTEGER DEFAULT 0, diff INTEGER DEFAULT 0"
           ", age_limit INTEGER, deposit_code TEXT, deposit_cents INTEGER, deposit_vat_code TEXT)")
_STAGE = (f"INSERT INTO {STAGING} (seq, op, gtin, plu, name, price_cents, vat_code, category,"
          " stock_tracked, active, sold_by_weight, favourite, name_folded"
          ", age_limit, deposit_code, deposit_cents, deposit_vat_code)"
          " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
DEPOSIT_COLUMNS = ("age_limit", "deposit_code", "deposit_cents", "deposit_vat_code")
# column groups a merge statement writes, and the bit that marks a row whose group differs
GROUPS = (
    (1, ("plu",)), (2, ("gtin",)), (4, ("name", "name_folded")), (8, ("category",)),
    (16, ("price_cents", "vat_code", "stock_tracked", "active", "sold_by_weight", "favourite")),
    (32, DEPOSIT_COLUMNS),  # age check and deposit
)


class Conflict(ValueError):
    """The message cannot be merged into the catalogue as it is; nothing was changed."""


@dataclass
class ApplyStats:
    rows: int = 0
    fresh: int = 0  # products new to this till
    transactions: int = 0  # write transactions on the till's database
    longest_lock: float = 0.0  # seconds, the longest of them
    merge_seconds: float = 0.0


class Stager:
    """Runs one message's apply on the uplink's connection."""

    def __init__(self, db: peewee.SqliteDatabase, chunk_seconds: float = CHUNK_SECONDS) -> None:
        self.db, self.chunk_seconds = db, chunk_seconds
        self.stats = ApplyStats()

    # -- the message kinds -----------------------------------------------------------------
    def catalogue(self, message: Catalogue, guard: Callable[[], None],
                  set_version: Callable[[], None]) -> ApplyStats:
        rows = [(i, "product", p.gtin, p.plu, p.name, p.price_cents, p.vat_code, p.category,
                 p.stock_tracked, p.active, p.sold_by_weight, p.favourite, p.name.casefold(),
                 *_age_and_deposit(p))
                for i, p in enumerate(message.products, start=1)]
        first_removal = len(rows) + 1
        rows += [(first_removal + i, "remove", *_code(code), *([None] * 13))
                 for i, code in enumerate(message.remove)]
        self._stage(rows)
        twice = self._one(f"SELECT target FROM {STAGING} WHERE op = 'product' AND target IS NOT"
                          " NULL GROUP BY target HAVING count(*) > 1 LIMIT 1")
        if twice:
            raise Conflict(f"two listed products are one product (id {twice[0]}): a GTIN and"
                           " a PLU of different rows name it")
        self._insert_fresh()
        groups = self._differing()

        def merge() -> None:
            guard()
            if message.mode == "full":
                self._sql(f"UPDATE product SET active = 0 WHERE active AND id NOT IN"
                          f" (SELECT target FROM {STAGING} WHERE op = 'product')")
            self._sql(f"UPDATE product SET active = 0 WHERE active AND id IN (SELECT target FROM"
                      f" {STAGING} WHERE op = 'remove' AND target IS NOT NULL)")
            self._merge_products(groups)
            self._schedule(message.scheduled, None if message.mode == "full" else
                           [(p.gtin, p.plu) for p in message.products]
                           + [_code(code) for code in message.remove])
            set_version()

        self._final(merge)
        return self.stats

    def _schedule(self, changes: Sequence, named: list[tuple[str | None, str | None]] | None
                  ) -> None:
        """Future prices, stored inside the merge (firmware/price_schedule.py); `named`: the
        other products the message names (their pending prices are replaced too), None for
        a full catalogue (every pending price is replaced)."""
        try:
            price_schedule.store(self.db, changes, named)
        except price_schedule.UnknownScheduledProduct as exc:
            raise Conflict(str(exc)) from None

    def prices(self, message: Prices, guard: Callable[[], None],
               set_version: Callable[[], None]) -> ApplyStats:
        rows = [(i, "price", c.gtin, c.plu, None, c.price_cents, *([None] * 11))
                for i, c in enumerate(message.prices, start=1)]
        self._stage(rows)
        unknown = self._one(f"SELECT gtin, plu FROM {STAGING} WHERE target IS NULL LIMIT 1")
        if unknown:
            raise Conflict(f"unknown product {unknown[0] or unknown[1]}")

        def merge() -> None:
            guard()
            self._sql(f"UPDATE product SET price_cents = s.price_cents FROM {STAGING} s"
                      " WHERE s.target = product.id AND product.price_cents != s.price_cents")
            self._schedule(message.scheduled, [(c.gtin, c.plu) for c in message.prices])
            set_version()

        self._final(merge)
        return self.stats

    # -- the steps ---------------------------------------------------------------------------
    def _stage(self, rows: Sequence[tuple]) -> None:
        """Staging filled and matched, in the temp schema (reads only of the till's file)."""
        self.stats.rows = len(rows)
        self._sql("PRAGMA temp_store = MEMORY")  # the staging table never touches the disk
        self._sql(_CREATE)
        with self.db.atomic():
            self._sql(f"DELETE FROM {STAGING}")
            self.db.cursor().executemany(_STAGE, rows)
            self._match("1 = 1")

    def _match(self, where: str, targets: bool = True) -> None:
        """Each row's product (`target`), unless already set, and what differs (`diff`)."""
        for by, which in (("gtin", "gtin IS NOT NULL"), ("plu", "gtin IS NULL")):
            if not targets:
                break
            self._sql(f"UPDATE {STAGING} SET target = (SELECT id FROM main.product p WHERE"
                      f" p.{by} = {STAGING}.{by}) WHERE {which} AND {where}")
        bits = " + ".join(
            f"{bit} * ({' OR '.join(f'p.{c} IS NOT s.{c}' for c in columns)})"
            for bit, columns in GROUPS)
        self._sql(f"UPDATE {STAGING} AS s SET diff = (SELECT {bits} FROM main.product p WHERE"
                  f" p.id = s.target) WHERE op = 'product' AND target IS NOT NULL AND {where}")

    def _insert_fresh(self) -> None:
        """Products new to the till, inserted inactive in short transactions; a PLU another
        product still holds comes with the merge, which frees it first."""
        new = [seq for (seq,) in self.db.execute_sql(
            f"SELECT seq FROM {STAGING} WHERE op = 'product' AND target IS NULL ORDER BY seq")]
        self.stats.fresh = len(new)

        def insert(lo: int, hi: int) -> None:
            chunk = new[lo:hi]
            top = self._one("SELECT coalesce(max(id), 0) FROM main.product")[0]
            self.db.cursor().executemany(
                f"UPDATE {STAGING} SET target = ?, fresh = 1 WHERE seq = ?",
                [(top + n, seq) for n, seq in enumerate(chunk, start=1)])
            self._sql(f"INSERT INTO main.product (id, gtin, plu, name, price_cents, vat_code,"
                      f" category, stock_tracked, active, sold_by_weight, favourite, name_folded,"
                      f" {', '.join(DEPOSIT_COLUMNS)})"
                      f" SELECT target, gtin, CASE WHEN EXISTS (SELECT 1 FROM main.product p"
                      f" WHERE p.plu = s.plu) THEN NULL ELSE plu END, name, price_cents, vat_code,"
                      f" category, stock_tracked, 0, sold_by_weight, favourite, name_folded,"
                      f" {', '.join(DEPOSIT_COLUMNS)}"
                      f" FROM {STAGING} s WHERE seq BETWEEN ? AND ? AND fresh",
                      (chunk[0], chunk[-1]))
            self._match(f"seq BETWEEN {int(chunk[0])} AND {int(chunk[-1])} AND fresh",
                        targets=False)

        self._chunked(len(new), insert)

    def _differing(self) -> set[int]:
        """The column groups (bits of GROUPS) some row changes; read before the merge."""
        row = self._one("SELECT " + ", ".join(f"max(diff & {bit})" for bit, _ in GROUPS)
                        + f" FROM {STAGING} WHERE op = 'product'") or ()
        return {bit for (bit, _), found in zip(GROUPS, row, strict=False) if found}

    def _merge_products(self, groups: set[int]) -> None:
        """Only the rows and columns that differ are written: an index is rewritten only for
        the rows whose indexed value changes, which keeps the merge short."""
        if 1 not in groups:
            self._merge_groups(groups)
            return
        # a PLU moving between listed products, or from a product no longer sold, is freed first
        self._sql(f"UPDATE product SET plu = NULL FROM {STAGING} s WHERE s.diff & 1 AND"
                  f" s.op = 'product' AND s.target = product.id AND product.plu IS NOT NULL")
        self._sql(f"UPDATE product SET plu = NULL WHERE NOT active AND plu IN (SELECT s.plu FROM"
                  f" {STAGING} s WHERE s.diff & 1) AND id NOT IN (SELECT target FROM {STAGING}"
                  f" WHERE op = 'product')")
        self._merge_groups(groups)

    def _merge_groups(self, groups: set[int]) -> None:
        for bit, columns in GROUPS:
            if bit not in groups:
                continue
            assign = ", ".join(f"{c} = s.{c}" for c in columns)
            self._sql(f"UPDATE product SET {assign} FROM {STAGING} s WHERE s.diff & {bit} AND"
                      f" s.op = 'product' AND s.target = product.id")

    def _final(self, merge: Callable[[], None]) -> None:
        try:
            self.stats.merge_seconds = self._short(merge, big=True)
        except peewee.IntegrityError as exc:
            raise Conflict(f"the catalogue cannot take it: {_cause(exc)} (a code is held by a"
                           " product that the message does not list)") from None
        finally:
            self._sql(f"DELETE FROM {STAGING}")

    # -- transactions ----------------------------------------------------------------------
    def _chunked(self, total: int, work: Callable[[int, int], object]) -> None:
        """work(lo, hi) over 0..total in write transactions of about chunk_seconds each."""
        size, lo = FIRST_CHUNK, 0
        while lo < total:
            hi = min(total, lo + size)
            timed: list[float] = []
            took = self._short(lambda lo=lo, hi=hi, timed=timed: timed.append(_timed(work, lo, hi)))
            lo = hi
            # sized by the work, not the commit (an fsync costs the same for 50 rows or 5000)
            size = max(50, min(size * 4, int(size * self.chunk_seconds / max(timed[0], 1e-4))))
            time.sleep(max(MIN_PAUSE, took))  # the lock is free at least as long as we held it

    def _short(self, work: Callable[[], object], big: bool = False) -> float:
        """One write transaction; its time is the lock's. After a big one SQLite's automatic
        WAL checkpoint would run inside the commit call (the lock already released), so it
        is run after it instead, outside the measured time."""
        self._sql(f"PRAGMA wal_autocheckpoint = {0 if big else 1000}")
        started = time.perf_counter()
        try:
            with self.db.atomic("IMMEDIATE"):
                work()
        except peewee.OperationalError as exc:
            if is_busy(exc):
                raise DatabaseBusy(self.db.database, "applying a head-office message") from exc
            raise
        finally:
            took = time.perf_counter() - started
            if big:
                self._sql("PRAGMA wal_autocheckpoint = 1000")
        if big:
            self._sql("PRAGMA wal_checkpoint(PASSIVE)")  # takes no lock a sale needs
        self.stats.transactions += 1
        self.stats.longest_lock = max(self.stats.longest_lock, took)
        return took

    def _one(self, sql: str) -> tuple | None:
        return self.db.execute_sql(sql).fetchone()

    def _sql(self, sql: str, params: tuple = ()) -> None:
        self.db.execute_sql(sql, params)


def _age_and_deposit(p: ProductRow) -> tuple[int, str, int, str]:
    """The staging columns of the age check and the deposit item (DEPOSIT_COLUMNS)."""
    if p.deposit is None:
        return p.age_limit, "", 0, ""
    return p.age_limit, p.deposit.code, p.deposit.amount_cents, p.deposit.vat_code


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
