"""The owner's reports over any date range: turnover, tickets and average ticket, cut by shop,
terminal, category, product, cashier, payment method, VAT rate and hour x weekday, each
compared with the previous period and the same range a year earlier.

Every figure is read from the aggregate tables ingest fills (headoffice/aggregates.py, whose
definitions are contract.figures'): a shop's from its own rows, every shop's from the
roll-ups (aggregate_models.ROLLUPS), a row per day and key. Nothing here scans the journal
except `tickets_behind`, which lists the tickets behind one figure (a drill-down, bounded by
`limit`, reading only the shop days the aggregates name: headoffice.web.drill_scope).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from peewee import SQL, fn

from contract import figures
from headoffice.aggregate_models import (
    AggCashier,
    AggCashierAll,
    AggHourAll,
    AggHourShop,
    AggVat,
    AggVatAll,
)
from headoffice.catalogue.products import find_many
from headoffice.exports.periods import Period, PeriodError, around, parse_period
from headoffice.models import OfficeEntry
from headoffice.orm import is_postgres
from headoffice.receipt_keys import entries_newest_first, line_key, vat_value
from headoffice.web import drill_scope, queries

PRESETS = ("today", "yesterday", "this_week", "last_week", "this_month", "last_month",
           "this_quarter", "last_quarter", "this_year", "last_year", "custom")
PRESET_NAMES = {"today": "vandaag", "yesterday": "gisteren", "this_week": "deze week",
                "last_week": "vorige week", "this_month": "deze maand",
                "last_month": "vorige maand", "this_quarter": "dit kwartaal",
                "last_quarter": "vorig kwartaal", "this_year": "dit jaar",
                "last_year": "vorig jaar", "custom": "eigen periode"}
WEEKDAYS = ("ma", "di", "wo", "do", "vr", "za", "zo")
TENDERS = ("cash", "card", "voucher")
COMPARED = ("turnover", "tickets", "basket")
NO_CATEGORY = "(geen categorie)"


class ReportError(ValueError):
    """A range or cut the reports cannot use; the message names what was wrong."""

    def __init__(self, what: str, value: str) -> None:
        super().__init__(f"{what}: {value!r}")
        self.what, self.value = what, value


def _quarter(day: dt.date) -> Period:
    return parse_period(f"{day.year}-Q{(day.month - 1) // 3 + 1}")


def preset(name: str, today: dt.date, first: str = "", last: str = "") -> Period:
    """The date range of a preset (PRESETS) as seen on `today`; "custom" takes first..last
    (YYYY-MM-DD). ReportError names a bad preset or date."""
    if name == "today":
        return around("day", today)
    if name == "yesterday":
        return around("day", today - dt.timedelta(days=1))
    if name in ("this_week", "this_month", "this_year"):
        return around(name[5:], today)
    if name in ("last_week", "last_month", "last_year"):
        return around(name[5:], today).previous()
    if name == "this_quarter":
        return _quarter(today)
    if name == "last_quarter":
        return _quarter(today).previous()
    if name == "custom":
        try:
            start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        except ValueError:
            raise ReportError("datum (JJJJ-MM-DD)", f"{first}..{last}") from None
        if end < start:
            raise ReportError("periode eindigt voor het begin", f"{first}..{last}")
        return Period(start, end, f"{first}..{last}")
    raise ReportError("onbekende periode", name)


def parse_range(text: str, today: dt.date) -> Period:
    """A preset name or any period `parse_period` reads (2026, 2026-Q1, 2026-03-01..2026-03-09)."""
    if text in PRESETS and text != "custom":
        return preset(text, today)
    try:
        return parse_period(text)
    except PeriodError as exc:
        raise ReportError("periode", text) from exc


def year_earlier(period: Period) -> Period:
    """The same dates a year before (29 February becomes the 28th)."""
    def back(day: dt.date) -> dt.date:
        try:
            return day.replace(year=day.year - 1)
        except ValueError:
            return day.replace(year=day.year - 1, day=28)
    return Period(back(period.start), back(period.end), "year_earlier")


def _compare(now: dict[str, Any], before: dict[str, Any]) -> dict[str, str]:
    return {key: queries.change_percent(now[key], before[key]) for key in COMPARED}


@dataclass(frozen=True)
class Overview:
    """The headline figures of a range beside the previous period and a year earlier."""

    period: Period
    previous: Period
    earlier: Period
    now: dict[str, Any]
    before: dict[str, Any]
    last_year: dict[str, Any]
    vs_previous: dict[str, str]
    vs_last_year: dict[str, str]


def overview(period: Period, store: str | None = None,
             totals: dict[Period, dict[str, Any]] | None = None) -> Overview:
    """`totals` may hold the day totals of the three ranges already read."""
    previous, earlier = period.previous(), year_earlier(period)
    found = totals or {p: queries.totals(p, store) for p in (period, previous, earlier)}
    now, before, last_year = found[period], found[previous], found[earlier]
    return Overview(period, previous, earlier, now, before, last_year, _compare(now, before),
                    _compare(now, last_year))


def by_shop(period: Period) -> list[dict[str, Any]]:
    return queries.by_store(period)


def by_terminal(period: Period, store: str | None = None) -> list[dict[str, Any]]:
    return queries.by_terminal(period, store)


def by_payment(period: Period, store: str | None = None) -> list[dict[str, Any]]:
    """What each tender took (refunds paid out count negative), from the day totals."""
    return _payments(queries.totals(period, store))


def _payments(totals: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"kind": kind, "amount": totals[kind]} for kind in TENDERS]


def _days(table: Any, period: Period, store: str | None) -> Any:
    """The range's days of a per-terminal table (AggVat, AggCashier) or its roll-up. For one
    shop on SQLite the day is compared as an expression, which no index serves: SQLite then
    reads the shop's rows through the (store, terminal, day ...) index instead of every
    shop's rows of the range through the day index (3 years of one shop: 12 instead of
    56 ms); PostgreSQL chooses well by itself."""
    day = table.day.concat("") if store and not is_postgres() else table.day
    return day.between(period.first, period.last)


def by_vat(period: Period, store: str | None = None) -> list[dict[str, Any]]:
    table = AggVat if store else AggVatAll  # every shop: the roll-up, one row per day and rate
    query = (table.select(table.code, table.rate_bp, fn.SUM(table.gross).alias("gross"),
                          fn.SUM(table.vat).alias("vat"))
             .where(_days(table, period, store))
             .group_by(table.code, table.rate_bp).order_by(table.rate_bp.desc()))
    if store:
        query = query.where(AggVat.store == store)
    return [{"code": r["code"], "rate_bp": r["rate_bp"], "gross": int(r["gross"]),
             "vat": int(r["vat"]), "net": int(r["gross"]) - int(r["vat"])} for r in query.dicts()]


def by_product(period: Period, store: str | None = None, limit: int = 1000,
               named: bool = True) -> list[dict[str, Any]]:
    return queries.top_products(period, store, limit, named)


def category_of(codes: list[str]) -> dict[str, str]:
    """The product master's category of each product key (a GTIN, PLU or SKU as the till
    journaled it); NO_CATEGORY for a key the master does not know."""
    return {code: (product.category if product is not None else "") or NO_CATEGORY
            for code, product in find_many(codes).items()}


CATEGORY_PRODUCTS = 100_000  # the products a category report adds up (every one, in practice)
PRODUCT_ROWS = 1000  # the products the product report lists


def by_category(period: Period, store: str | None = None) -> list[dict[str, Any]]:
    """Units and gross per category of the product master, from the product totals."""
    products = by_product(period, store, limit=CATEGORY_PRODUCTS)
    return _categories(products, category_of([p["product"] for p in products]))


def _categories(products: list[dict[str, Any]], categories: dict[str, str]
                ) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for p in products:
        row = out.setdefault(categories[p["product"]],
                             {"category": categories[p["product"]], "quantity": 0, "gross": 0})
        row["quantity"] += p["quantity"]
        row["gross"] += p["gross"]
    return sorted(out.values(), key=lambda r: (-r["gross"], r["category"]))


def by_cashier(period: Period, store: str | None = None) -> list[dict[str, Any]]:
    names = ("tickets", "turnover")
    table = AggCashier if store else AggCashierAll  # every shop: the roll-up
    query = (table.select(table.cashier, *[fn.SUM(getattr(table, n)).alias(n) for n in names])
             .where(_days(table, period, store))
             .group_by(table.cashier).order_by(table.cashier))
    if store:
        query = query.where(AggCashier.store == store)
    rows = []
    for r in query.dicts():
        row = {"cashier": r["cashier"], **{n: int(r[n]) for n in names}}
        row["basket"] = figures.average_ticket(row["turnover"], row["tickets"])
        rows.append(row)
    return rows


def heat_map(period: Period, store: str | None = None) -> list[list[int]]:
    """Turnover per weekday (0 = Monday) and hour: 7 rows of 24 cents. Every shop's from
    AggHourAll, one shop's from its roll-up over its terminals, AggHourShop; summed per
    weekday and hour by the database (168 rows out, not one per day and hour)."""
    table = AggHourShop if store else AggHourAll
    if is_postgres():
        sunday_first = fn.EXTRACT(SQL("DOW FROM CAST(day AS DATE)"))
    else:
        sunday_first = fn.STRFTIME("%w", table.day)
    weekday = sunday_first.cast("INTEGER")  # 0 = Sunday
    query = (table.select(weekday.alias("w"), table.hour, fn.SUM(table.turnover).alias("t"))
             .where(table.day.between(period.first, period.last))
             .group_by(weekday, table.hour))
    if store:
        query = query.where(AggHourShop.store == store)
    grid = [[0] * 24 for _ in range(7)]
    for sunday_first_day, hour, turnover in query.tuples():
        grid[(int(sunday_first_day) + 6) % 7][hour] += int(turnover)
    return grid


CUTS = ("shop", "terminal", "category", "product", "cashier", "payment", "vat", "heat")


# cut -> (its reader, the key of a row, the figure compared)
COMPARED_CUTS: dict[str, tuple[Any, tuple[str, ...], str]] = {
    "shop": (lambda period, store: by_shop(period), ("store",), "turnover"),
    "terminal": (by_terminal, ("store", "terminal"), "turnover"),
    "category": (by_category, ("category",), "gross"),
    "product": (by_product, ("product",), "gross"),
    "cashier": (by_cashier, ("cashier",), "turnover"),
    "payment": (by_payment, ("kind",), "amount"),
    "vat": (by_vat, ("code", "rate_bp"), "gross"),
}


def _with_comparison(rows: list[dict[str, Any]], previous: list[dict[str, Any]],
                     earlier: list[dict[str, Any]], key: tuple[str, ...], figure: str) -> None:
    """Adds each row's figure in the previous period and a year earlier, and the changes."""
    before = {tuple(r[k] for k in key): r[figure] for r in previous}
    last_year = {tuple(r[k] for k in key): r[figure] for r in earlier}
    for row in rows:
        ident = tuple(row[k] for k in key)
        row["previous"], row["last_year"] = before.get(ident, 0), last_year.get(ident, 0)
        row["vs_previous"] = queries.change_percent(row[figure], row["previous"])
        row["vs_last_year"] = queries.change_percent(row[figure], row["last_year"])


def report(period: Period, store: str | None = None) -> dict[str, Any]:
    """Everything the report page and its Excel file show, in one dict: each cut's rows carry
    their figure in the previous period and a year earlier beside it. Each range's day
    totals are read once, per terminal of every shop: the shop and terminal cuts, the
    overview and the payment cut are sums of those rows; each range's product totals once
    for the product and category cuts (and one look-up of the categories), the names only
    for the range shown."""
    previous, earlier = period.previous(), year_earlier(period)
    ranges = (period, previous, earlier)
    terminals = {p: queries.by_terminal(p) for p in ranges}
    mine = {p: [row for row in terminals[p] if not store or row["store"] == store]
            for p in ranges}
    totals = {p: queries.summed(mine[p])[0] for p in ranges}
    products = {p: by_product(p, store, CATEGORY_PRODUCTS, named=p is period) for p in ranges}
    categories = category_of(sorted({row["product"] for p in ranges for row in products[p]}))
    shared = {
        "shop": lambda p, _store: queries.summed(terminals[p], "store"),
        "terminal": lambda p, _store: [dict(row) for row in mine[p]],
        "category": lambda p, _store: _categories(products[p], categories),
        "product": lambda p, _store: [dict(row) for row in products[p][:PRODUCT_ROWS]],
        "payment": lambda p, _store: _payments(totals[p]),
    }
    out: dict[str, Any] = {"overview": overview(period, store, totals),
                           "heat": heat_map(period, store)}
    for cut, (reader, key, figure) in COMPARED_CUTS.items():
        read = shared.get(cut, reader)
        out[cut] = read(period, store)
        _with_comparison(out[cut], read(previous, store), read(earlier, store), key, figure)
    return out


# -- drill-down: the tickets behind a figure ---------------------------------------------------
TICKET_TYPES = ("sale", "refund", "void")


@dataclass(frozen=True)
class Ticket:
    store: str
    terminal: str
    seq: int
    type: str
    ts: str
    cashier: str
    total: int
    tenders: str


def _matches(body: dict[str, Any], cut: str, value: str,
             categories: dict[str, str] | None = None) -> bool:
    data = body.get("data", {})
    if cut in ("", "shop", "terminal"):
        return True
    if cut == "cashier":
        return (body.get("cashier") or "") == value
    if cut == "payment":
        return any(t.get("kind") == value for t in data.get("tenders", ()))
    if cut == "vat":
        return any(vat_value(v) == value for v in data.get("vat", ()))
    if cut == "product":
        return any(line_key(ln) == value and not ln.get("removed")
                   for ln in data.get("lines", ()))
    if cut == "category" and categories is not None:
        keys = [line_key(ln) for ln in data.get("lines", ()) if not ln.get("removed")]
        missing = [k for k in keys if k not in categories]
        if missing:  # (the range's products are looked up before: seldom any)
            categories.update(category_of(missing))
        return any(categories[k] == value for k in keys)
    if cut == "heat":
        weekday, hour = (int(x) for x in value.split(":"))
        ts = body["ts"]
        return (dt.date.fromisoformat(ts[:10]).weekday() == weekday and int(ts[11:13]) == hour)
    raise ReportError("onbekende uitsplitsing", cut)


# SQLite reads each window through the ts index up to about a dozen OR terms, and past that
# scans the whole index: a query holds at most this many windows
WINDOWS_PER_QUERY = 8


def _holds(text: str) -> Any:
    """The body text holds `text`: a plain substring search (instr, strpos), no pattern."""
    found = fn.strpos(OfficeEntry.body, text) if is_postgres() else fn.instr(OfficeEntry.body,
                                                                             text)
    return found > 0


def _chunks(found: list[drill_scope.Window]) -> list[list[drill_scope.Window]]:
    """Windows in groups of whole days, newest first, so the groups' entries come in the
    order of one query over all of them: 1 day, then 2, 4, 8... (a common figure fills the
    page from the newest day; a rare one reads further with fewer queries), at most
    WINDOWS_PER_QUERY windows a group. A day's windows stay together (drill_scope gives at
    most a few per day): split, a later shop's entries of that day would come after an
    earlier shop's."""
    days: list[list[drill_scope.Window]] = []
    for window in found:
        if days and days[-1][0][1][:10] == window[1][:10]:
            days[-1].append(window)
        else:
            days.append([window])
    out: list[list[drill_scope.Window]] = []
    in_last = 0  # days in the last group
    for day in days:
        if out and in_last < 2 ** (len(out) - 1) and \
                len(out[-1]) + len(day) <= WINDOWS_PER_QUERY:
            out[-1].extend(day)
            in_last += 1
        else:
            out.append(list(day))
            in_last = 1
    return out


def _entries(period: Period, store: str | None, terminal: str | None, cut: str, value: str):
    """The candidate rows (body text), newest first, a group of windows per query."""
    found = drill_scope.windows(period, store, cut, value)
    if found is None:
        found = drill_scope.every_day(period, store)
    needle = drill_scope.needle(cut, value)
    for group in _chunks(found):
        where = None
        for window_store, lo, hi in group:
            term = OfficeEntry.ts.between(lo, hi)
            if window_store:
                term &= OfficeEntry.store == window_store
            where = term if where is None else where | term
        query = (OfficeEntry.select(OfficeEntry.body)
                 .where(OfficeEntry.type.in_(TICKET_TYPES), where)
                 .order_by(OfficeEntry.ts.desc(), OfficeEntry.terminal, OfficeEntry.seq.desc()))
        if store:
            query = query.where(OfficeEntry.store == store)
        if terminal:
            query = query.where(OfficeEntry.terminal == terminal)
        if needle:
            query = query.where(_holds(needle))
        yield from query.tuples().iterator()


_CODES = re.compile(r'"code":"((?:[^"\\]|\\.)*)"')


def _may_hold(text: str, keys: set[str]) -> bool:
    """Whether a stored body can have a line with one of these product keys, read off its
    text without parsing it: one of its codes is one (every line has a `code`, the schema
    requires it), or a line's code is empty or null (its key is then the product id or name,
    left to the full match)."""
    if '"code":null' in text or '"code":""' in text:
        return True
    for code in _CODES.findall(text):
        if "\\" in code:
            code = json.loads(f'"{code}"')
        if code[:64] in keys:
            return True
    return False


def _keys(cut: str, value: str, wanted: set[str] | None) -> tuple[str, list[str]] | None:
    """The search keys (headoffice.receipt_keys) of which every ticket of the cut holds one:
    for a product or category its products' (`product`: a line's code, lower case, or for a
    line without one the key it is reported by), for a VAT rate `vat`; None for another cut,
    or when a key may have been cut short (a code of 64 characters or more): those tickets
    are found by reading their days."""
    if cut == "vat":
        return ("vat", [value]) if len(value) < 200 else None
    if cut not in ("product", "category"):
        return None
    keys = {value} if cut == "product" else wanted or set()
    if any(len(key) >= 64 for key in keys):
        return None
    return "product", sorted({key.lower() for key in keys})


def _candidates(period: Period, store: str | None, terminal: str | None, cut: str,
                value: str, wanted: set[str] | None, keyed: bool):
    """The stored bodies (text) that may match, newest first: through the search keys for a
    product, category or VAT rate, else from the shop days the aggregates name."""
    keys = _keys(cut, value, wanted) if keyed else None
    if keys is None:
        return _entries(period, store, terminal, cut, value)
    if not keys[1]:  # a category none of the range's products is in
        return iter(())
    until = (period.end + dt.timedelta(days=1)).isoformat()
    return entries_newest_first(*keys, period.first, until, store=store, terminal=terminal)


def tickets_behind(period: Period, store: str | None = None, terminal: str | None = None,
                   cut: str = "", value: str = "", limit: int = 500,
                   keyed: bool = True) -> list[Ticket]:
    """The sales, refunds and paid voids behind one figure of a report, newest first: those
    that count in turnover (contract.figures.moves_money), of the range, shop and terminal,
    that match the cut (cashier, payment kind, "code:rate_bp", product key, category,
    "weekday:hour"). A product's, category's or VAT rate's tickets are read through the
    search keys ingest writes (headoffice.receipt_keys); any other cut's (or with `keyed`
    False) only the shop days the aggregates name (headoffice.web.drill_scope). Either way
    each signed body is matched in full."""
    if cut not in ("", *CUTS):
        raise ReportError("onbekende uitsplitsing", cut)
    categories: dict[str, str] = {}  # product key -> category, looked up once per key
    if cut == "category":
        categories.update(category_of([p["product"] for p in
                                       by_product(period, store, limit=1_000_000)]))
    wanted = {k for k, c in categories.items() if c == value} if cut == "category" else None
    out: list[Ticket] = []
    for (text,) in _candidates(period, store, terminal, cut, value, wanted, keyed):
        if wanted is not None and not _may_hold(text, wanted):
            continue
        body = json.loads(text)
        if not figures.moves_money(body) or not _matches(body, cut, value, categories):
            continue
        data = body["data"]
        out.append(Ticket(body["store"], body["terminal"], body["seq"], body["type"], body["ts"],
                          body.get("cashier") or "", figures.turnover_of(body),
                          ", ".join(t["kind"] for t in data.get("tenders", ()))))
        if len(out) >= limit:
            break
    return out
