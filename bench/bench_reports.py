"""The owner's reports at 1,000,000 sales over 3 years in 10 shops (target <= 300 ms median
each, on SQLite and on PostgreSQL), beside a bare `SELECT count(*)` over the same sales rows
timed in the same run.

The data (bench/report_data.py: product master with cost history, signed journal entries of
sales, refunds and paid voids, and the aggregates ingest fills) is made once and kept under
var/bench/ (a SQLite file) and in a PostgreSQL database on the local server
(kassa_bench_reports_<key>); later runs reuse both. Each report is called in-process the
way its page calls it (headoffice.web.report_queries, margin_queries, discount_queries,
queries), a 1-year and the 3-year range, all shops and one shop, N times after one warm-up;
then the receipt search by each of its fields and one receipt's page (receipt_search,
receipt_view) and the cash page over a month, a year and 3 years, its first and its last
page (cash_queries.cash_page).

Run: nice .venv/bin/python bench/bench_reports.py [--sales 1000000] [--runs 5]
     [--only sqlite|postgresql] [--filter TEXT]... [--pg postgresql://postgres@127.0.0.1/postgres]
     (generating: run --only sqlite and --only postgresql at once, with --filter none, to
     use two cores)
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report_data import Plan, ean13, populate  # noqa: E402

TARGET_MS = 300.0
GENERATOR_VERSION = 2  # bump when bench/report_data.py makes other rows
CACHE = Path(__file__).resolve().parent.parent / "var" / "bench"


def plan_key(plan: Plan) -> str:
    text = json.dumps({**asdict(plan), "v": GENERATOR_VERSION}, default=str, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _admin(admin_url: str, sql: str) -> list[tuple]:
    import psycopg2

    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    try:
        cursor = conn.cursor()
        cursor.execute(sql)
        return cursor.fetchall() if cursor.description else []
    finally:
        conn.close()


def prepare(plan: Plan, admin_url: str, engines: list[str]) -> dict[str, str]:
    """The database URL of each engine, made and filled once for this plan."""
    import peewee

    from headoffice.db import open_office_db

    key = plan_key(plan)
    CACHE.mkdir(parents=True, exist_ok=True)
    urls = {"sqlite": f"sqlite:///{CACHE / f'reports-{key}.sqlite3'}",
            "postgresql": admin_url.rsplit("/", 1)[0] + f"/kassa_bench_reports_{key}"}
    done = {e: (CACHE / f"reports-{key}.{e}.done").exists() for e in engines}
    missing = [e for e in engines if not done[e]]
    if not missing:
        return {e: urls[e] for e in engines}
    dbs: list[peewee.Database] = []
    for engine in missing:
        if engine == "sqlite":
            Path(urls[engine].removeprefix("sqlite:///")).unlink(missing_ok=True)
            for suffix in ("-wal", "-shm"):
                Path(urls[engine].removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        else:
            name = urls[engine].rsplit("/", 1)[1]
            _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            _admin(admin_url, f'CREATE DATABASE "{name}"')
        db = open_office_db(urls[engine])
        if engine == "sqlite":  # a bench file, made once: no fsync per month
            db.execute_sql("PRAGMA synchronous = OFF")
        dbs.append(db)
    print(f"generating {plan.sales:,} sales over {plan.first}..{plan.last} in {plan.shops}"
          f" shops into {', '.join(missing)} (once; cached under {CACHE})", flush=True)
    began = time.perf_counter()
    spent = populate(dbs, plan, progress=lambda text: print(text, flush=True))
    for engine, db in zip(missing, dbs, strict=True):
        if engine == "postgresql":  # what autovacuum does after a load: statistics and the
            db.execute_sql("VACUUM ANALYZE")  # visibility map (index-only count(*))
        else:
            db.execute_sql("ANALYZE")
            db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        (CACHE / f"reports-{key}.{engine}.done").write_text(
            json.dumps({"seconds": round(time.perf_counter() - began, 1), **spent}))
    print(f"generated in {time.perf_counter() - began:.0f} s"
          f" ({', '.join(f'{k} {v:.0f} s' for k, v in spent.items())})", flush=True)
    return {e: urls[e] for e in engines}


def cases(plan: Plan) -> list[tuple[str, Callable[[], Any]]]:
    """(label, call) for every report kind, range and scope."""
    from headoffice.exports.periods import Period
    from headoffice.web import discount_queries, margin_queries, queries
    from headoffice.web import report_queries as reports

    year = Period(plan.last - dt.timedelta(days=364), plan.last, "1y")
    whole = Period(plan.first, plan.last, "3y")
    shop = "winkel03"
    out: list[tuple[str, Callable[[], Any]]] = []
    for period in (year, whole):
        previous, earlier = period.previous(), reports.year_earlier(period)
        for store, scope in ((None, "all"), (shop, "shop")):
            tag = f"{period.label} {scope}"

            def compared(reader: Callable[..., Any], p: Period = period, s: str | None = store,
                         pr: Period = previous, ea: Period = earlier) -> Any:
                return reader(p, s), reader(pr, s), reader(ea, s)
            out.append((f"sales page (all cuts) {tag}",
                        lambda p=period, s=store: reports.report(p, s)))
            out.append((f"overview {tag}", lambda p=period, s=store: reports.overview(p, s)))
            for cut, (reader, _key, _figure) in reports.COMPARED_CUTS.items():
                if cut == "shop" and store:
                    continue
                out.append((f"{cut} (3 ranges) {tag}",
                            lambda r=reader, c=compared: c(r)))
            out.append((f"heat hour x weekday {tag}",
                        lambda p=period, s=store: reports.heat_map(p, s)))
            out.append((f"margin {tag}", lambda p=period, s=store: margin_queries.margin(p, s)))
            out.append((f"discounts {tag}",
                        lambda p=period, s=store: discount_queries.discounts(p, s)))
            out.append((f"dashboard series {tag}",
                        lambda p=period, s=store: queries.series(p, s)))
        drills = [("", ""), ("cashier", "Emma"), ("payment", "voucher"), ("vat", "zero:0"),
                  ("product", ean13(1998)), ("category", "Bloemen"), ("heat", "6:20")]
        for cut, value in drills:
            out.append((f"drill-down {cut or 'all'} {period.label} all",
                        lambda p=period, c=cut, v=value: reports.tickets_behind(p, None, None,
                                                                                c, v)))
        out.append((f"drill-down terminal {period.label} shop",
                    lambda p=period: reports.tickets_behind(p, shop, f"{shop}-kassa1")))
    day = plan.last
    out.append(("dashboard live (today)", lambda: queries.live(day)))
    return out + receipt_cases(plan) + cash_cases(plan)


def receipt_cases(plan: Plan) -> list[tuple[str, Callable[[], Any]]]:
    """The receipt search the way its page calls it (parse_search, find) for each field, and
    one receipt's page (rendered, signature and chain checked, refunds and copies)."""
    from headoffice.receipt_keys import ReceiptKey
    from headoffice.web import receipt_search as search
    from headoffice.web import receipt_view as view

    shop, terminal = "winkel03", "winkel03-kassa1"
    refunded = (ReceiptKey.select(ReceiptKey.value)
                .where(ReceiptKey.kind == "against", ReceiptKey.terminal == terminal)
                .order_by(ReceiptKey.ts.desc()).limit(1).scalar())  # "<terminal>/<seq>"
    seq = int(refunded.rsplit("/", 1)[1])
    busy = (plan.last - dt.timedelta(days=(plan.last.weekday() - 5) % 7)).isoformat()
    forms = [
        ("number", {"nummer": f"{shop}/{terminal}/{seq}"}),
        ("number alone", {"nummer": str(seq)}),
        ("QR data", {"nummer": f"KASSA1|{shop}|{terminal}|{seq}|{'0' * 16}"}),
        ("amount", {"bedrag": "12,34"}),
        ("amount one shop", {"bedrag": "7,50", "store": shop}),
        ("amount + day", {"bedrag": "3,98", "van": busy, "tot": busy}),
        ("time: an hour", {"van": f"{busy}T12:00", "tot": f"{busy}T12:59"}),
        ("time: a week one shop", {"van": (plan.last - dt.timedelta(days=6)).isoformat(),
                                   "tot": plan.last.isoformat(), "store": shop}),
        ("card reference", {"kaartref": "REF4321"}),
        ("product code (best seller)", {"product": ean13(1)}),
        ("product code (rare)", {"product": ean13(1998)}),
        ("product code + amount", {"product": ean13(3), "bedrag": "5,00"}),
        ("product name", {"product": "Bloemen 1980"}),
        ("customer card", {"klant": "klant-01234"}),
        ("customer card + week", {"klant": "klant-00042",
                                  "van": (plan.last - dt.timedelta(days=6)).isoformat()}),
    ]
    out: list[tuple[str, Callable[[], Any]]] = []
    for label, form in forms:
        out.append((f"receipt search {label}",
                    lambda f=form: search.find(search.parse_search(f), None, f.get("store"))))
    company = {"name": "Kassa Bench", "address": "Dorpsstraat 1", "vat_number": "NL0B01"}
    out.append((f"receipt page (refunded sale {seq})",
                lambda: view.receipt(terminal, seq, company)))
    return out


def cash_cases(plan: Plan) -> list[tuple[str, Callable[[], Any]]]:
    """The cash page as its view calls it (cash_queries.cash_page: the per-cashier and
    per-day variance and the totals grouped, and one page of 100 Zs and of 100 movements,
    newest first): the first page, and the last page of both lists (the longest offset)."""
    from headoffice.exports.periods import Period
    from headoffice.web import cash_queries as cash

    month = Period(plan.last.replace(day=1), plan.last, "month")
    year = Period(plan.last - dt.timedelta(days=364), plan.last, "1y")
    whole = Period(plan.first, plan.last, "3y")
    out: list[tuple[str, Callable[[], Any]]] = []
    for period in (month, year, whole):
        for store, scope in ((None, "all"), ("winkel03", "shop")):
            out.append((f"cash page {period.label} {scope}",
                        lambda p=period, s=store: cash.cash_page(p, None, s, 1, 1)))
            out.append((f"cash page {period.label} {scope} last page",
                        lambda p=period, s=store: cash.cash_page(p, None, s, 10**6, 10**6)))
    return out


def count_sales() -> int:
    from headoffice.db import database_proxy

    cursor = database_proxy.obj.execute_sql(
        "SELECT count(*) FROM journal_entry WHERE type = 'sale'")
    return cursor.fetchone()[0]


SLOW_MS = 2000.0  # a report over this on its warm-up is timed 3 times, not N (the run's length)


def timed(call: Callable[[], Any], runs: int) -> list[float]:
    began = time.perf_counter()
    call()  # warm-up: caches, prepared plans
    if (time.perf_counter() - began) * 1000 > SLOW_MS:
        runs = min(runs, 3)
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def run(engine: str, url: str, plan: Plan, runs: int, only: list[str]) -> list[dict[str, Any]]:
    from headoffice.db import open_office_db

    db = open_office_db(url)
    rows = []
    found = count_sales()
    if found != plan.sales:
        raise SystemExit(f"{engine}: {found} sales stored, {plan.sales} planned: delete the cache")
    reference = timed(count_sales, runs)
    print(f"\n{engine}: SELECT count(*) over {found:,} sales rows: median"
          f" {statistics.median(reference):.1f} ms  (load {os.getloadavg()[0]:.2f})", flush=True)
    print(f"{'report':48} {'median':>9} {'p95':>9} {'x count':>8} {'n':>3}")
    for label, call in cases(plan):
        if only and not any(text in label for text in only):
            continue
        samples = timed(call, runs)
        reference = timed(count_sales, 3)  # the reference beside each report, same moment
        median, ref = statistics.median(samples), statistics.median(reference)
        verdict = "ok" if median <= TARGET_MS else "OVER"
        rows.append({"engine": engine, "report": label, "median": median, "p95": p95(samples),
                     "count": ref, "runs": len(samples), "load": os.getloadavg()[0]})
        print(f"{label:48} {median:8.1f}  {p95(samples):8.1f}  {median / ref:7.2f}"
              f" {len(samples):3}  {verdict}", flush=True)
    db.close()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sales", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--filter", action="append", default=[],
                        help="only the reports whose label has this (may be repeated)")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="maintenance database of the local PostgreSQL server")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    plan = Plan(sales=args.sales)
    engines = [args.only] if args.only else ["sqlite", "postgresql"]
    urls = prepare(plan, args.pg, engines)
    rows = []
    for engine in engines:
        rows += run(engine, urls[engine], plan, args.runs, args.filter)
    over = [r for r in rows if r["median"] > TARGET_MS]
    print(f"\n{len(rows) - len(over)} of {len(rows)} reports within {TARGET_MS:.0f} ms median"
          f" (load average now {os.getloadavg()[0]:.2f})")
    for row in over:
        print(f"  OVER: {row['engine']} {row['report']} {row['median']:.0f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0 if not over else 1


if __name__ == "__main__":
    sys.exit(main())
