"""Gross margin per product, category and shop: what the sold goods brought in excluding VAT,
minus their cost price in the product master (headoffice/catalogue) valid on the day of sale.

Read from the per-day product totals (AggProduct 'd' buckets, contract.figures' signs:
refunds and paid voids count negative), never from the journal. The cost taken is the one
valid at the end of the sales day (a cost change during a day counts for that whole day,
the granularity of the aggregate); a product the master does not know, or without a cost
price that day, is listed apart with what it sold and left out of the margin. Whole months
in which a product's cost and rate stay the same are read from their month sums of those
day rows (AggMargin, headoffice/margin_months.py), which give the same figures.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from peewee import fn

from contract.config import NL_RATES
from contract.money import div_round_half_up
from headoffice import margin_cache, margin_months
from headoffice.aggregate_models import (
    AggDay,
    AggMargin,
    AggMarginAll,
    AggProduct,
    AggProductAll,
)
from headoffice.catalogue.cost_book import CostBook
from headoffice.catalogue.products import ProductFacts, find_many
from headoffice.exports.periods import Period
from headoffice.orm import database_proxy, is_postgres

NO_CATEGORY = "(geen categorie)"


@dataclass
class MarginRow:
    """Sold (incl. and excl. VAT), cost and margin of one product, category or shop; cents.
    `uncosted` counts the pieces sold without a known cost (in neither net nor cost)."""

    key: str
    name: str = ""
    quantity: int = 0
    gross: int = 0
    net: int = 0
    cost: int = 0
    uncosted: int = 0
    uncosted_gross: int = 0

    @property
    def margin(self) -> int:
        return self.net - self.cost

    @property
    def margin_permille(self) -> int | None:
        """Margin as a share of net sales, in tenths of a percent (None without net sales)."""
        return div_round_half_up(self.margin * 1000, self.net) if self.net else None

    def add(self, other: MarginRow) -> None:
        for name in ("quantity", "gross", "net", "cost", "uncosted", "uncosted_gross"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class MarginReport:
    total: MarginRow
    products: list[MarginRow]
    categories: list[MarginRow]
    shops: list[MarginRow]
    uncosted: list[MarginRow] = field(default_factory=list)  # products sold without a cost


def _master(codes: list[str]) -> dict[str, ProductFacts | None]:
    return find_many(codes)


# a product's or category's or shop's sums while adding up: MarginRow's fields in this order
SUMS = ("quantity", "gross", "net", "cost", "uncosted", "uncosted_gross")


def _rate_changes(vat_code: str) -> list[tuple[str, int]]:
    """(first day, rate) of a VAT code's rates, oldest first (rate 0 before the first)."""
    rates = sorted((r.valid_from, r.bp) for r in NL_RATES if r.code == vat_code)
    return [(day.isoformat(), bp) for day, bp in rates]


END_OF_TIME = "9999-12-31~"  # after every day


def intervals(product: ProductFacts | None, book: CostBook) -> list[tuple[str, str, int | None,
                                                                           int]]:
    """(first day, day after the last, cost or None, VAT rate) over which a product's cost
    and rate stay the same; a product the master does not know has one, without a cost."""
    if product is None:
        return [("", END_OF_TIME, None, 0)]
    days, costs = book.history.get(product.id, ([], []))
    changes: dict[str, list[Any]] = {"": [None, 0]}  # day -> [cost, rate] from that day on
    for day, cost in zip(days, costs, strict=True):
        changes.setdefault(day, [None, None])[0] = cost  # the last price of a day wins
    for day, rate in _rate_changes(product.vat_code):
        changes.setdefault(day, [None, None])[1] = rate
    out: list[tuple[str, str, int | None, int]] = []
    cost, rate = None, 0
    ordered = sorted(changes)
    for index, day in enumerate(ordered):
        new_cost, new_rate = changes[day]
        if day and new_cost is not None:
            cost = new_cost
        if new_rate is not None:
            rate = new_rate
        after = ordered[index + 1] if index + 1 < len(ordered) else END_OF_TIME
        out.append((day, after, cost, rate))
    return out


# the net of one day row at its span's rate, rounded half up away from zero per row
# (div_round_half_up(gross * 10000, 10000 + rate), in integer SQL on both engines)
NET_SQL = f"CASE WHEN i.cost IS NULL THEN 0 ELSE {margin_months.net_sql('a.gross', 'i.rate')} END"
# a month row's sum of those day nets at its span's rate (a month span has one of these rates)
MONTH_NET_SQL = ("CASE WHEN i.cost IS NULL THEN 0"
                 + "".join(f" WHEN i.rate = {rate} THEN m.{column}"
                           for rate, column in margin_months.NET_COLUMNS.items())
                 + " ELSE m.gross END")
MONTH_RATES = frozenset({0, *margin_months.RATES_BP})


def _codes(period: Period, store: str | None) -> dict[str, str]:
    """The product keys sold in the range's months (a few thousand month rows), each with a
    name as received (the label of a product the master does not know)."""
    table = AggProduct if store else AggProductAll
    query = (table.select(table.product, fn.MIN(table.name))
             .where(table.bucket.between("m" + period.first[:7], "m" + period.last[:7]))
             .group_by(table.product))
    if store:
        query = query.where(AggProduct.store == store)
    return dict(query.tuples())


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def spans(period: Period, master: dict[str, ProductFacts | None], book: CostBook
          ) -> tuple[list[tuple], list[tuple]]:
    """Each product's intervals of one cost and rate, cut to the range: the whole months in
    them as month spans (code, first month, month after, cost, rate), for the month rows;
    the days before and after those, and any interval at a rate the month rows do not keep,
    as day spans (code, 'd' first day, 'd' day after, cost, rate, sign 1), for the day rows.
    A month split in two by one change (_folded) reads only its shorter side's days."""
    first, after = period.start, period.end + dt.timedelta(days=1)
    months: list[tuple] = []
    days: list[tuple] = []
    for code, product in master.items():
        pieces: list[tuple[dt.date, dt.date, int | None, int]] = []  # day pieces, in order
        for lo, hi, cost, rate in intervals(product, book):
            start = max(dt.date.fromisoformat(lo), first) if lo else first
            end = min(dt.date.fromisoformat(hi), after) if hi != END_OF_TIME else after
            if start >= end:
                continue
            whole = start if start.day == 1 else _next_month(start)  # first whole month
            stop = end.replace(day=1)  # the month after the last whole one
            if rate not in MONTH_RATES or whole >= stop:
                pieces.append((start, end, cost, rate))
                continue
            months.append((code, whole.isoformat()[:7], stop.isoformat()[:7], cost, rate))
            if start < whole:
                pieces.append((start, whole, cost, rate))
            if stop < end:
                pieces.append((stop, end, cost, rate))
        _folded(code, pieces, months, days)
    return months, days


def _splits_a_month(a: tuple, b: tuple) -> bool:
    """Whether two day pieces are the two sides of one change inside a whole month, both
    at rates the month rows keep."""
    return (a[0].day == 1 and a[1] == b[0] and b[1] == _next_month(a[0])
            and a[3] in MONTH_RATES and b[3] in MONTH_RATES)


def _folded(code: str, pieces: list[tuple], months: list[tuple], days: list[tuple]) -> None:
    """Adds a product's day pieces as day spans; where two split a whole month, the month
    row at the longer side's cost and rate, plus the shorter side's days at its own, minus
    them at the longer side's (sign -1): sums of per-day figures, so exact, and half the
    days read on average."""
    index = 0
    while index < len(pieces):
        a = pieces[index]
        b = pieces[index + 1] if index + 1 < len(pieces) else None
        if b is None or not _splits_a_month(a, b):
            days.append((code, "d" + a[0].isoformat(), "d" + a[1].isoformat(), a[2], a[3], 1))
            index += 1
            continue
        short, long = (a, b) if a[1] - a[0] <= b[1] - b[0] else (b, a)
        months.append((code, a[0].isoformat()[:7], b[1].isoformat()[:7], long[2], long[3]))
        lo, hi = "d" + short[0].isoformat(), "d" + short[1].isoformat()
        days.append((code, lo, hi, short[2], short[3], 1))
        days.append((code, lo, hi, long[2], long[3], -1))
        index += 2


def _fill(name: str, rows: list[tuple], signed: bool = False) -> None:
    """A temporary table of spans (code, lo, hi, cost, rate[, sign])."""
    db = database_proxy.obj
    mark = "%s" if is_postgres() else "?"
    sign = ", sign INTEGER" if signed else ""
    db.execute_sql(f"CREATE TEMPORARY TABLE {name} (code VARCHAR(64), lo VARCHAR(11),"
                   f" hi VARCHAR(11), cost BIGINT, rate INTEGER{sign})")
    for start in range(0, len(rows), 400):
        page = rows[start:start + 400]
        db.execute_sql(f"INSERT INTO {name} VALUES " + ", ".join(
            "(" + ", ".join(mark for _ in row) + ")" for row in page),
            [v for row in page for v in row])
    if is_postgres():
        db.execute_sql(f"ANALYZE {name}")  # its size, for the join's plan


def _shops(period: Period) -> list[str]:
    """The shops with sales figures in the range (from the day totals: a row per terminal
    and day); every product row's shop is among them."""
    return [row[0] for row in AggDay.select(AggDay.store).distinct()
            .where(AggDay.day.between(period.first, period.last)).tuples()]


def _summed(period: Period, store: str | None, master: dict[str, ProductFacts | None],
            book: CostBook, by_month: bool = False) -> tuple[list[tuple], list[tuple]]:
    """Per product and whether costed, and per shop and whether costed: pieces, gross, net
    and cost, summed by the database over the month rows of the whole months in which a
    product's cost and rate stay the same, and over the day rows of the other days
    (temporary tables of spans drive the joins through the month rows' (product, month)
    and (store, product, month) keys and the day rows' (product, store, bucket) index). Every
    shop: the products from the chain-wide month rows, the shops from the shops' ones.
    `by_month`: each row also per month, that month ('YYYY-MM') its last column."""
    db = database_proxy.obj
    mark = "%s" if is_postgres() else "?"
    months, days = spans(period, master, book)
    day_month = ", SUBSTR(a.bucket, 2, 7)" if by_month else ""
    month = ", m.month" if by_month else ""
    shops = [store] if store else _shops(period)
    shop = f" AND {{t}}.store IN ({', '.join(mark for _ in shops)})" if shops else ""
    bounds = (f" AND m.month >= '{period.start.isoformat()[:7]}'"  # dates: no quoting issue
              f" AND m.month <= '{period.end.isoformat()[:7]}'")
    joined = ("FROM margin_month_span i CROSS JOIN {table} m"
              " WHERE m.product = i.code AND m.month >= i.lo AND m.month < i.hi" + bounds)
    month_sums = (f"i.cost IS NULL, SUM(m.quantity), SUM(m.gross), SUM({MONTH_NET_SQL}),"
                  f" SUM(COALESCE(i.cost, 0) * m.quantity)")
    with db.atomic():
        if is_postgres():  # compiling these short queries took longer than running them
            db.execute_sql("SET LOCAL jit = off")
            # guessing many day spans, it hashed every product day row: 1.5 s, not 0.1-0.3
            db.execute_sql("SET LOCAL enable_hashjoin = off")
        _fill("margin_month_span", months)
        _fill("margin_day_span", days, signed=True)
        try:
            daily = db.execute_sql(
                f"SELECT a.store, a.product, i.cost IS NULL, SUM(i.sign * a.quantity),"
                f" SUM(i.sign * a.gross), SUM(i.sign * ({NET_SQL})),"
                f" SUM(i.sign * COALESCE(i.cost, 0) * a.quantity){day_month}"
                f" FROM margin_day_span i CROSS JOIN {AggProduct._meta.table_name} a"
                f" WHERE a.product = i.code AND a.bucket >= i.lo AND a.bucket < i.hi"
                f"{shop.format(t='a')} GROUP BY a.store, a.product, i.cost IS NULL{day_month}",
                shops).fetchall()
            if store:
                monthly = db.execute_sql(
                    f"SELECT m.product, {month_sums}{month} "
                    + joined.format(table=AggMargin._meta.table_name) + shop.format(t="m")
                    + f" GROUP BY m.product, i.cost IS NULL{month}", shops).fetchall()
                by_shop = [(store, *row[1:]) for row in monthly]
            else:
                monthly = db.execute_sql(
                    f"SELECT m.product, {month_sums}{month} "
                    + joined.format(table=AggMarginAll._meta.table_name)
                    + f" GROUP BY m.product, i.cost IS NULL{month}").fetchall()
                # SQLite: a shop at a time through the (store, product, month) key, which
                # it would not use for a list of shops; PostgreSQL: all at once (hash join)
                groups = [shops] if is_postgres() else [[one] for one in shops]
                if is_postgres():  # every shop's month rows of a year: hashed is faster
                    db.execute_sql("SET LOCAL enable_hashjoin = on")
                by_shop = []
                for group in groups:
                    by_shop += db.execute_sql(
                        f"SELECT m.store, {month_sums}{month} "
                        + joined.format(table=AggMargin._meta.table_name)
                        + shop.format(t="m").replace(", ".join(mark for _ in shops),
                                                     ", ".join(mark for _ in group))
                        + f" GROUP BY m.store, i.cost IS NULL{month}", group).fetchall()
        finally:
            db.execute_sql("DROP TABLE margin_month_span")
            db.execute_sql("DROP TABLE margin_day_span")
    by_product = monthly + [row[1:] for row in daily]
    return by_product, by_shop + [(row[0], *row[2:]) for row in daily]


def _month_parts(period: Period) -> tuple[list[str], list[Period]]:
    """The range's whole months ('YYYY-MM') and the days before and after them."""
    start, after = period.start, period.end + dt.timedelta(days=1)
    whole = start if start.day == 1 else _next_month(start)
    stop = after.replace(day=1)
    if whole >= stop:
        return [], [period]
    months: list[str] = []
    month = whole
    while month < stop:
        months.append(month.isoformat()[:7])
        month = _next_month(month)
    edges = [Period(a, b - dt.timedelta(days=1), "days")
             for a, b in ((start, whole), (stop, after)) if a < b]
    return months, edges


def _as_kept(by_product: list[tuple], by_shop: list[tuple]
             ) -> dict[str, list[margin_cache.Summed]]:
    """_summed's rows by month (its last column) as one row per product or shop and costed
    or not."""
    sums: dict[tuple[str, str, str, bool], list[int]] = {}
    for kind, rows in ((margin_cache.PRODUCT, by_product), (margin_cache.SHOP, by_shop)):
        for key, uncosted, *values, month in rows:
            found = sums.setdefault((month, kind, key, bool(uncosted)), [0, 0, 0, 0])
            for index, value in enumerate(values):
                found[index] += int(value or 0)
    out: dict[str, list[margin_cache.Summed]] = defaultdict(list)
    for (month, kind, key, uncosted), values in sums.items():
        out[month].append((kind, key, uncosted, *values))  # type: ignore[arg-type]
    return out


def _runs(months: list[str]) -> list[Period]:
    """Consecutive months ('YYYY-MM', in order) as ranges of whole months."""
    out: list[Period] = []
    for month in months:
        first = dt.date.fromisoformat(month + "-01")
        last = _next_month(first) - dt.timedelta(days=1)
        if out and out[-1].end + dt.timedelta(days=1) == first:
            out[-1] = Period(out[-1].start, last, "months")
        else:
            out.append(Period(first, last, "months"))
    return out


def _months_computer(store: str | None, master: dict[str, ProductFacts | None]
                     ) -> tuple[Callable[[list[str]], dict[str, list[margin_cache.Summed]]],
                                Callable[[], CostBook]]:
    """(compute, book): `compute(months)` sums whole months by _summed (in one go for each
    run of them), `book()` the cost prices, loaded once and only when asked for (a tenth
    of a second)."""
    costs: list[CostBook] = []

    def book() -> CostBook:
        if not costs:
            costs.append(CostBook(sorted({p.id for p in master.values() if p is not None})))
        return costs[0]

    def compute(stale: list[str]) -> dict[str, list[margin_cache.Summed]]:
        out: dict[str, list[margin_cache.Summed]] = {}
        for run in _runs(stale):
            out.update(_as_kept(*_summed(run, store, master, book(), by_month=True)))
        return out

    return compute, book


def _summed_kept(period: Period, store: str | None, master: dict[str, ProductFacts | None]
                 ) -> tuple[list[tuple], list[tuple]]:
    """_summed's figures, the whole months' from the kept ones (headoffice/margin_cache.py;
    those not current computed by _summed per month, in one go for each run of them, and
    kept), the edge days' from _summed. The cost prices are loaded only when something is
    computed."""
    months, edges = _month_parts(period)
    compute, book = _months_computer(store, master)
    rows = margin_cache.months_of(store or margin_cache.CHAIN, months, compute)
    by_product = [row[1:] for row in rows if row[0] == margin_cache.PRODUCT]
    by_shop = [row[1:] for row in rows if row[0] == margin_cache.SHOP]
    for edge in edges:
        found, shops = _summed(edge, store, master, book())
        by_product += found
        by_shop += shops
    return by_product, by_shop


def months_from_to(first: str, last: str) -> list[str]:
    """Every month ('YYYY-MM') from `first` to `last`, both included."""
    return _month_parts(_whole_months(first, last))[0]


def _whole_months(first: str, last: str) -> Period:
    return Period(dt.date.fromisoformat(first + "-01"),
                  _next_month(dt.date.fromisoformat(last + "-01")) - dt.timedelta(days=1),
                  "months")


def keep_months(months: list[str], store: str | None) -> None:
    """Computes and keeps those of these consecutive whole months ('YYYY-MM', in order) that
    are not kept at their current version (the fill at start, headoffice/web/margin_fill.py),
    as a report over them would."""
    period = _whole_months(months[0], months[-1])
    compute, _book = _months_computer(store, _master(sorted(_codes(period, store))))
    margin_cache.months_of(store or margin_cache.CHAIN, months, compute)


def _adds(uncosted: Any, quantity: Any, gross: Any, net: Any, cost: Any
          ) -> tuple[int, ...]:
    """A summed row's share of MarginRow's SUMS."""
    q, g = int(quantity), int(gross)
    return (q, g, 0, 0, q, g) if uncosted else (q, g, int(net), int(cost), 0, 0)


def _add(table: dict[str, list[Any]], key: str, label: str, adds: tuple[int, ...]) -> None:
    sums = table.get(key)
    if sums is None:
        sums = table[key] = [label, 0, 0, 0, 0, 0, 0]
    for index, value in enumerate(adds, 1):
        sums[index] += value


def margin(period: Period, store: str | None = None) -> MarginReport:
    """Each day row takes its product's cost on that day and its VAT rate on that day (net
    rounded per row, as the per-day aggregate allows); the database sums them per product
    and per shop over the spans in which both stay the same, from month rows where a span
    holds whole months (headoffice/margin_months.py)."""
    names = _codes(period, store)
    master = _master(sorted(names))
    tables: tuple[dict[str, list[Any]], ...] = ({}, {}, {})  # products, categories, shops
    total = [0] * len(SUMS)
    by_product, by_shop = _summed_kept(period, store, master)
    for code, *sums in by_product:
        product = master[code]
        adds = _adds(*sums)
        category = (product.category if product is not None else "") or NO_CATEGORY
        _add(tables[0], code, product.name if product else names[code], adds)
        _add(tables[1], category, category, adds)
        for index, value in enumerate(adds):
            total[index] += value
    for shop, *sums in by_shop:
        _add(tables[2], shop, shop, _adds(*sums))

    def ordered(table: dict[str, list[Any]]) -> list[MarginRow]:
        found = [MarginRow(key, sums[0], *sums[1:]) for key, sums in table.items()]
        return sorted(found, key=lambda r: (-r.margin, r.key))

    products = ordered(tables[0])
    return MarginReport(MarginRow("", "", *total), products, ordered(tables[1]),
                        ordered(tables[2]), [r for r in products if r.uncosted])


def percent_text(permille: int | None) -> str:
    """`12,5%` (Dutch decimal comma); `-` without net sales."""
    if permille is None:
        return "-"
    return f"{'-' if permille < 0 else ''}{abs(permille) // 10},{abs(permille) % 10}%"


def as_dict(row: MarginRow) -> dict[str, Any]:
    return {"key": row.key, "name": row.name, "quantity": row.quantity, "gross": row.gross,
            "net": row.net, "cost": row.cost, "margin": row.margin,
            "margin_percent": percent_text(row.margin_permille), "uncosted": row.uncosted,
            "uncosted_gross": row.uncosted_gross}
