"""Catalogue: CSV import of 100,000 products (target <= 3 s) and GTIN lookup at 1,000,000
products (target p99 <= 100 microseconds).

References, same run: the bare SQLite executemany of the same rows (what the import costs
without parsing and checking), and a bare sqlite3 `SELECT ... WHERE gtin = ?` on the same
database (what a lookup costs without the Catalogue layer).

Run: .venv/bin/python bench/bench_catalogue.py [--import-rows 100000] [--lookup-rows 1000000]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from firmware.catalogue import Catalogue, import_csv  # noqa: E402
from firmware.db import open_database  # noqa: E402
from firmware.sim import catalogue_csv, make_gtin  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def bench_import(work: Path, rows: int) -> None:
    lines = catalogue_csv(rows, seed=3)
    db = open_database(work / "import.sqlite3")
    start = time.perf_counter()
    report = import_csv(db, lines)
    elapsed = time.perf_counter() - start
    assert not report.errors and report.inserted == rows, report.errors[:3]
    db.close()
    bare = sqlite3.connect(work / "bare.sqlite3")
    bare.execute("PRAGMA journal_mode=WAL")
    bare.execute("PRAGMA synchronous=FULL")
    bare.execute("CREATE TABLE product (id INTEGER PRIMARY KEY, gtin TEXT UNIQUE, plu TEXT UNIQUE,"
                 " name TEXT, price_cents INTEGER, vat_code TEXT, category TEXT)")
    values = [tuple(line.split(",")[:6]) for line in lines[1:]]
    start = time.perf_counter()
    with bare:
        bare.executemany("INSERT INTO product (gtin, plu, name, price_cents, vat_code, category)"
                         " VALUES (?,?,?,?,?,?)", values)
    bare_elapsed = time.perf_counter() - start
    bare.close()
    print(f"CSV import of {rows} products: {elapsed:.2f} s (target <= 3 s); reference bare "
          f"executemany of the same rows: {bare_elapsed:.2f} s")


def bench_lookup(work: Path, rows: int, lookups: int) -> None:
    db = open_database(work / "lookup.sqlite3")
    batch = 100000
    start = time.perf_counter()
    for first in range(1, rows + 1, batch):
        with db.atomic():
            db.cursor().executemany(
                "INSERT INTO product (gtin, plu, name, price_cents, vat_code, category,"
                " stock_tracked, active, sold_by_weight, favourite, name_folded)"
                " VALUES (?, NULL, ?, ?, 'low', 'Bench', 1, 1, 0, 0, ?)",
                [("0" + make_gtin(n), f"Product {n}", 100 + n % 5000, f"product {n}")
                 for n in range(first, min(first + batch, rows + 1))])
    fill = time.perf_counter() - start
    catalogue = Catalogue(db)
    rng = random.Random(5)
    codes = [make_gtin(rng.randint(1, rows)) for _ in range(lookups)]
    for code in codes[:1000]:  # warm the page cache as a running till has it
        catalogue.by_gtin(code)
    timings = {"by_gtin": [], "resolve": [], "bare": []}
    raw = db.connection()
    for code in codes:
        start = time.perf_counter()
        product = catalogue.by_gtin(code)
        timings["by_gtin"].append(time.perf_counter() - start)
        assert product is not None
        start = time.perf_counter()
        catalogue.resolve(code)
        timings["resolve"].append(time.perf_counter() - start)
        key = "0" + code
        start = time.perf_counter()
        raw.execute("SELECT * FROM product WHERE gtin = ?", (key,)).fetchone()
        timings["bare"].append(time.perf_counter() - start)
    db.close()
    print(f"GTIN lookup at {rows} products (filled in {fill:.1f} s), {lookups} lookups:")
    for name, values in timings.items():
        label = {"by_gtin": "Catalogue.by_gtin", "resolve": "Catalogue.resolve",
                 "bare": "reference bare SELECT"}[name]
        print(f"  {label:22} p50 {percentile(values, 0.5) * 1e6:6.1f} us   "
              f"p99 {percentile(values, 0.99) * 1e6:6.1f} us  (target p99 <= 100 us)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--import-rows", type=int, default=100000)
    parser.add_argument("--lookup-rows", type=int, default=1000000)
    parser.add_argument("--lookups", type=int, default=20000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-catalogue-", dir=ROOT / "var"))
    try:
        bench_import(work, args.import_rows)
        bench_lookup(work, args.lookup_rows, args.lookups)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
