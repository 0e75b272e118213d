"""What the scheduled-price check and a deposit line cost a scan: `TillService.scan()` on a
till holding 1,000 future prices (none due), against the same till with the check switched
off (the reference, same run), and a product with a deposit (two lines) against a plain one.

Each scan is timed alone; tickets are voided every 30 lines, as in a shop. Prints the median
and p99 of each row for every round, then the medians over the rounds and the ratios.

Run: .venv/bin/python bench/bench_scan_schedule.py [--scans 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_scan_latency import make_till, percentile  # noqa: E402
from contract.downstream import ScheduledPrice  # noqa: E402
from firmware import price_schedule  # noqa: E402
from firmware.models import Product  # noqa: E402
from firmware.sim import make_gtin  # noqa: E402

TICKET_LINES = 30
HELD = 1000


def prepare(tmp: Path):  # noqa: ANN201 - a TillService
    till = make_till(tmp)
    gtins = [make_gtin(n) for n in range(1, 201)]
    later = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)
    with till.db.atomic():
        price_schedule.store(till.db, [
            ScheduledPrice(gtins[i % 200], "0" + gtins[i % 200], None, 100 + i,
                           later + dt.timedelta(minutes=i)) for i in range(HELD)], None)
        Product.update(deposit_code="statiegeld-015", deposit_cents=15,
                       deposit_vat_code="exempt").where(Product.gtin == "0" + gtins[1]).execute()
    return till, gtins


def timed(till, code: str, scans: int) -> list[float]:  # noqa: ANN001
    samples = []
    for _ in range(scans):
        if len(till.ticket.lines) >= TICKET_LINES:
            till.void_open_ticket()
        started = time.perf_counter()
        till.scan(code)
        samples.append((time.perf_counter() - started) * 1000)
    till.void_open_ticket()
    return samples


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scans", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows: dict[str, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        till, gtins = prepare(Path(tmp))
        check = till.sales.prices.catch_up
        for round_no in range(1, args.rounds + 1):
            cases = {}
            till.sales.prices.catch_up = check
            cases["scan, schedule check on (1,000 held)"] = timed(till, gtins[0], args.scans)
            cases["scan, product with deposit (2 lines)"] = timed(till, gtins[1], args.scans)
            till.sales.prices.catch_up = lambda: 0
            cases["reference: scan, schedule check off"] = timed(till, gtins[0], args.scans)
            for name, samples in cases.items():
                figure = (statistics.median(samples), percentile(samples, 0.99))
                rows.setdefault(name, []).append(figure)
                print(f"round {round_no} {name}: median {figure[0]:.3f} ms,"
                      f" p99 {figure[1]:.3f} ms")
        till.db.close()
    print("\nmedian over the rounds:")
    reference = statistics.median(m for m, _ in rows["reference: scan, schedule check off"])
    for name, figures in rows.items():
        median = statistics.median(m for m, _ in figures)
        p99 = statistics.median(p for _, p in figures)
        print(f"  {name}: median {median:.3f} ms, p99 {p99:.3f} ms,"
              f" {median / reference:.2f}x the reference")
    return 0


if __name__ == "__main__":
    sys.exit(main())
