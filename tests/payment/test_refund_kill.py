"""kill -9 of the till at random moments between refund_started and the terminal's answer:
after every restart each piece went back to the card once at the acquirer and is refunded
once in the journal, no refund is journaled that the terminal did not make, and the chain
stays valid."""

from __future__ import annotations

import collections
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from drivers.payment.sim import SimTerminal
from tests.faults.shop import kassa
from tests.payment.conftest import payment_config
from tests.payment.test_kill import ROOT, _till, _wait_for, settled_after_a_restart

KILLS = 8
SALES = 10  # at least ten pieces: more than the kills can take


def _refunder(config_source: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.payment.refund_proc", config_source],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)


def test_kills_never_refund_twice_nor_journal_an_unmade_refund(tmp_path: Path,
                                                              terminal: SimTerminal) -> None:
    config = payment_config(tmp_path, terminal)
    seller = _till(config, SALES)  # the card sales to refund, paid at once
    assert _wait_for(seller, "done", timeout=120)
    seller.wait(30)
    rng = random.Random(21)
    kills = 0
    while kills < KILLS:
        delay = rng.uniform(0.2, 1.0)  # the acquirer's time for the refund
        for _ in range(3):
            terminal.behave_refund("slow", delay)
        proc = _refunder(config.source)
        if not _wait_for(proc, "waiting"):
            proc.kill()
            proc.wait()
            break  # nothing left to refund
        time.sleep(rng.uniform(0, delay * 1.1))  # refund_started is committed; no answer yet
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        kills += 1
    assert kills == KILLS, "the sales ran out of pieces before every kill"
    final = _refunder(config.source)
    assert _wait_for(final, "done", timeout=180), "the last run did not finish its refunds"
    final.wait(30)

    with sqlite3.connect(config.database_path) as db:
        bodies = [json.loads(body) for (body,) in
                  db.execute("SELECT body FROM journal ORDER BY seq")]
        pending = db.execute("SELECT count(*) FROM meta WHERE key = 'payment:refund_pending'"
                             ).fetchone()
    assert pending == (0,)
    sales = {b["seq"]: b for b in bodies if b["type"] == "sale"}
    refunds = [b for b in bodies if b["type"] == "refund"]
    # every piece sold went back exactly once: all refunded, nothing twice
    pieces = collections.Counter()
    for refund in refunds:
        for line in refund["data"]["lines"]:
            pieces[(refund["ref_seq"], line["line_no"])] -= line["quantity"]
    assert pieces == {(seq, line["line_no"]): line["quantity"] for seq, sale in sales.items()
                      for line in sale["data"]["lines"]}
    # the acquirer's refunds are the journal's, one for one (ServiceID and amount)
    journaled = collections.Counter((t["card"]["service_id"], -t["amount"])
                                    for r in refunds for t in r["data"]["tenders"])
    made = collections.Counter((r.service_id, r.amount) for r in terminal.refunds)
    assert journaled == made and set(made.values()) == {1}
    for sale in sales.values():  # never more back on a card than it paid
        original = sale["data"]["tenders"][0]["card"]["poi_transaction_id"]
        assert sum(r.amount for r in terminal.refunds
                   if r.transaction_ref == original) == sale["data"]["total_paid"]
    started = [b for b in bodies if b["type"] == "refund_started"]
    declined = [b for b in bodies if b["type"] == "refund_declined"]
    assert len(started) == len(refunds) + len(declined)  # each one settled, one way
    # most kills fell while the terminal had the refund: settled by the next run
    after_restart = settled_after_a_restart(bodies, "refund_started", ("refund", "refund_declined"))
    assert after_restart >= KILLS // 2, after_restart
    verify = kassa(config, "journal", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
