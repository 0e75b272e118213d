"""XAF 4.0 export of a year of one shop (target <= 10 s), validated against the XSD.

Fills a database with a year of sales for the shops of bench_dashboard (unless --db names
one already filled), then times build_xaf for the biggest shop. Reference, same run: the
VAT report of the same shop and year (one aggregate query).

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

from bench_dashboard import populate  # noqa: E402

TARGET_S = 10.0


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
        populate(db, args.sales, year)
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
