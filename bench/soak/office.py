"""Head office for the soak: a PostgreSQL database, `kassa office ingest` as real processes,
and a dashboard watcher that sees when each terminal's sales reach the aggregates.

The watcher runs the dashboard's own source of figures, the `agg_day` table that ingest
fills in the same transaction as the entries, every POLL seconds: a terminal's k-th sale is
visible once its ticket count there reaches k. Sale-to-dashboard latency is that moment
minus the sale's commit time at the till (same clock, same machine), so it is over-stated
by up to POLL plus the query time.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import peewee

from headoffice.aggregate_models import AggDay

ROOT = Path(__file__).resolve().parents[2]
POLL = 0.25


def create_database(admin_url: str) -> str:
    """A new, empty database on the server of `admin_url` (its maintenance database)."""
    import psycopg2

    name = f"kassa_soak_{uuid.uuid4().hex[:10]}"
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    try:
        conn.cursor().execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(admin_url: str, url: str) -> None:
    import psycopg2

    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    try:
        conn.cursor().execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        conn.close()


class Ingest:
    """`kassa office ingest --workers N` over the broker's head-office (mTLS) listener."""

    def __init__(self, db_url: str, port: int, tls: tuple[Path, Path, Path], workers: int,
                 log_path: Path) -> None:
        ca, cert, key = tls
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cli", "office", "--db", db_url, "ingest",
                 "--workers", str(workers), "--mqtt-port", str(port), "--ca", str(ca),
                 "--cert", str(cert), "--key", str(key)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.workers = workers

    def worker_pids(self) -> list[int]:
        try:
            path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
            return [int(p) for p in path.read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            return []

    def wait_workers(self, timeout: float = 60) -> list[int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.worker_pids()
            if len(pids) == self.workers:
                return pids
            if self.proc.poll() is not None:
                raise RuntimeError(f"kassa office ingest exited with {self.proc.returncode}")
            time.sleep(0.1)
        raise RuntimeError("the ingest workers did not start")

    def kill_worker(self) -> int:
        """kill -9 of the first worker; the supervisor starts another."""
        pid = self.wait_workers()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


class DashboardWatch:
    """Polls the dashboard aggregates; records when each terminal's ticket count rose."""

    def __init__(self, db: peewee.Database) -> None:
        self.db = db
        self.seen: dict[str, list[tuple[float, int]]] = defaultdict(list)
        self.polls = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="dashboard-watch", daemon=True)

    def start(self) -> DashboardWatch:
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                rows = list(AggDay.select(AggDay.terminal, peewee.fn.SUM(AggDay.tickets))
                            .group_by(AggDay.terminal).tuples())
            except peewee.DatabaseError:
                self.db.rollback()
                rows = []
            now = time.time()
            for terminal, tickets in rows:
                count = int(tickets)
                history = self.seen[terminal]
                if not history or history[-1][1] != count:
                    history.append((now, count))
            self.polls += 1
            self.stop.wait(POLL)
        self.db.close()

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(10)

    def latencies(self, terminal: str, commits: list[float]) -> tuple[list[float], int]:
        """(sale-to-dashboard seconds of each sale seen, number of sales never seen)."""
        history = self.seen.get(terminal, [])
        out, h = [], 0
        for k, committed in enumerate(commits, start=1):
            while h < len(history) and history[h][1] < k:
                h += 1
            if h == len(history):
                return out, len(commits) - k + 1
            out.append(max(0.0, history[h][0] - committed))
        return out, 0


def stored_entries() -> dict[str, list[tuple[int, str, float]]]:
    """Head office's (seq, hash, stored at) per terminal, every row (duplicates included)."""
    from headoffice.models import OfficeEntry

    out: dict[str, list[tuple[int, str, float]]] = defaultdict(list)
    query = (OfficeEntry.select(OfficeEntry.terminal, OfficeEntry.seq, OfficeEntry.hash,
                                OfficeEntry.received)
             .order_by(OfficeEntry.terminal, OfficeEntry.seq).tuples())
    for terminal, seq, digest, received in query:
        out[terminal].append((int(seq), digest, dt.datetime.fromisoformat(received).timestamp()))
    return out


def dead_letters() -> dict[str, object]:
    """Refused messages: counted by reason and by terminal, and the rows kept (capped)."""
    from headoffice.models import DeadLetter, DeadLetterCount, DeadLetterTerminal

    by_terminal = sorted(((int(row.count), row.terminal) for row in DeadLetterTerminal.select()),
                         reverse=True)
    return {"by_reason": {row.reason: int(row.count) for row in DeadLetterCount.select()},
            "top_terminals": {terminal or "(none)": count for count, terminal in by_terminal[:5]},
            "rows_kept": DeadLetter.select().count()}
