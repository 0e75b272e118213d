"""Catalogue apply beside selling: a full catalogue message applied by the uplink's
Downstream while another process sells (one journal entry per transaction, as a till does).

Prints the apply time, the longest write transaction of the apply, and the sale commit
times during it (median, p99, longest) beside the same sale commits with no apply running
(the reference, same run, same disk). Target: no sale waits >= 1 s; every sale commits.

Run: .venv/bin/python bench/bench_catalogue_apply.py [--products 50000 300000]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from firmware.models import Product  # noqa: E402
from firmware.uplink.downstream import Downstream  # noqa: E402
from tests.uplink.harness import Seller, catalogue_message, make_till  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


def line(label: str, waits: list[float]) -> str:
    return (f"{label:34} {len(waits):5d} sales  median {percentile(waits, 0.5) * 1000:7.1f} ms"
            f"  p99 {percentile(waits, 0.99) * 1000:7.1f} ms  longest {max(waits) * 1000:7.1f} ms")


def run(work: Path, count: int) -> None:
    till = make_till(work / f"till-{count}", broker_port=1)
    with Seller(till) as seller:
        time.sleep(3)
        bare = seller.waits()
    for version, offset in ((1, 0), (2, 7)):  # first push, then every price changed
        payload = catalogue_message(count, version, price_offset=offset)
        down = Downstream(till.db)
        with Seller(till) as seller:
            time.sleep(0.3)
            start = time.perf_counter()
            outcome = down.apply("catalogue", payload)
            elapsed = time.perf_counter() - start
        waits = seller.waits()
        stats = down.last_stats
        active = Product.select().where(Product.active).count()
        assert outcome.applied and active == count, (outcome, active)
        kind = "first push" if version == 1 else "all prices changed"
        print(f"{count} products, {kind}: applied in {elapsed:.2f} s ({len(payload) / 1e6:.1f} MB);"
              f" {stats.transactions} transactions, longest {stats.longest_lock * 1000:.0f} ms"
              f" (the final merge {stats.merge_seconds * 1000:.0f} ms)")
        print("  " + line("sale commits during the apply", waits)
              + ("  (target < 1000 ms: met)" if max(waits) < 1 else "  (target < 1000 ms: MISSED)"))
        print("  " + line("reference: sales, no apply", bare))
    till.db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, nargs="+", default=[50_000, 300_000])
    args = parser.parse_args()
    (ROOT / "var").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-catalogue-apply-", dir=ROOT / "var"))
    try:
        for count in args.products:
            run(work, count)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
