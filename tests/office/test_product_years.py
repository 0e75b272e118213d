"""The product totals' year buckets ('y2025', kept by ingest beside the day and month
buckets, or summed once from the months in an older database: headoffice.product_years)
give the product report the same figures as the day rows, over random ranges crossing year
boundaries, for one shop and every shop, on SQLite and PostgreSQL; and the product report
names each product as its latest bucket read does, whatever kind of bucket that is."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import Any

from bench.report_data import Plan, populate

PLAN = Plan(sales=1200, shops=2, first=dt.date(2024, 11, 20), last=dt.date(2026, 1, 12),
            products=30, seed=7)


def from_days(period: Any, store: str | None) -> dict[str, tuple[int, int, str]]:
    """product -> (quantity, gross, name of its latest day row), summed from the day rows."""
    from headoffice.aggregate_models import AggProduct

    sums: dict[str, list[Any]] = defaultdict(lambda: [0, 0, "", ""])
    query = AggProduct.select().where(AggProduct.bucket.between("d" + period.first,
                                                                "d" + period.last))
    if store:
        query = query.where(AggProduct.store == store)
    for row in query.order_by(AggProduct.bucket, AggProduct.store):
        into = sums[row.product]
        into[0] += row.quantity
        into[1] += row.gross
        if row.bucket >= into[3]:
            into[2], into[3] = row.name, row.bucket
    return {p: (q, g, n) for p, (q, g, n, _b) in sums.items()}


def reported(period: Any, store: str | None) -> dict[str, tuple[int, int, str]]:
    from headoffice.web import queries

    return {r["product"]: (r["quantity"], r["gross"], r["name"])
            for r in queries.top_products(period, store, limit=1_000_000)}


def year_rows() -> list[tuple]:
    from headoffice.aggregate_models import AggProduct, AggProductAll

    return [tuple(row) for table in (AggProduct, AggProductAll)
            for row in table.select(*[f for f in table._meta.sorted_fields if f.name != "id"])
            .where(table.bucket.between("y", "z")).order_by(*table._meta.sorted_fields[1:4])
            .tuples()]


def test_year_buckets_give_the_day_rows_figures(office_db_url) -> None:
    from headoffice import product_years
    from headoffice.aggregate_models import AggProduct, AggProductAll
    from headoffice.db import database_proxy
    from headoffice.exports.periods import Period
    from headoffice.web import queries

    db = database_proxy.obj
    populate([db], PLAN, progress=lambda _text: None)
    kept = year_rows()
    assert {row[0] for row in kept if len(row) == 5} == {"y2024", "y2025", "y2026"}
    rng = random.Random(3)
    fixed = [(dt.date(2025, 1, 1), dt.date(2025, 12, 31)),  # exactly one year
             (dt.date(2024, 11, 1), dt.date(2026, 1, 31)),  # months, a year, months
             (dt.date(2024, 12, 31), dt.date(2026, 1, 1)),  # a day, a year, a day
             (dt.date(2024, 12, 15), dt.date(2025, 2, 10))]  # days, a month, days
    spans = fixed + [(start, start + dt.timedelta(days=rng.randint(0, 480)))
                     for start in (PLAN.first + dt.timedelta(days=rng.randint(-40, 400))
                                   for _ in range(30))]
    crossing = 0
    for first, last in spans:
        period = Period(first, last, "range")
        crossing += first.year != last.year
        assert any(b.startswith("y") for b in queries.product_buckets(period)) == \
            any(dt.date(y, 1, 1) >= first and dt.date(y, 12, 31) <= last
                for y in range(first.year, last.year + 1)), (first, last)
        for store in (None, "winkel01"):
            want = from_days(period, store)
            assert reported(period, store) == want, (first, last, store)
    assert crossing > 15
    # an older database gets the same year rows from its months
    for table in (AggProduct, AggProductAll):
        table.delete().where(table.bucket.between("y", "z")).execute()
    product_years.fill_missing(db)
    assert year_rows() == kept
    product_years.fill_missing(db)  # once: a database that has them is left alone
    assert year_rows() == kept


def test_product_named_as_its_latest_bucket_read(office_db_url) -> None:
    """A renamed product: the report shows the name of the latest bucket in the range (a
    bucket keeps the name last received in it), for a day, a month or a year bucket."""
    from headoffice.aggregate_models import AggProduct
    from headoffice.exports.periods import Period
    from headoffice.web import queries

    rows = [("y2024", "Appel oud"), ("m2024-12", "Appel oud"), ("d2024-12-31", "Appel oud"),
            ("y2025", "Appel"), ("m2025-01", "Appel"), ("d2025-01-02", "Appel"),
            ("m2025-02", "Zure appel"), ("d2025-02-03", "Zure appel")]
    for bucket, name in rows:
        AggProduct.create(store="s1", bucket=bucket, product="A1", name=name, quantity=1,
                          gross=100)

    def named(first: dt.date, last: dt.date) -> tuple[str, int]:
        [row] = queries.top_products(Period(first, last, "r"), "s1")
        return row["name"], row["quantity"]

    assert named(dt.date(2024, 1, 1), dt.date(2025, 12, 31)) == ("Appel", 2)  # two years
    assert named(dt.date(2024, 12, 1), dt.date(2025, 1, 31)) == ("Appel", 2)  # two months
    assert named(dt.date(2024, 12, 1), dt.date(2025, 1, 1)) == ("Appel oud", 1)  # month, day
    assert named(dt.date(2024, 12, 31), dt.date(2025, 2, 28)) == ("Zure appel", 3)
    assert named(dt.date(2024, 12, 31), dt.date(2025, 1, 2)) == ("Appel", 2)  # days
