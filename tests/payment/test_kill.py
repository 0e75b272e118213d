"""kill -9 of the till at random moments between payment_started and the terminal's answer:
after every restart each paid ticket was charged exactly once at the acquirer, and sold
exactly once in the journal, whose chain stays valid."""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from contract.config import Config
from drivers.payment.sim import SimTerminal
from tests.faults.shop import kassa
from tests.payment.conftest import payment_config

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20


def _till(config: Config, target: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.payment.till_proc", config.source,
                             str(target)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)


def _wait_for(proc: subprocess.Popen[str], word: str, timeout: float = 60.0) -> bool:
    assert proc.stdout is not None
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        line = proc.stdout.readline()
        if not line:
            return False
        if line.strip() == word:
            return True
    return False


def test_twenty_kills_never_charge_twice_nor_sell_unpaid(tmp_path: Path,
                                                         terminal: SimTerminal) -> None:
    config = payment_config(tmp_path, terminal)
    rng = random.Random(20)
    target = KILLS + 5
    kills = 0
    while kills < KILLS:
        delay = rng.uniform(0.2, 1.2)  # the shopper's time at the terminal
        for _ in range(3):
            terminal.behave("slow", delay)
        proc = _till(config, target)
        if not _wait_for(proc, "waiting"):
            proc.kill()
            proc.wait()
            continue
        time.sleep(rng.uniform(0, delay * 1.1))  # payment_started is committed; no answer yet
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        kills += 1
    terminal.default = ("approve", 0.0)
    final = _till(config, target)
    assert _wait_for(final, "done", timeout=120), "the last run did not finish its tickets"
    final.wait(30)

    import json
    import sqlite3
    with sqlite3.connect(config.database_path) as db:
        bodies = [json.loads(body) for (body,) in
                  db.execute("SELECT body FROM journal ORDER BY seq")]
        pending = db.execute("SELECT count(*) FROM meta WHERE key = 'payment:pending'").fetchone()
    sales = [b for b in bodies if b["type"] == "sale"]
    assert len(sales) == target and pending == (0,)
    refs_sold = collections.Counter(t["card"]["transaction_ref"] for s in sales
                                    for t in s["data"]["tenders"])
    charged = collections.Counter(c.transaction_ref for c in terminal.approved())
    assert charged == refs_sold  # the same tickets, each charged once and sold once
    assert set(charged.values()) == {1}
    psp = {c.psp_reference for c in terminal.approved()}
    assert {t["reference"] for s in sales for t in s["data"]["tenders"]} == psp
    for sale in sales:  # never a sale for more or less than was approved
        tender, = sale["data"]["tenders"]
        assert tender["amount"] == sale["data"]["total_paid"]
    started = [b for b in bodies if b["type"] == "payment_started"]
    assert len(started) >= KILLS  # every kill fell after a payment_started
    # Most kills fell while the terminal had the payment: its outcome was settled by the next
    # run, from TransactionStatus (a software_start lies between payment_started and sale).
    after_restart = settled_after_a_restart(bodies, "payment_started",
                                            ("sale", "payment_declined"))
    assert after_restart >= KILLS // 2, after_restart
    verify = kassa(config, "journal", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def settled_after_a_restart(bodies: list[dict], started: str, settled: tuple[str, ...]) -> int:
    """How many `started` entries were settled (by one of `settled`) only after a
    software_start: the outcomes the next run found out from the terminal."""
    open_id, restarted, count = None, False, 0
    for body in bodies:
        if body["type"] == started:
            open_id, restarted = body["data"]["service_id"], False
        elif body["type"] == "software_start" and open_id:
            restarted = True
        elif body["type"] in settled and open_id:
            count += restarted
            open_id = None
    return count
