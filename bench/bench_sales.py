"""Sales committed per second (5-line sale, signed, stock and report totals included) against
bare SQLite commits per second (WAL, synchronous=FULL, one small row each) on the same disk.
Target: ratio >= 0.5.

Run: .venv/bin/python bench/bench_sales.py [--sales 400] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cli.assemble import build_till  # noqa: E402
from contract.config import parse_config  # noqa: E402
from firmware.sim import ensure_demo_data  # noqa: E402


class BareSqlite:
    """One ~1 kB row per commit: the disk's fsync rate as SQLite sees it."""

    def __init__(self, path: Path) -> None:
        self.con = sqlite3.connect(path, isolation_level=None)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("PRAGMA synchronous=FULL")
        self.con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")

    def run(self, count: int) -> float:
        body = "x" * 1000
        start = time.perf_counter()
        for _ in range(count):
            self.con.execute("BEGIN IMMEDIATE")
            self.con.execute("INSERT INTO t (body) VALUES (?)", (body,))
            self.con.execute("COMMIT")
        return time.perf_counter() - start


class TillSales:
    """The real till service: five products, card payment, signed journal entry per sale."""

    def __init__(self, directory: Path) -> None:
        text = (f'[terminal]\nsigning_key = "{directory / "key.pem"}"\n'
                f'[database]\npath = "{directory / "till.sqlite3"}"\n')
        self.till = build_till(parse_config(text, "bench", var_dir=str(directory)))
        ensure_demo_data(self.till, products=200)
        self.till.login("1111")
        self.n = 0

    def run(self, count: int) -> float:
        till = self.till
        start = time.perf_counter()
        for _ in range(count):
            for i in range(5):
                till.add_product(1 + (self.n * 5 + i) % 200)
            till.pay_card(None, f"B{self.n}")
            self.n += 1
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sales", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=12, help="interleaved rounds (noisy disks)")
    parser.add_argument("--dir", default=str(ROOT / "var"), help="a directory on the disk to test")
    args = parser.parse_args()
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-sales-", dir=args.dir))
    try:
        bare, sales = BareSqlite(work / "bare.sqlite3"), TillSales(work)
        per_round = max(args.sales // args.rounds, 1)
        bare_time = sales_time = 0.0
        for _ in range(args.rounds):  # interleaved, so both see the same disk weather
            bare_time += bare.run(per_round)
            sales_time += sales.run(per_round)
        assert sales.till.journal.verify().ok
        count = per_round * args.rounds
        reference, rate = count / bare_time, count / sales_time
        print(f"machine: {platform.machine()} {os.cpu_count()} cpus, python "
              f"{platform.python_version()}, sqlite {sqlite3.sqlite_version}, disk of {args.dir}")
        print(f"bare SQLite commits/s (WAL, synchronous=FULL): {reference:8.0f}")
        print(f"till sales committed/s (5 lines, signed):    {rate:8.0f}")
        print(f"ratio sales/bare commits: {rate / reference:.2f}  (target >= 0.5)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
