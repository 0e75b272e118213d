"""Head office's product master: CSV import, a full catalogue publish and a delta of 1,000
price changes, on SQLite (the default head-office database).

References, same run and disk: a bare sqlite3 executemany of the same product rows (what
the import costs without checks, audit and price history), and for publishing the bare
json.dumps of the same product list (what building the message costs without the master's
queries, the contract check and the seal). The publisher is a function that keeps the
payload: the broker's share is the uplink benchmarks'.

Run: .venv/bin/python bench/bench_master_publish.py [--rows 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from contract.gtin import gs1_check_digit  # noqa: E402


def gtin(n: int) -> str:
    body = f"87{n:010d}"
    return body + str(gs1_check_digit(body))


def csv_lines(rows: int) -> list[str]:
    return ["gtin;name;category;vat_code;price;cost\n"] + [
        f"{gtin(n)};Product {n};group {n % 40};{'low' if n % 3 else 'high'};"
        f"{1 + n % 50},{n % 100:02d};0,{n % 90 + 10}\n" for n in range(1, rows + 1)]


def one_run(work: Path, rows: int) -> dict[str, float]:
    from headoffice.catalogue.importcsv import import_csv
    from headoffice.catalogue.models import MasterProduct, PriceEntry
    from headoffice.catalogue.publish import publish_store
    from headoffice.db import database_proxy, open_office_db

    os.environ["KASSA_OFFICE_KEY"] = str(work / "office.pem")
    db = open_office_db(work / "office.sqlite3")
    lines = csv_lines(rows)
    now = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
    start = time.perf_counter()
    report = import_csv(lines, "bench", valid_from=now - dt.timedelta(days=1))
    out = {"import": time.perf_counter() - start}
    assert not report.errors and report.inserted == rows, report.errors[:3]

    sent: list[bytes] = []
    start = time.perf_counter()
    full = publish_store(lambda t, p, r: sent.append(p), "store1", "full", now=now)
    out["full"] = time.perf_counter() - start
    out["full_mb"] = len(sent[-1]) / 1e6
    assert full.products == rows

    ids = [p for (p,) in MasterProduct.select(MasterProduct.id).limit(1000).tuples()]
    with database_proxy.atomic():
        PriceEntry.insert_many([{"store": "*", "product": p, "price_cents": 999,
                                 "valid_from": "2026-12-03T11:00:00+00:00"} for p in ids]).execute()
    start = time.perf_counter()
    delta = publish_store(lambda t, p, r: sent.append(p), "store1", "delta", now=now)
    out["delta"] = time.perf_counter() - start
    assert delta.products == 1000 and delta.mode == "delta"

    body = json.loads(sent[0].split(b"\n", 1)[1])["products"]
    start = time.perf_counter()
    json.dumps({"version": 1, "mode": "full", "products": body}).encode()
    out["ref_json"] = time.perf_counter() - start
    db.close()
    database_proxy.initialize(None)

    bare = sqlite3.connect(work / "bare.sqlite3")
    bare.execute("PRAGMA journal_mode=WAL")
    bare.execute("PRAGMA synchronous=FULL")
    bare.execute("CREATE TABLE product (id INTEGER PRIMARY KEY, gtin TEXT UNIQUE, name TEXT,"
                 " category TEXT, vat_code TEXT, price TEXT, cost TEXT)")
    values = [tuple(line.rstrip("\n").split(";")) for line in lines[1:]]
    start = time.perf_counter()
    with bare:
        bare.executemany("INSERT INTO product (gtin, name, category, vat_code, price, cost)"
                         " VALUES (?,?,?,?,?,?)", values)
    out["ref_insert"] = time.perf_counter() - start
    bare.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            runs.append(one_run(Path(tmp), args.rows))
        print(f"run {i + 1}: " + ", ".join(f"{k} {v:.3f}" for k, v in runs[-1].items()))
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"{args.rows} products, median of {args.runs} runs:")
    print(f"  import {med['import']:.2f} s; reference bare executemany {med['ref_insert']:.3f} s"
          f" (x{med['import'] / med['ref_insert']:.0f})")
    print(f"  full publish {med['full']:.2f} s ({med['full_mb']:.1f} MB); reference bare "
          f"json.dumps {med['ref_json']:.3f} s (x{med['full'] / med['ref_json']:.0f})")
    print(f"  delta of 1,000 price changes {med['delta']:.2f} s "
          f"({med['delta'] / med['full']:.2f} of the full publish)")


if __name__ == "__main__":
    main()
