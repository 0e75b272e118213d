"""The margin's kept months on a COPY of a bench_reports database (it changes the copy): the
fill at the web service's start, the first report over all 3 years and every shop after it,
and what a back-dated cost price costs (its own transaction, then the next such report).

Run with PYTHONPATH set to the code to measure: on a branch without the start's fill
(headoffice/web/margin_fill.py) the months are filled as the reports did, by a report over
the whole range for every shop and for each shop.

    PYTHONPATH=. .venv/bin/python bench/bench_margin_start.py --db /tmp/copy.sqlite3
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from collections.abc import Callable
from typing import Any


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = call()
    return (time.perf_counter() - began) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a COPY of a bench_reports database")
    parser.add_argument("--product", default="8700000000018",
                        help="the code whose cost changes (the best seller)")
    parser.add_argument("--days-back", type=int, nargs="*", default=[60, 365],
                        help="how far back each cost change's valid-from lies")
    args = parser.parse_args()

    from headoffice.aggregate_models import AggDay
    from headoffice.catalogue.products import find, set_cost
    from headoffice.db import open_office_db
    from headoffice.exports.periods import Period
    from headoffice.margin_cache import MarginCacheMonth, MarginCacheRow
    from headoffice.web.margin_queries import margin

    db = open_office_db(args.db)
    first, last = AggDay.select(AggDay.day).order_by(AggDay.day).limit(1).scalar(), \
        AggDay.select(AggDay.day).order_by(AggDay.day.desc()).limit(1).scalar()
    whole = Period(dt.date.fromisoformat(first), dt.date.fromisoformat(last), "3y")
    MarginCacheRow.delete().execute()  # a database whose months were never kept
    MarginCacheMonth.delete().execute()
    try:
        from headoffice.web.margin_fill import fill
    except ImportError:  # before the start's fill: the reports kept the months
        shops = sorted(row[0] for row in AggDay.select(AggDay.store).distinct().tuples())

        def fill() -> None:
            for store in (None, *shops):
                margin(whole, store)
    ms, _ = timed(fill)
    print(f"fill: {ms:.0f} ms", flush=True)
    for label in ("first 3y all after the fill", "again"):
        ms, _ = timed(lambda: margin(whole, None))
        print(f"{label}: {ms:.0f} ms", flush=True)
    product = find(args.product)
    for days in args.days_back:
        moment = dt.datetime.combine(whole.end - dt.timedelta(days=days), dt.time(12),
                                     tzinfo=dt.UTC)
        cost = random.randint(10, 900)  # another than a run before gave it
        ms, _ = timed(lambda m=moment, c=cost: set_cost(product, c, m, "bench"))
        report, _ = timed(lambda: margin(whole, None))
        shop, _ = timed(lambda: margin(whole, "winkel03"))
        print(f"cost change {days} days back: {ms:.0f} ms; then 3y all {report:.0f} ms,"
              f" 3y winkel03 {shop:.0f} ms", flush=True)
    db.close()


if __name__ == "__main__":
    main()
