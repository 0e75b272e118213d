"""The drawer's money over a date range: the cash variance of every Z (counted - expected, as
the till printed it) and per cashier who closed, and the history of floats and cash taken
in and out.

Read from the z_close, float, cash_in and cash_out entries of the journal (a few per till and
day, found by the type index); training entries are left out, as every figure leaves them
out (contract.figures). Signs as contract.figures: cash_out negative, variance negative when
cash is missing.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from headoffice.alerts.texts import LOCAL
from headoffice.exports.periods import Period
from headoffice.models import OfficeEntry

MOVE_TYPES = ("float", "cash_in", "cash_out")
SIGN = {"float": 1, "cash_in": 1, "cash_out": -1}


@dataclass(frozen=True)
class ZCash:
    """One Z's drawer, its own figures."""

    store: str
    terminal: str
    seq: int
    z_number: int
    ts: str
    day: str  # local date, YYYY-MM-DD
    cashier: str
    approved_by: str
    float: int
    cash_in: int
    cash_out: int
    cash_tenders: int
    expected: int
    counted: int
    variance: int


@dataclass(frozen=True)
class Move:
    """A float, cash in or cash out: `amount` signed (cash out negative)."""

    store: str
    terminal: str
    seq: int
    type: str
    ts: str
    day: str
    cashier: str
    amount: int
    reason: str
    approved_by: str


def local_day(ts: str) -> str:
    when = dt.datetime.fromisoformat(ts)
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).astimezone(LOCAL).date() \
        .isoformat()


def _entries(types: tuple[str, ...], period: Period, shops: frozenset[str] | None,
             store: str | None) -> list[tuple[str, dict[str, Any]]]:
    """(ts, body) of the entries of `types` whose local day is in the period, oldest first."""
    first = (period.start - dt.timedelta(days=1)).isoformat()
    last = (period.end + dt.timedelta(days=2)).isoformat()
    query = (OfficeEntry.select(OfficeEntry.body)
             .where(OfficeEntry.type.in_(types), OfficeEntry.ts >= first, OfficeEntry.ts < last)
             .order_by(OfficeEntry.ts, OfficeEntry.terminal, OfficeEntry.seq))
    if shops is not None:
        query = query.where(OfficeEntry.store.in_(sorted(shops)))
    if store:
        query = query.where(OfficeEntry.store == store)
    out = []
    for row in query.iterator():
        body = json.loads(row.body)
        if body.get("training") or not (period.first <= local_day(body["ts"]) <= period.last):
            continue
        out.append((body["ts"], body))
    return out


def z_cash(period: Period, shops: frozenset[str] | None = None,
           store: str | None = None) -> list[ZCash]:
    out = []
    for ts, body in _entries(("z_close",), period, shops, store):
        data = body["data"]
        cash = data["cash"]
        out.append(ZCash(body["store"], body["terminal"], body["seq"], data["z_number"], ts,
                         local_day(ts), body.get("cashier") or "", data.get("approved_by") or "",
                         cash["float"], cash["cash_in"], cash["cash_out"], cash["cash_tenders"],
                         cash["expected"], data["counted"]["total"], data["variance"]))
    return out


def moves(period: Period, shops: frozenset[str] | None = None,
          store: str | None = None) -> list[Move]:
    out = []
    for ts, body in _entries(MOVE_TYPES, period, shops, store):
        data = body["data"]
        out.append(Move(body["store"], body["terminal"], body["seq"], body["type"], ts,
                        local_day(ts), body.get("cashier") or "",
                        SIGN[body["type"]] * data["amount"], data.get("reason") or "",
                        data.get("approved_by") or ""))
    return out


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
