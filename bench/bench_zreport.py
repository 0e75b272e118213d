"""Z report at 100,000 tickets against Z report at 1,000 tickets in the open period (target
<= 2x): the running totals make a Z cost the same whatever the history. Also printed, same
run: the start-up journal check at both sizes, and the full rebuild from the journal
(`kassa report z --rebuild`), which is what a Z would cost if it rescanned history.

Run: .venv/bin/python bench/bench_zreport.py [--small 1000] [--large 100000]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cli.assemble import build_till  # noqa: E402
from contract.config import parse_config  # noqa: E402
from firmware import integrity, reports  # noqa: E402
from firmware.permissions import Action  # noqa: E402
from firmware.sim import MANAGER_PIN, ensure_demo_data  # noqa: E402
from firmware.till import TillService  # noqa: E402


def filled_till(directory: Path, tickets: int) -> TillService:
    """A till with `tickets` two-line sales in the open period (filled without fsync)."""
    text = (f'[terminal]\nsigning_key = "{directory / "key.pem"}"\n'
            f'[database]\npath = "{directory / "till.sqlite3"}"\n')
    till = build_till(parse_config(text, "bench", var_dir=str(directory)))
    ensure_demo_data(till, products=200)
    till.login("1111")
    till.db.execute_sql("PRAGMA synchronous=OFF")
    done = 0
    while done < tickets:
        with till.journal.transaction():
            for _ in range(min(1000, tickets - done)):
                till.add_product(1 + done % 200)
                till.add_product(1 + (done * 7) % 200, quantity=2)
                till.pay_card(None, f"B{done}")
                done += 1
    till.db.execute_sql("PRAGMA synchronous=FULL")
    return till


def measure(till: TillService) -> dict[str, float]:
    x_times = []
    for _ in range(50):
        start = time.perf_counter()
        with till.journal.transaction():
            reports.x_data(till.journal)
        x_times.append(time.perf_counter() - start)
    start = time.perf_counter()
    integrity.check(till.journal)
    check = time.perf_counter() - start
    approval = till.approve(MANAGER_PIN, Action.Z_CLOSE)
    start = time.perf_counter()
    z = till.z_close({5000: 1}, approval=approval)
    z_time = time.perf_counter() - start
    start = time.perf_counter()
    rebuilt = reports.rebuild_z(till.journal, z.entry.body["data"]["z_number"])
    rebuild = time.perf_counter() - start
    assert rebuilt.ok, rebuilt.differences
    return {"figures": statistics.median(x_times), "z": z_time, "check": check, "rebuild": rebuild}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100000)
    args = parser.parse_args()
    results = {}
    for tickets in (args.small, args.large):
        work = Path(tempfile.mkdtemp(prefix="bench-z-", dir=ROOT / "var"))
        try:
            started = time.perf_counter()
            till = filled_till(work, tickets)
            fill = time.perf_counter() - started
            results[tickets] = measure(till)
            till.db.close()
            r = results[tickets]
            print(f"{tickets:>7} tickets (filled in {fill:.1f} s): figures {r['figures'] * 1e3:.2f}"
                  f" ms, Z close incl. commit {r['z'] * 1e3:.1f} ms, start-up check "
                  f"{r['check'] * 1e3:.0f} ms, rebuild from journal {r['rebuild']:.2f} s")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    small, large = results[args.small], results[args.large]
    print(f"Z close at {args.large} vs {args.small} tickets: {large['z'] / small['z']:.2f}x "
          f"(target <= 2x); figures alone {large['figures'] / small['figures']:.2f}x")
    print(f"reference, rescanning the journal instead: {large['rebuild'] / small['rebuild']:.0f}x "
          f"({small['rebuild']:.2f} s -> {large['rebuild']:.2f} s)")


if __name__ == "__main__":
    main()
