"""kill -9 of `kassa sim` at random moments: nothing committed is lost, nothing is half written.

One database, many runs of `python -m cli sim`, each killed with SIGKILL after a
random 0.05-0.6 s (most of them once selling is under way, some during start-up). After
every kill the journal must verify, seq must have no gap, every seq the process printed as
committed must be there with its type, stock must equal the initial stock minus the stock
movements in the journal, the running report totals must equal a replay of the journal,
and the start-up check must pass.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from firmware import integrity, totals
from firmware.db import open_database
from firmware.journal import Journal
from firmware.signing import load_or_create_key
from firmware.sim import catalogue_csv

ROOT = Path(__file__).resolve().parents[2]
KILLS = 55
PRODUCTS = 60
BUDGET_SECONDS = 150


def initial_stock() -> dict[str, int]:
    """GTIN-14 -> stock, as the sim's generated catalogue sets it."""
    header, *rows = catalogue_csv(PRODUCTS, seed=1)
    assert header.rstrip().endswith(",stock")
    return {"0" + row.split(",")[0]: int(row.rstrip().rsplit(",", 1)[1]) for row in rows}


def start_sim(env: dict[str, str], out: Path, seed: int, sales: int = 100000) -> subprocess.Popen:
    with out.open("wb") as fh:
        return subprocess.Popen(
            [sys.executable, "-m", "cli", "sim", "--sales", str(sales), "--seed", str(seed),
             "--products", str(PRODUCTS)],
            cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)


def printed_commits(out: Path) -> dict[int, str]:
    commits = {}
    for line in out.read_text(errors="replace").splitlines():
        if line.startswith("committed seq="):
            seq_part, type_part = line.split()[1:3]
            commits[int(seq_part.split("=")[1])] = type_part.split("=")[1]
    return commits


def check_database(db_path: Path, key_path: Path, stock0: dict[str, int],
                   commits: dict[int, str]) -> int:
    db = open_database(db_path)
    try:
        journal = Journal(db, load_or_create_key(key_path), "s1", "t1")
        result = journal.verify()
        assert result.ok, str(result)
        head, _ = journal.head()
        for seq, entry_type in commits.items():
            entry = journal.get(seq)
            assert entry is not None, f"seq {seq} was printed as committed but is missing"
            assert entry.type == entry_type
        moved: dict[int, int] = {}
        bodies = []
        for entry in journal.entries():
            bodies.append(entry.body)
            body = entry.body
            if body["training"] or body["type"] not in ("sale", "refund", "void"):
                continue
            if body["type"] == "void" and body["data"]["scope"] != "paid":
                continue
            for line in body["data"]["lines"]:
                if line["stock_tracked"] and not line.get("removed") and line["product_id"]:
                    moved[line["product_id"]] = moved.get(line["product_id"], 0) + line["stock_units"]
        rows = db.execute_sql("SELECT p.id, p.gtin, s.quantity FROM product p "
                              "JOIN stock_level s ON s.product_id = p.id").fetchall()
        assert len(rows) == len(stock0)
        for product_id, gtin, quantity in rows:
            assert quantity == stock0[gtin] - moved.get(product_id, 0), f"product {product_id}"
        assert totals.load(db) == totals.replay(bodies)
        assert integrity.check(journal) == []
        return head
    finally:
        db.close()


def test_kill_minus_nine_at_random_moments(tmp_path: Path) -> None:
    db_path, key_path = tmp_path / "kassa.sqlite3", tmp_path / "key.pem"
    config = tmp_path / "kassa.toml"
    config.write_text(f'[terminal]\nstore = "s1"\nterminal = "t1"\nsigning_key = "{key_path}"\n'
                      f'[database]\npath = "{db_path}"\n')
    env = {**os.environ, "KASSA_CONFIG": str(config)}
    stock0 = initial_stock()
    out = tmp_path / "out-0.txt"
    first = start_sim(env, out, seed=0, sales=3)
    assert first.wait(60) == 0, out.read_text()
    head = check_database(db_path, key_path, stock0, printed_commits(out))
    rng = random.Random(20261127)
    kills = mid_sale_kills = 0
    started = time.monotonic()
    while kills < KILLS:
        assert time.monotonic() - started < BUDGET_SECONDS, f"only {kills} kills in time"
        out = tmp_path / f"out-{kills + 1}.txt"
        proc = start_sim(env, out, seed=kills + 1)
        if kills % 5 != 4:  # mostly mid-selling; every fifth kill lands anywhere in start-up
            deadline = time.monotonic() + 20
            while "committed seq=" not in out.read_text(errors="replace"):
                assert proc.poll() is None, out.read_text()
                assert time.monotonic() < deadline, "the sim never committed anything"
                time.sleep(0.01)
        time.sleep(rng.uniform(0.05, 0.6))
        assert proc.poll() is None, f"sim ended before the kill: {out.read_text()[-2000:]}"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
        kills += 1
        commits = printed_commits(out)
        if commits:
            mid_sale_kills += "sale" in commits.values()
        new_head = check_database(db_path, key_path, stock0, commits)
        assert new_head >= head and (not commits or new_head >= max(commits))
        head = new_head
    assert kills >= 50 and mid_sale_kills >= 30
    assert head > 500, "the runs sold too little to mean anything"
