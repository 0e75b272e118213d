"""Dashboard "today" and "year" pages at 1,000,000 ingested sales (target <= 200 ms each).

Sales of a year across 3 shops and 12 terminals are added through the same aggregation code
the ingest calls (each body read through the contract with headoffice.received.read, then
headoffice.aggregates.collect/apply, 5,000 sales per transaction).
The pages are then served by the real app under uvicorn and timed by its Server-Timing
header (time inside the server). Reference, same run: the login page (no database work).

Run: .venv/bin/python bench/bench_dashboard.py [--sales 1000000] [--db PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_MS = 200.0
STORES = {"amsterdam": 5, "utrecht": 4, "zwolle": 3}


def sale(rng: random.Random, store: str, terminal: str, seq: int, ts: str) -> dict:
    lines, vat = [], {}
    for n in range(rng.randint(1, 5)):
        code = "low" if rng.random() < 0.7 else "high"
        rate = 900 if code == "low" else 2100
        gross = rng.randint(49, 2999)
        product = rng.randint(1, 400)
        lines.append({"line_no": n + 1, "product_id": product, "code": f"{product:013d}",
                      "name": f"Product {product}", "vat_code": code, "rate_bp": rate,
                      "unit_price": gross, "quantity": 1, "weight_g": None,
                      "embedded_price": None, "original_unit_price": None, "discount": 0,
                      "ticket_discount": 0, "removed": False, "stock_tracked": True,
                      "override_by": None, "discount_by": None, "sku": f"0{product:013d}",
                      "amount": gross, "gross": gross, "stock_units": 1})
        row = vat.setdefault(code, {"code": code, "rate_bp": rate, "gross": 0})
        row["gross"] += gross
    for row in vat.values():
        row["vat"] = (row["gross"] * row["rate_bp"] * 2 + 10000 + row["rate_bp"]) // (
            2 * (10000 + row["rate_bp"]))
        row["net"] = row["gross"] - row["vat"]
    total = sum(line["gross"] for line in lines)
    kind = "cash" if rng.random() < 0.5 else "card"
    rounding = 0
    if kind == "cash":
        rounding = {0: 0, 1: -1, 2: -2, 3: 2, 4: 1, 5: 0, 6: -1, 7: -2, 8: 2, 9: 1}[total % 10]
    tender = {"kind": kind, "amount": total + rounding, "given": 0, "change": 0, "reference": ""}
    return {"v": 2, "seq": seq, "type": "sale", "ts": ts, "store": store, "terminal": terminal,
            "cashier": "Sanne", "training": False,
            "data": {"lines": lines, "vat": list(vat.values()), "total": total, "rounding": rounding,
                     "total_paid": total + rounding, "tenders": [tender], "discount_total": 0,
                     "ticket_discount": 0, "customer_id": None, "change": 0}}


def populate(db, sales: int, year: int, seed: int = 1) -> float:
    """Adds `sales` sales spread over the year up to today; returns seconds spent."""
    from headoffice.aggregates import apply, collect
    from headoffice.received import read

    rng = random.Random(seed)
    terminals = [(s, f"{s}-{i}") for s, n in STORES.items() for i in range(1, n + 1)]
    start = dt.datetime(year, 1, 1, 8)
    days = max((dt.date.today() - start.date()).days + 1, 1)
    seqs = dict.fromkeys(terminals, 0)
    began = time.perf_counter()
    batch = []
    for i in range(sales):
        store, terminal = terminals[i % len(terminals)]
        seqs[(store, terminal)] += 1
        when = start + dt.timedelta(days=(i * days) // sales, minutes=rng.randint(0, 12 * 60))
        batch.append(read(sale(rng, store, terminal, seqs[(store, terminal)],
                               when.isoformat(timespec="milliseconds") + "+01:00")))
        if len(batch) == 5000:
            with db.atomic():
                apply(collect(batch))
            batch = []
    with db.atomic():
        apply(collect(batch))
    return time.perf_counter() - began


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(db_url: str) -> tuple[str, object]:
    import uvicorn

    from headoffice.alerts.settings import OfficeSettings
    from headoffice.web.app import create_app
    from headoffice.web.users import add_user

    add_user("bench", "bench-password", replace=True)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(OfficeSettings()), host="127.0.0.1",
                                           port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def timed(opener, url: str, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        with opener.open(url) as response:
            response.read()
            header = response.headers["server-timing"]
        out.append(float(header.split("dur=")[1]))
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sales", type=int, default=1_000_000)
    parser.add_argument("--db", help="database path or URL (default: a temporary SQLite file)")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    from headoffice.db import open_office_db

    url = args.db or str(Path(tempfile.mkdtemp()) / "office.sqlite3")
    db = open_office_db(url)
    year = dt.date.today().year
    seconds = populate(db, args.sales, year)
    print(f"aggregated {args.sales} sales in {seconds:.1f} s ({args.sales / seconds:,.0f}/s)")
    base, server = serve(url)
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    opener.open(base + "/login", urllib.parse.urlencode(
        {"name": "bench", "password": "bench-password"}).encode()).read()
    pages = {"reference /login": "/login", "today /": "/", "today /api/live": "/api/live",
             "year /period?kind=year": "/period?kind=year", "month /period?kind=month":
             "/period?kind=month"}
    ok = True
    for label, path in pages.items():
        timed(opener, base + path, 3)  # warm up
        samples = timed(opener, base + path, args.runs)
        median, worst = statistics.median(samples), max(samples)
        verdict = "" if label.startswith("reference") else (
            "  OK" if median <= TARGET_MS else "  OVER TARGET")
        ok &= median <= TARGET_MS
        print(f"{label:28} median {median:7.2f} ms  max {worst:7.2f} ms{verdict}")
    print(f"target: today and year pages <= {TARGET_MS:.0f} ms server time at {args.sales} sales")
    server.should_exit = True
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
