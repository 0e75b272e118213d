"""The drawer's money over a date range: the cash variance of every Z (counted - expected, as
the till printed it) and per cashier who closed, and the history of floats and cash taken
in and out.

The page lists the Zs and the movements a page at a time, newest first, and takes the
per-cashier and per-day sums and the totals from grouped reads, so three years of every
shop (some 77,000 rows) cost a few index ranges; the Excel file still lists every row.

Read from the rows ingest writes of the z_close, float, cash_in and cash_out entries of the
journal (headoffice.cash_records: a few per till and day, by local day); training entries
are left out, as every figure leaves them out (contract.figures). Signs as contract.figures:
cash_out negative, variance negative when cash is missing.
"""

from __future__ import annotations

import datetime as dt
from itertools import starmap
from typing import Any, NamedTuple

import peewee
from peewee import SQL, Case, fn

from headoffice.cash_records import MOVE_TYPES, CashRecord
from headoffice.exports.periods import Period
from headoffice.orm import database_proxy
from headoffice.web.paging import PAGE_SIZE, shown_page


class ZCash(NamedTuple):
    """One Z's drawer, its own figures (a named tuple: made straight from a row, as a
    page over years holds tens of thousands)."""

    store: str
    terminal: str
    seq: int
    ts: str
    day: str  # local date, YYYY-MM-DD
    cashier: str
    approved_by: str
    z_number: int
    float: int
    cash_in: int
    cash_out: int
    cash_tenders: int
    expected: int
    counted: int
    variance: int


class Move(NamedTuple):
    """A float, cash in or cash out: `amount` signed (cash out negative)."""

    type: str
    amount: int
    reason: str
    store: str
    terminal: str
    seq: int
    ts: str
    day: str
    cashier: str
    approved_by: str


Z_COLUMNS = ("store", "terminal", "seq", "ts", "day", "cashier", "approved_by", "z_number",
             "float", "cash_in", "cash_out", "cash_tenders", "expected", "counted", "variance")
MOVE_COLUMNS = ("type", "amount", "reason", "store", "terminal", "seq", "ts", "day", "cashier",
                "approved_by")
PAGE_ORDER = (CashRecord.ts, CashRecord.terminal, CashRecord.seq)


def _scoped(query: peewee.ModelSelect, z: bool, period: Period, shops: frozenset[str] | None,
            store: str | None) -> peewee.ModelSelect:
    """The Zs (or movements) whose local day is in the period, of the shops one may see."""
    # the stored ts is the till's own ISO time: a day either side of the local days covers
    # any offset, and reads the (z, ts, terminal, seq) index in the page's order
    query = query.where(CashRecord.z == z,
                        CashRecord.ts >= (period.start - dt.timedelta(days=1)).isoformat(),
                        CashRecord.ts < (period.end + dt.timedelta(days=2)).isoformat(),
                        CashRecord.day >= period.first, CashRecord.day <= period.last)
    if shops is not None:
        query = query.where(CashRecord.store.in_(sorted(shops)))
    if store:
        query = query.where(CashRecord.store == store)
    return query


def _fetch(query: peewee.ModelSelect) -> list[tuple]:
    """The rows as the driver returns them (no model object per row)."""
    sql, params = query.sql()
    return database_proxy.obj.execute_sql(sql, params).fetchall()


def _rows(columns: tuple[str, ...], z: bool, period: Period, shops: frozenset[str] | None,
          store: str | None, newest_first: bool = False, limit: int = 0,
          offset: int = 0) -> list[tuple]:
    """`columns` of the Zs (or movements) in the page's order, oldest or newest first; a
    page of them when `limit` is given."""
    order = [c.desc() for c in PAGE_ORDER] if newest_first else list(PAGE_ORDER)
    query = _scoped(CashRecord.select(*[CashRecord._meta.columns[c] for c in columns]),
                    z, period, shops, store).order_by(*order)
    if limit:
        query = query.limit(limit).offset(offset)
    return _fetch(query)


def z_cash(period: Period, shops: frozenset[str] | None = None,
           store: str | None = None) -> list[ZCash]:
    """Every Z of the period, oldest first (the Excel file)."""
    return list(starmap(ZCash, _rows(Z_COLUMNS, True, period, shops, store)))


def moves(period: Period, shops: frozenset[str] | None = None,
          store: str | None = None) -> list[Move]:
    """Every float and cash in/out of the period, oldest first (the Excel file)."""
    return list(starmap(Move, _rows(MOVE_COLUMNS, False, period, shops, store)))


def _newest_page(columns: tuple[str, ...], z: bool, period: Period,
                 shops: frozenset[str] | None, store: str | None, offset: int, size: int,
                 total: int) -> list[tuple]:
    """Rows `offset` .. `offset + size` of the newest-first list of `total` rows. A page in
    the older half is read from the oldest end and turned round, so no page skips more
    than half the list (the last page costs what the first does)."""
    if offset * 2 < total:
        return _rows(columns, z, period, shops, store, True, size, offset)
    end = min(offset + size, total)
    if end <= offset:
        return []
    return _rows(columns, z, period, shops, store, False, end - offset, total - end)[::-1]


def z_page(period: Period, shops: frozenset[str] | None, store: str | None, offset: int,
           size: int, total: int) -> list[ZCash]:
    """`size` Zs from `offset`, newest first (a page of the list of `total` Zs)."""
    return list(starmap(ZCash, _newest_page(Z_COLUMNS, True, period, shops, store, offset,
                                            size, total)))


def move_page(period: Period, shops: frozenset[str] | None, store: str | None, offset: int,
              size: int, total: int) -> list[Move]:
    """`size` movements from `offset`, newest first (a page of the list of `total`)."""
    return list(starmap(Move, _newest_page(MOVE_COLUMNS, False, period, shops, store, offset,
                                           size, total)))


def _int(value: Any) -> int:
    """A sum as an int: PostgreSQL sums a bigint as numeric, and no rows sum to NULL."""
    return int(value or 0)


def by_cashier(period: Period, shops: frozenset[str] | None = None,
               store: str | None = None) -> list[dict[str, Any]]:
    """Per cashier who closed the day: how many Zs, the variance summed, what was short
    (the negative variances) and what was over (the positive ones); grouped in the
    database, the largest shortage first."""
    variance = CashRecord.variance
    query = _scoped(CashRecord.select(
        CashRecord.cashier, fn.COUNT(SQL("*")), fn.SUM(variance),
        fn.SUM(Case(None, [(variance < 0, variance)], 0)),
        fn.SUM(Case(None, [(variance > 0, variance)], 0))), True, period, shops, store)
    rows = [{"cashier": cashier, "zs": _int(zs), "variance": _int(total), "short": _int(short),
             "over": _int(over)}
            for cashier, zs, total, short, over in _fetch(query.group_by(CashRecord.cashier))]
    return sorted(rows, key=lambda r: (r["variance"], r["cashier"]))


def by_day(period: Period, shops: frozenset[str] | None = None,
           store: str | None = None) -> list[dict[str, Any]]:
    """The variance of each day (all Zs of that day together), for the chart."""
    query = _scoped(CashRecord.select(CashRecord.day, fn.SUM(CashRecord.variance)), True,
                    period, shops, store).group_by(CashRecord.day)
    return [{"day": day, "variance": _int(value)} for day, value in sorted(_fetch(query))]


def move_sums(period: Period, shops: frozenset[str] | None = None,
              store: str | None = None) -> dict[str, tuple[int, int]]:
    """(how many, amount summed) of each kind of movement."""
    query = _scoped(CashRecord.select(CashRecord.type, fn.COUNT(SQL("*")),
                                      fn.SUM(CashRecord.amount)), False, period, shops, store)
    found = {kind: (_int(n), _int(total))
             for kind, n, total in _fetch(query.group_by(CashRecord.type))}
    return {kind: found.get(kind, (0, 0)) for kind in MOVE_TYPES}


def totals(cashiers: list[dict[str, Any]], moved: dict[str, tuple[int, int]]) -> dict[str, int]:
    """The period's figures from the per-cashier sums and the movement sums; `moves` is how
    many movements there were."""
    out = {key: sum(r[key] for r in cashiers) for key in ("zs", "variance", "short", "over")}
    out.update({kind: amount for kind, (_n, amount) in moved.items()})
    out["moves"] = sum(n for n, _amount in moved.values())
    return out


def summary(period: Period, shops: frozenset[str] | None = None,
            store: str | None = None) -> dict[str, Any]:
    """The per-cashier and per-day variance and the totals, all grouped in the database, so
    that a range of years costs a few grouped reads, not a row per Z."""
    cashiers = by_cashier(period, shops, store)
    return {"cashiers": cashiers, "days": by_day(period, shops, store),
            "totals": totals(cashiers, move_sums(period, shops, store))}


def cash_report(period: Period, shops: frozenset[str] | None = None,
                store: str | None = None) -> dict[str, Any]:
    """Everything the Excel file shows: the summary and every Z and movement."""
    return {**summary(period, shops, store), "zs": z_cash(period, shops, store),
            "moves": moves(period, shops, store)}


def cash_page(period: Period, shops: frozenset[str] | None, store: str | None, z_asked: int,
              move_asked: int, size: int = PAGE_SIZE) -> dict[str, Any]:
    """What the page shows: the summary, page `z_asked` of the Zs and page `move_asked` of
    the movements, newest first (the last page when one asks beyond it)."""
    data = summary(period, shops, store)
    z_at = shown_page(z_asked, data["totals"]["zs"], size)
    move_at = shown_page(move_asked, data["totals"]["moves"], size)
    return {**data, "z_page": z_at, "move_page": move_at,
            "zs": z_page(period, shops, store, (z_at - 1) * size, size, data["totals"]["zs"]),
            "moves": move_page(period, shops, store, (move_at - 1) * size, size,
                               data["totals"]["moves"])}
