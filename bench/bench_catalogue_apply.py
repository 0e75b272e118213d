"""Catalogue apply at a till that keeps selling (issue 15's target; issue 17 point 4).

The till (this process: the TillService `kassa till` builds, a 200-product demo catalogue)
scans products and sells, one sale committed every SALE_LINES scans; the uplink (a second
process running firmware.uplink.downstream.Downstream.apply, as `kassa uplink` does) applies
- a full catalogue of --products (100,000) products, the first push and then the same with
  every price changed: apply <= 5 s, scan-to-ticket p99 during it <= 5 ms;
- a delta of 1,000 price changes: apply <= 0.5 s;
each beside its reference of the same run: a bare SQLite executemany insert of the same rows
(a fresh table with the same columns, one transaction, WAL, synchronous=FULL, same disk); the
scans' reference is the same till scanning with no apply running. "apply" is the uplink's
Downstream.apply call, from the message's bytes until the till sees the new catalogue (the
JSON parse and the checks of contract/downstream.py included); deleting the versions it
retired follows, printed apart. Then the longest write-lock hold of applies of --lock-sizes
products (50,000 and 300,000; first push and every price changed), with nobody selling.

Run: .venv/bin/python bench/bench_catalogue_apply.py [--runs 3] [--products 100000]
     [--lock-sizes 50000 300000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.uplink.harness import catalogue_message  # noqa: E402

SALE_LINES = 10  # scans per sale
PACE = 0.01  # seconds between two scans
TARGET_APPLY, TARGET_SCAN_P99, TARGET_DELTA = 5.0, 0.005, 0.5
DELTA = 1_000


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


# -- the uplink's side: a process of its own ----------------------------------------------
def worker(db_path: str, kind: str, payload_path: str) -> None:
    """Applies one message as the uplink does and prints what it measured as JSON."""
    from firmware.db import open_database
    from firmware.uplink.downstream import Downstream

    payload = Path(payload_path).read_bytes()
    db = open_database(db_path)
    down = Downstream(db)
    started = time.perf_counter()
    outcome = down.apply(kind, payload)
    elapsed = time.perf_counter() - started
    stats = down.last_stats
    print(json.dumps({
        "applied": outcome.applied, "detail": outcome.detail, "elapsed": elapsed,
        "visible": elapsed - stats.cleanup_seconds, "cleanup": stats.cleanup_seconds,
        "longest_lock": stats.longest_lock, "longest_cpu": stats.longest_cpu,
        "median_lock": statistics.median(stats.holds), "p90_lock": percentile(stats.holds, 0.9),
        "flip": stats.flip_seconds, "transactions": stats.transactions,
        "written": stats.written}))
    db.close()


def apply_in_uplink(db_path: Path, kind: str, payload_path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, "--worker", str(db_path), kind,
                             str(payload_path)], stdout=subprocess.PIPE, cwd=ROOT)


def result(proc: subprocess.Popen) -> dict:
    out, _ = proc.communicate(timeout=900)
    if proc.returncode:
        raise SystemExit(f"the apply failed (exit {proc.returncode})")
    return json.loads(out.decode().strip().splitlines()[-1])


# -- the till's side ------------------------------------------------------------------------
def make_till(tmp: Path):
    from cli.assemble import build_till
    from contract.config import parse_config
    from firmware.sim import ensure_demo_data

    text = (f'[terminal]\nstore = "bench"\nterminal = "bench-1"\n'
            f'signing_key = "{tmp / "keys" / "journal.pem"}"\n'
            f'[database]\npath = "{tmp / "kassa.sqlite3"}"\n')
    till = build_till(parse_config(text, str(tmp / "kassa.toml"), var_dir=str(tmp / "var")))
    ensure_demo_data(till, products=200)
    till.login("1111")
    return till


def shop(till, codes: list[str], until) -> tuple[list[float], list[float]]:
    """Scans (and a cash sale every SALE_LINES scans) until until() is true: the scan times
    and the sale commit times."""
    scans: list[float] = []
    sales: list[float] = []
    i = 0
    while not until():
        time.sleep(PACE)
        start = time.perf_counter()
        till.scan(codes[i % len(codes)])
        scans.append(time.perf_counter() - start)
        i += 1
        if i % SALE_LINES == 0:
            start = time.perf_counter()
            till.pay_cash(till.cash_due())
            sales.append(time.perf_counter() - start)
    return scans, sales


# -- the references -------------------------------------------------------------------------
def bare_insert(work: Path, rows: list[tuple]) -> float:
    """Seconds for bare sqlite3 to insert the rows in one transaction (WAL, synchronous=FULL)."""
    path = work / f"bare-{len(rows)}-{time.monotonic_ns()}.sqlite3"
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode = wal")
    con.execute("PRAGMA synchronous = FULL")
    width = len(rows[0])
    con.execute(f"CREATE TABLE t ({', '.join(f'c{i}' for i in range(width))})")
    start = time.perf_counter()
    con.execute("BEGIN")
    con.executemany(f"INSERT INTO t VALUES ({', '.join('?' * width)})", rows)
    con.execute("COMMIT")
    elapsed = time.perf_counter() - start
    con.close()
    path.unlink()
    return elapsed


def rows_of(payload: bytes) -> list[tuple]:
    data = json.loads(payload)
    items = data.get("products") or data.get("prices")
    return [tuple(item.values()) for item in items]


def prices_message(version: int, base: int, offset: int) -> bytes:
    from firmware.sim import make_gtin

    prices = [{"gtin": make_gtin(n), "price_cents": 100 + (n + offset) % 5000}
              for n in range(1, DELTA + 1)]
    return json.dumps({"version": version, "base": base, "prices": prices}).encode()


# -- one run ---------------------------------------------------------------------------------
def one_run(work: Path, count: int) -> dict:
    from firmware.sim import make_gtin

    till = make_till(work)
    codes = [make_gtin(1 + i % 200) for i in range(200)]
    shop(till, codes[:20], lambda t=time.monotonic() + 0.5: time.monotonic() > t)  # warm up
    ref_scans, ref_sales = shop(till, codes, lambda t=time.monotonic() + 4: time.monotonic() > t)
    figures: dict = {"ref_scan_p99": percentile(ref_scans, 0.99),
                     "ref_sale_max": max(ref_sales), "cases": {}}
    messages = [("first push", "catalogue", catalogue_message(count, 1)),
                ("every price changed", "catalogue", catalogue_message(count, 2, 7)),
                (f"delta of {DELTA:,} prices", "prices", prices_message(3, 2, 11))]
    for label, kind, payload in messages:
        payload_path = work / "message.json"
        payload_path.write_bytes(payload)
        proc = apply_in_uplink(work / "kassa.sqlite3", kind, payload_path)
        scans, sales = shop(till, codes, lambda p=proc: p.poll() is not None)
        applied = result(proc)
        assert applied["applied"], applied
        figures["cases"][label] = {
            **applied, "scan_p99": percentile(scans, 0.99), "scan_median": statistics.median(scans),
            "scans": len(scans), "sales": len(sales), "sale_max": max(sales, default=0.0),
            "bare": bare_insert(work, rows_of(payload))}
    till.void_open_ticket()
    return figures


def lock_run(work: Path, count: int) -> list[tuple[str, dict]]:
    from firmware.db import open_database

    open_database(work / "kassa.sqlite3").close()
    out = []
    for label, payload in (("first push", catalogue_message(count, 1)),
                           ("every price changed", catalogue_message(count, 2, 7))):
        payload_path = work / "message.json"
        payload_path.write_bytes(payload)
        out.append((label, result(apply_in_uplink(work / "kassa.sqlite3", "catalogue",
                                                  payload_path))))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--lock-sizes", type=int, nargs="*", default=[50_000, 300_000])
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    (ROOT / "var").mkdir(exist_ok=True)
    runs = []
    for run in range(args.runs):
        work = Path(tempfile.mkdtemp(prefix="bench-catalogue-apply-", dir=ROOT / "var"))
        try:
            figures = one_run(work, args.products)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        runs.append(figures)
        print(f"run {run + 1}: scans with no apply p99 {ms(figures['ref_scan_p99'])},"
              f" slowest sale {ms(figures['ref_sale_max'])}")
        for label, case in figures["cases"].items():
            print(f"  {label:22} apply {case['visible']:.3f} s (+ {case['cleanup']:.2f} s"
                  f" clean-up) vs bare insert {case['bare']:.3f} s; longest lock"
                  f" {ms(case['longest_lock'])} (CPU {ms(case['longest_cpu'])}; median of the"
                  f" transactions {ms(case['median_lock'])}, p90 {ms(case['p90_lock'])}), flip"
                  f" {ms(case['flip'])}, {case['transactions']} transactions; scans"
                  f" {case['scans']} p99 {ms(case['scan_p99'])}; {case['sales']} sales,"
                  f" slowest {ms(case['sale_max'])}")
    print(f"\nmedians of {len(runs)} runs, {args.products:,} products:")
    print(f"  reference, no apply: scan p99 {ms(statistics.median(r['ref_scan_p99'] for r in runs))}")
    for label in runs[0]["cases"]:
        cases = [r["cases"][label] for r in runs]

        def med(key: str, cases=cases) -> float:
            return statistics.median(c[key] for c in cases)

        target = TARGET_DELTA if label.startswith("delta") else TARGET_APPLY
        print(f"  {label:22} apply {med('visible'):.3f} s (target <= {target} s:"
              f" {'met' if med('visible') <= target else 'MISSED'}), bare insert"
              f" {med('bare'):.3f} s, ratio {med('visible') / med('bare'):.1f};"
              f" scan p99 {ms(med('scan_p99'))} (target <= 5 ms:"
              f" {'met' if med('scan_p99') <= TARGET_SCAN_P99 else 'MISSED'});"
              f" longest lock {ms(med('longest_lock'))}; slowest sale {ms(med('sale_max'))}")
    for count in args.lock_sizes:
        work = Path(tempfile.mkdtemp(prefix="bench-catalogue-lock-", dir=ROOT / "var"))
        try:
            for label, case in lock_run(work, count):
                print(f"lock hold, {count:,} products, {label}: longest {ms(case['longest_lock'])}"
                      f" (CPU {ms(case['longest_cpu'])}), median {ms(case['median_lock'])},"
                      f" p90 {ms(case['p90_lock'])},"
                      f" flip {ms(case['flip'])},"
                      f" {case['transactions']} transactions; visible after"
                      f" {case['visible']:.2f} s, clean-up {case['cleanup']:.2f} s")
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
