"""The drawer's money over a date range: the cash variance of every Z (counted - expected, as
the till printed it) and per cashier who closed, and the history of floats and cash taken
in and out.

Read from the rows ingest writes of the z_close, float, cash_in and cash_out entries of the
journal (headoffice.cash_records: a few per till and day, by local day); training entries
are left out, as every figure leaves them out (contract.figures). Signs as contract.figures:
cash_out negative, variance negative when cash is missing.
"""

from __future__ import annotations

import datetime as dt
from itertools import starmap
from typing import Any, NamedTuple

from headoffice.cash_records import MOVE_TYPES, CashRecord
from headoffice.exports.periods import Period
from headoffice.orm import database_proxy


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


def _rows(columns: tuple[str, ...], z: bool, period: Period, shops: frozenset[str] | None,
          store: str | None) -> list[tuple]:
    """`columns` of the Zs (or movements) whose local day is in the period, oldest first, as
    the driver returns them (no model object per row)."""
    # the stored ts is the till's own ISO time: a day either side of the local days covers
    # any offset, and reads the (z, ts, terminal, seq) index in the page's order
    query = (CashRecord.select(*[CashRecord._meta.columns[c] for c in columns])
             .where(CashRecord.z == z,
                    CashRecord.ts >= (period.start - dt.timedelta(days=1)).isoformat(),
                    CashRecord.ts < (period.end + dt.timedelta(days=2)).isoformat(),
                    CashRecord.day >= period.first, CashRecord.day <= period.last)
             .order_by(CashRecord.ts, CashRecord.terminal, CashRecord.seq))
    if shops is not None:
        query = query.where(CashRecord.store.in_(sorted(shops)))
    if store:
        query = query.where(CashRecord.store == store)
    sql, params = query.sql()
    return database_proxy.obj.execute_sql(sql, params).fetchall()


def z_cash(period: Period, shops: frozenset[str] | None = None,
           store: str | None = None) -> list[ZCash]:
    return list(starmap(ZCash, _rows(Z_COLUMNS, True, period, shops, store)))


def moves(period: Period, shops: frozenset[str] | None = None,
          store: str | None = None) -> list[Move]:
    return list(starmap(Move, _rows(MOVE_COLUMNS, False, period, shops, store)))


def by_cashier(zs: list[ZCash]) -> list[dict[str, Any]]:
    """Per cashier who closed the day: how many Zs, the variance summed, what was short
    (the negative variances) and what was over (the positive ones)."""
    rows: dict[str, dict[str, Any]] = {}
    for z in zs:
        row = rows.setdefault(z.cashier, {"cashier": z.cashier, "zs": 0, "variance": 0,
                                          "short": 0, "over": 0})
        row["zs"] += 1
        row["variance"] += z.variance
        row["short" if z.variance < 0 else "over"] += z.variance
    return sorted(rows.values(), key=lambda r: (r["variance"], r["cashier"]))


def by_day(zs: list[ZCash]) -> list[dict[str, Any]]:
    """The variance of each day (all Zs of that day together), for the chart."""
    days: dict[str, int] = {}
    for z in zs:
        days[z.day] = days.get(z.day, 0) + z.variance
    return [{"day": day, "variance": value} for day, value in sorted(days.items())]


def totals(zs: list[ZCash], moved: list[Move]) -> dict[str, int]:
    out = {"zs": len(zs), "variance": sum(z.variance for z in zs),
           "short": sum(z.variance for z in zs if z.variance < 0),
           "over": sum(z.variance for z in zs if z.variance > 0)}
    for kind in MOVE_TYPES:
        out[kind] = sum(m.amount for m in moved if m.type == kind)
    return out


def cash_report(period: Period, shops: frozenset[str] | None = None,
                store: str | None = None) -> dict[str, Any]:
    """Everything the cash page and its Excel file show."""
    zs, moved = z_cash(period, shops, store), moves(period, shops, store)
    return {"zs": zs, "moves": moved, "cashiers": by_cashier(zs), "days": by_day(zs),
            "totals": totals(zs, moved)}
