"""Where the tickets behind a report figure can be, read off the aggregates, so a drill-down
reads the journal entries of those shop days only, newest first, instead of every entry of
the range (headoffice.web.report_queries.tickets_behind). The rows of AggCashier, AggVat
and AggProduct exist for every day an entry that moved money touched them (whatever they
sum to), so a day without its row holds no such ticket.

A window is (store or None, first ts, last ts): the entries of one shop day, or of one hour
of a day in every shop. A needle is text every matching body holds in its stored canonical
form (contract.chain.canonical: sorted keys, no spaces, UTF-8), so the database passes over
the others (a substring search) before Python reads any JSON. Both only narrow the search:
the exact match is still report_queries' own.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from headoffice.aggregate_models import (
    AggCashier,
    AggCashierAll,
    AggProduct,
    AggVat,
    AggVatAll,
)
from headoffice.exports.periods import Period

Window = tuple[str | None, str, str]
END = "\uffff"  # after every ts of a day: 'YYYY-MM-DD' .. 'YYYY-MM-DD\uffff'
CASHIER_KEY = 255  # AggCashier keeps this much of a name (headoffice/aggregates.py)


def _days_newest_first(period: Period) -> list[str]:
    days, day = [], period.end
    while day >= period.start:
        days.append(day.isoformat())
        day -= dt.timedelta(days=1)
    return days


SHOPS_PER_DAY = 3  # a day with more shops is read whole: one window instead of one per shop


def _store_days(query: Any, store: str | None) -> list[Window] | None:
    """The (store, day) windows of an aggregate query selecting store and day; a day with
    more than SHOPS_PER_DAY shops one window of every shop."""
    if store:
        query = query.where(query.model.store == store)
    days: dict[str, set[str]] = {}
    for shop, day in query.tuples():
        days.setdefault(day, set()).add(shop)
    out: list[Window] = []
    for day in sorted(days, reverse=True):
        shops = sorted(days[day], reverse=True)
        if len(shops) > SHOPS_PER_DAY:
            out.append((None, day, day + END))
        else:
            out.extend((shop, day, day + END) for shop in shops)
    return out


def _days(query: Any) -> list[Window]:
    """Every shop's window of each day a roll-up query (selecting the day) names, newest
    first: a day of a common figure is read whole anyway (SHOPS_PER_DAY), and the roll-up
    has a row per day where the shops' aggregate has one per terminal."""
    return [(None, day, day + END) for (day,) in
            query.order_by(query.model.day.desc()).tuples()]


def windows(period: Period, store: str | None, cut: str, value: str) -> list[Window] | None:
    """The windows the tickets of (cut, value) fall in, newest first; None when every day
    of the range can hold them (the cut says nothing about the day)."""
    first, last = period.first, period.last
    if cut == "cashier" and 0 < len(value) < CASHIER_KEY:  # a row per cashier and day
        if store is None:
            return _days(AggCashierAll.select(AggCashierAll.day).where(
                AggCashierAll.cashier == value, AggCashierAll.day.between(first, last)))
        query = (AggCashier.select(AggCashier.store, AggCashier.day)
                 .where(AggCashier.cashier == value, AggCashier.day.between(first, last)))
        return _store_days(query, store)
    if cut == "vat" and ":" in value:
        code, rate = value.split(":", 1)
        if not rate.lstrip("-").isdigit():
            return []
        if store is None:
            return _days(AggVatAll.select(AggVatAll.day).where(
                AggVatAll.code == code, AggVatAll.rate_bp == int(rate),
                AggVatAll.day.between(first, last)))
        query = (AggVat.select(AggVat.store, AggVat.day)
                 .where(AggVat.code == code, AggVat.rate_bp == int(rate),
                        AggVat.day.between(first, last)))
        return _store_days(query, store)
    if cut == "product":
        query = (AggProduct.select(AggProduct.store, AggProduct.bucket)
                 .where(AggProduct.product == value[:64],
                        AggProduct.bucket.between("d" + first, "d" + last)))
        found = _store_days(query, store) or []
        return [(s, lo[1:], hi[1:]) for s, lo, hi in found]
    if cut == "heat":
        weekday, hour = (int(x) for x in value.split(":"))
        return [(store, f"{day}T{hour:02d}", f"{day}T{hour:02d}{END}")
                for day in _days_newest_first(period)
                if dt.date.fromisoformat(day).weekday() == weekday]
    return None


def every_day(period: Period, store: str | None) -> list[Window]:
    return [(store, day, day + END) for day in _days_newest_first(period)]


def needle(cut: str, value: str) -> str | None:
    """Text each matching body holds, as stored; None when the cut gives none."""
    def text(item: str) -> str:
        return json.dumps(item, ensure_ascii=False)
    if cut == "cashier" and value:  # "" also matches an entry without a cashier (null)
        return '"cashier":' + text(value)
    if cut == "payment":
        return '"kind":' + text(value)
    if cut == "vat" and ":" in value:
        return '"code":' + text(value.split(":", 1)[0])
    if cut == "product" and value:
        return text(value)[1:-1]  # a code, a product id or a name, maybe cut at 64
    return None
