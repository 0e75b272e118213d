"""Head-office ingest with two workers, on SQLite and on PostgreSQL (target >= 5,000
entries/s each).

Four terminals' journals (signed, chained; 20,000 entries) are queued in a local Mosquitto
for the two (paused) workers of `kassa office ingest --workers 2`, as after an outage; the
rate is entries stored (verified, deduplicated, chain advanced, acked, committed) per second
from resuming the workers to the last commit. Publishing is kept out of the timed part
because on a 2-core machine the publisher would compete with the workers for the CPU.
Reference, same run, same broker: bare paho QoS 1 publishing of the same payloads to a topic
nobody reads, i.e. the rate at which the entries can arrive at all.

Run: .venv/bin/python bench/bench_ingest.py [--entries 20000] [--pg URL-of-maintenance-db]
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from contract.wire import terminal_topic  # noqa: E402
from firmware.uplink.outbox import Outbox  # noqa: E402
from headoffice import registry  # noqa: E402
from headoffice.db import database_proxy, open_office_db  # noqa: E402
from headoffice.models import OfficeEntry  # noqa: E402
from tests.fixtures_services import Broker  # noqa: E402
from tests.uplink.harness import (  # noqa: E402
    make_till,
    publish_bare,
    start_ingest,
    stop,
    wait_ingest_ready,
)

TERMINALS = 4


def run_one(name: str, url: str, tmp: Path, messages, tills, broker: Broker) -> float:
    open_office_db(url)
    for till in tills:
        registry.add_terminal(till.terminal, till.store, till.public_key_hex)
    ingest = start_ingest(url, broker.port, workers=2, prefix=f"bench-{name}")
    try:
        wait_ingest_ready(broker, prefix=f"bench-{name}")
        workers = _children(ingest.pid)
        for pid in workers:  # hold the workers while the broker queues the whole load
            os.kill(pid, signal.SIGSTOP)
        publish_bare(broker.port, messages, 1000)
        start = time.perf_counter()
        for pid in workers:
            os.kill(pid, signal.SIGCONT)
        while OfficeEntry.select().count() < len(messages):
            if time.perf_counter() - start > 120:
                print(broker.log()[-6000:])
                raise SystemExit(f"{name}: only {OfficeEntry.select().count()} stored")
            time.sleep(0.02)
        elapsed = time.perf_counter() - start
        check_chains(tills, len(messages) // len(tills))
    finally:
        stop(ingest)
        database_proxy.obj.close()
    return elapsed


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def check_chains(tills, per: int) -> None:
    """Every terminal complete and contiguous at head office (the ack high-water mark)."""
    from headoffice.models import TerminalState

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        states = {s.terminal: s.contiguous_seq for s in TerminalState.select()}
        if all(states.get(t.terminal) == per for t in tills):
            return
        time.sleep(0.1)
    raise SystemExit(f"chains not complete: {states}")


def _admin(admin_url: str, sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    conn.cursor().execute(sql)
    conn.close()


def postgres_url(admin_url: str) -> str:
    name = f"kassa_bench_{uuid.uuid4().hex[:10]}"
    _admin(admin_url, f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="maintenance database of a PostgreSQL server (a fresh database "
                        "is created on it)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    per = args.entries // TERMINALS
    with tempfile.TemporaryDirectory() as tmp_text:
        tmp = Path(tmp_text)
        broker = Broker(tmp / "broker").start()
        try:
            tills, messages = [], []
            for i in range(TERMINALS):
                till = make_till(tmp / f"till{i}", broker.port, store=f"store{i % 2}",
                                 terminal=f"till{i}")
                till.add_entries(per, per_transaction=1000)
                tills.append(till)
                topic = terminal_topic(till.store, till.terminal, "journal")
                messages += [(topic, o.seq, o.payload) for o in Outbox(till.db).read(1, per)]
            messages.sort(key=lambda m: m[1])  # terminals interleaved, as in a shop chain
            reference = publish_bare(broker.port, [("bench/reference", s, p)
                                                   for _t, s, p in messages], 1000)
            results = {"SQLite": run_one("sqlite", f"sqlite:///{tmp / 'office.sqlite3'}", tmp,
                                         messages, tills, broker)}
            pg_url = postgres_url(args.pg)
            try:
                results["PostgreSQL"] = run_one("pg", pg_url, tmp, messages, tills, broker)
            finally:  # 20 MB per run otherwise left behind on the server
                _admin(args.pg, f'DROP DATABASE IF EXISTS "{pg_url.rsplit("/", 1)[1]}"')
        finally:
            broker.stop()
    total = len(messages)
    print(f"reference bare paho QoS1 publish of the {total} payloads: {reference:.2f} s"
          f" ({total / reference:,.0f} msg/s)")
    for name, elapsed in results.items():
        rate = total / elapsed
        print(f"ingest, 2 workers, {name:10}: {total} entries in {elapsed:.2f} s ="
              f" {rate:,.0f} entries/s (target >= 5,000: {'met' if rate >= 5000 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
