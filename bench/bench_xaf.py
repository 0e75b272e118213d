"""XAF 4.0 export of a year of one shop (target <= 10 s), validated against the XSD.

Fills a database with a year of sales for the shops of bench_dashboard (unless --db names
one already filled): every sale as head office stores it (journal row and aggregates) and a
Z close at the end of each terminal's trading day, since the auditfile books only the days a
Z closed. Then times build_xaf for the biggest shop. Reference, same run: the VAT report of
the same shop and year (one aggregate query).

Run: .venv/bin/python bench/bench_xaf.py [--sales 300000] [--db PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_dashboard import STORES, sale  # noqa: E402

TARGET_S = 10.0


def populate_closed_year(db, sales: int, year: int, seed: int = 1) -> None:
    """`sales` sales spread over the year up to today, stored as ingest stores them, with a Z
    close (figures from contract.figures, cash counted as expected) after each trading day."""
    import json
    import random

    from contract import chain, figures
    from headoffice.aggregates import apply, collect
    from headoffice.models import OfficeEntry, TerminalState
    from headoffice.received import read

    rng = random.Random(seed)
    terminals = [(s, f"{s}-{i}") for s, n in STORES.items() for i in range(1, n + 1)]
    start = dt.datetime(year, 1, 1, 8)
    days = max((dt.date.today() - start.date()).days + 1, 1)
    seqs = dict.fromkeys(terminals, 0)
    counters: dict[tuple[str, str], dict[str, int]] = {t: {} for t in terminals}
    open_day: dict[tuple[str, str], str] = {}
    bodies: list[dict] = []

    def add(body: dict) -> None:
        figures.apply(counters[(body["store"], body["terminal"])], figures.changes(body))
        bodies.append(body)

    def close(key: tuple[str, str], day: str) -> None:
        seqs[key] += 1
        t = counters[key]
        data = figures.close_figures(t, seqs[key] - 1, {"by_denomination": [], "total": 0},
                                     "Bram")
        data["counted"]["total"] = data["cash"]["expected"]
        data["variance"] = 0
        add({"v": chain.SCHEMA, "seq": seqs[key], "type": "z_close", "ts": day + "T22:00:00.000+01:00",
             "store": key[0], "terminal": key[1], "cashier": "Bram", "training": False,
             "data": data})

    def flush() -> None:
        received = [read(body) for body in bodies]
        with db.atomic():
            apply(collect(received))
            OfficeEntry.insert_many([{
                "terminal": b["terminal"], "seq": b["seq"], "store": b["store"], "type": b["type"],
                "ts": b["ts"], "body": json.dumps(b, sort_keys=True), "hash": "0" * 64,
                "prev": "0" * 64, "sig": "0" * 128, "received": b["ts"]} for b in bodies]).execute()
        bodies.clear()

    for i in range(sales):
        key = terminals[i % len(terminals)]
        when = start + dt.timedelta(days=(i * days) // sales, minutes=rng.randint(0, 12 * 60))
        day = when.date().isoformat()
        if open_day.get(key, day) != day:
            close(key, open_day[key])
        open_day[key] = day
        seqs[key] += 1
        add(sale(rng, key[0], key[1], seqs[key], when.isoformat(timespec="milliseconds") + "+01:00"))
        if len(bodies) >= 5000:
            flush()
    for key, day in open_day.items():
        close(key, day)
    flush()
    with db.atomic():
        for (store, terminal), seq in seqs.items():
            TerminalState.insert(terminal=terminal, store=store, contiguous_seq=seq,
                                 max_seen_seq=seq).on_conflict_replace().execute()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sales", type=int, default=300_000)
    parser.add_argument("--db", help="an already filled database (skips filling)")
    args = parser.parse_args()
    from headoffice.db import open_office_db
    from headoffice.exports.periods import parse_period
    from headoffice.exports.vat import vat_report
    from headoffice.exports.xaf import build_xaf, validate_xaf

    url = args.db or str(Path(tempfile.mkdtemp()) / "office.sqlite3")
    db = open_office_db(url)
    year = dt.date.today().year
    if not args.db:
        populate_closed_year(db, args.sales, year)
    period = parse_period(str(year))
    began = time.perf_counter()
    vat_report(period, "amsterdam")
    reference = time.perf_counter() - began
    began = time.perf_counter()
    data = build_xaf("amsterdam", period, {"name": "Bench", "vat_number": "NL001234567B01"})
    seconds = time.perf_counter() - began
    problems = validate_xaf(data)
    transactions = data.count(b"<transaction>")
    print(f"reference: VAT report of the year {reference * 1000:.1f} ms")
    print(f"XAF export of a year of one shop: {seconds:.2f} s, {transactions} day transactions, "
          f"{len(data) / 1e6:.1f} MB, XSD {'valid' if not problems else 'INVALID: ' + problems[0]}")
    print(f"target: <= {TARGET_S:.0f} s  {'OK' if seconds <= TARGET_S and not problems else 'FAILED'}")
    return 0 if seconds <= TARGET_S and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
