"""The start-up journal check at 100,000 entries (target <= 1 s), beside a bare read of the
whole journal table in the same run.

The journal holds `--entries` entries: two-line card sales with a Z close every
`--day` entries (a shop's day), and the till was last started one day ago, so the verified
point (firmware/checkpoint.py) lies one day back. Timed: `integrity.check` as start-up runs
it (every entry's SHA-256 link from entry 1 and the head's signature; after the point every
entry in full, each Z against its rebuild, the totals against the replay and their seal;
the anchor file), and the whole start (`build_till`: open, check, software start journaled).
Reference: `SELECT seq, body, hash, sig FROM journal` read to the end in Python, no checks.
With `--no-point` it also times the first start of a database without a verified point.

Run: .venv/bin/python bench/bench_startup_verify.py [--entries 100000] [--day 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cli.assemble import build_till, open_terminal  # noqa: E402
from contract.config import Config, parse_config  # noqa: E402
from firmware import checkpoint, integrity  # noqa: E402
from firmware.db import open_database  # noqa: E402
from firmware.permissions import Action  # noqa: E402
from firmware.sim import MANAGER_PIN, ensure_demo_data  # noqa: E402


def config_in(directory: Path) -> Config:
    text = (f'[terminal]\nsigning_key = "{directory / "key.pem"}"\n'
            f'[database]\npath = "{directory / "till.sqlite3"}"\n')
    return parse_config(text, "bench", var_dir=str(directory))


def fill(config: Config, entries: int, day: int) -> str:
    """Sales and a Z close a day until `entries`; restarted once a day before the end.
    Returns the verified point that restart left."""
    till = build_till(config)
    ensure_demo_data(till, products=200)
    point = ""
    while True:
        head = till.journal.head()[0]
        if head >= entries:
            break
        if not point and head >= entries - day:
            till.db.close()
            till = build_till(config)  # the start-up a day ago: the verified point
            point = read_point(config)
        till.login("1111")
        till.db.execute_sql("PRAGMA synchronous=OFF")
        with till.journal.transaction():
            for n in range(max(1, min(day - 3, entries - head - 3))):
                till.add_product(1 + (head + n) % 200)
                till.add_product(1 + ((head + n) * 7) % 200, quantity=2)
                till.pay_card(None, f"B{head + n}")
        till.db.execute_sql("PRAGMA synchronous=FULL")
        till.login(MANAGER_PIN)
        till.z_close({5000: 1}, approval=till.approve(MANAGER_PIN, Action.Z_CLOSE))
    till.db.close()
    return point


def read_point(config: Config) -> str:
    db = open_database(config.database_path)
    row = db.execute_sql("SELECT value FROM meta WHERE key = ?", (checkpoint.META_KEY,)).fetchone()
    db.close()
    return str(row[0])


def put_point(config: Config, point: str | None) -> None:
    """The verified point back where the restart a day ago left it (or removed)."""
    db = open_database(config.database_path)
    with db.atomic():
        db.execute_sql("DELETE FROM meta WHERE key = ?", (checkpoint.META_KEY,))
        if point is not None:
            db.execute_sql("INSERT INTO meta (key, value) VALUES (?, ?)",
                           (checkpoint.META_KEY, point))
    db.close()


def bare_read(config: Config) -> float:
    db = open_database(config.database_path)  # the till's pragmas
    start = time.perf_counter()
    for _row in db.execute_sql("SELECT seq, body, hash, sig FROM journal ORDER BY seq"):
        pass
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


def timed_check(config: Config, point: str | None) -> tuple[float, int]:
    """One start-up check (integrity.check, as start_till runs it) from the given point."""
    put_point(config, point)
    opened = open_terminal(config)
    start = time.perf_counter()
    problems = integrity.check(opened.journal)
    elapsed = time.perf_counter() - start
    assert not problems, integrity.describe(problems)
    head = opened.journal.head()[0]
    opened.db.close()
    return elapsed, head


def timed_start(config: Config, point: str) -> float:
    put_point(config, point)
    start = time.perf_counter()
    build_till(config).db.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100000)
    parser.add_argument("--day", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-point", action="store_true",
                        help="also time a start without a verified point")
    args = parser.parse_args()
    (ROOT / "var").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-startup-", dir=ROOT / "var"))
    try:
        config = config_in(work)
        started = time.perf_counter()
        point = fill(config, args.entries, args.day)
        print(f"filled {args.entries} entries, a Z every {args.day}, in "
              f"{time.perf_counter() - started:.0f} s")
        checks, reads, starts = [], [], []
        for _ in range(args.runs):
            reads.append(bare_read(config))
            elapsed, head = timed_check(config, point)
            checks.append(elapsed)
            starts.append(timed_start(config, point))
        since = head - int(json.loads(point)["seq"])
        read, check = statistics.median(reads), statistics.median(checks)
        print(f"start-up check at {head} entries ({since} after the verified point): median "
              f"{check * 1e3:.0f} ms, max {max(checks) * 1e3:.0f} ms (target <= 1000 ms)")
        print(f"whole start (open, check, software start): median "
              f"{statistics.median(starts) * 1e3:.0f} ms")
        print(f"reference, bare read of the journal table: median {read * 1e3:.0f} ms; "
              f"check / bare read = {check / read:.2f}")
        if args.no_point:
            elapsed, _ = timed_check(config, None)
            print(f"without a verified point (window from the last Z): {elapsed * 1e3:.0f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
