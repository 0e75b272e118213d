"""Builds tills, head offices and their processes for the sales-feed tests and benchmarks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import peewee
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contract import chain
from contract.keys import public_key_hex
from firmware.db import open_database
from firmware.journal import Journal
from firmware.signing import load_or_create_key

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Till:
    store: str
    terminal: str
    config_path: Path
    db_path: Path
    key: Ed25519PrivateKey
    db: peewee.SqliteDatabase
    journal: Journal

    @property
    def public_key_hex(self) -> str:
        return public_key_hex(self.key)

    def add_entries(self, count: int, per_transaction: int = 500) -> None:
        done = 0
        while done < count:
            with self.journal.transaction():
                for _ in range(min(per_transaction, count - done)):
                    done += 1
                    self.journal.append("cash_in", {"amount": 100 + done % 977,
                                                    "reason": "change for the drawer"},
                                        cashier="anna")

    def head(self) -> int:
        return self.journal.head()[0]

    def acked(self) -> int:
        row = self.db.execute_sql("SELECT acked_seq FROM delivery WHERE key='ack'").fetchone()
        return row[0] if row else 0

    def entries(self) -> list[tuple[int, str]]:
        return list(self.db.execute_sql("SELECT seq, hash FROM journal ORDER BY seq"))


def make_till(tmp: Path, broker_port: int, store: str = "store1", terminal: str = "till1",
              resend_seconds: int = 2, extra_mqtt: str = "",
              office_public_key: Path | None = None) -> Till:
    """A till's config, database and journal; `office_public_key` pins head office's key."""
    if office_public_key is not None:
        extra_mqtt += f'office_public_key = "{office_public_key}"\n'

    tmp.mkdir(parents=True, exist_ok=True)
    db_path = tmp / "kassa.sqlite3"
    key_path = tmp / "journal_ed25519.pem"
    config_path = tmp / "kassa.toml"
    config_path.write_text(
        f'[terminal]\nstore = "{store}"\nterminal = "{terminal}"\nsigning_key = "{key_path}"\n'
        f'[database]\npath = "{db_path}"\n'
        f'[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {broker_port}\nkeepalive = 5\n'
        f"resend_seconds = {resend_seconds}\nbackoff_max_seconds = 1\n{extra_mqtt}"
    )
    key = load_or_create_key(key_path)
    db = open_database(db_path)
    return Till(store, terminal, config_path, db_path, key, db,
                Journal(db, key, store, terminal))


def kassa(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "cli", *args], cwd=ROOT, env=env,
                            **kwargs)


def start_uplink(till: Till, **kwargs) -> subprocess.Popen:
    return kassa("--config", str(till.config_path), "uplink", **kwargs)


def start_ingest(db_url: str, broker_port: int, workers: int = 2,
                 prefix: str = "kassa-ingest") -> subprocess.Popen:
    return kassa("office", "--db", db_url, "ingest", "--workers", str(workers),
                 "--mqtt-port", str(broker_port), "--client-prefix", prefix)


def stop(proc: subprocess.Popen, timeout: float = 15) -> int:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
    return proc.returncode


def wait_until(predicate: Callable[[], bool], timeout: float, what: str,
               interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def office_entries(terminal: str) -> list[tuple[int, str]]:
    from headoffice.models import OfficeEntry

    return list(OfficeEntry.select(OfficeEntry.seq, OfficeEntry.hash)
                .where(OfficeEntry.terminal == terminal).order_by(OfficeEntry.seq).tuples())


def verify_office_chain(terminal: str, till: Till) -> int:
    """Re-checks head office's copy of a terminal's journal; returns the entries checked."""
    from headoffice.models import OfficeEntry

    prev = chain.GENESIS
    expected = 1
    for row in (OfficeEntry.select().where(OfficeEntry.terminal == terminal)
                .order_by(OfficeEntry.seq)):
        assert row.seq == expected, f"head office is missing entry {expected}"
        assert row.prev == prev.hex()
        problem = chain.check_entry(prev, row.body, row.hash, row.sig, till.key.public_key(),
                                    expected_seq=row.seq)
        assert problem is None, f"entry {row.seq}: {problem}"
        prev, expected = bytes.fromhex(row.hash), expected + 1
    return expected - 1


def dead_letter_counts() -> dict[str, int]:
    from headoffice.models import DeadLetterCount

    return {row.reason: row.count for row in DeadLetterCount.select()}


def dead_letters_total() -> int:
    """Every message refused, exactly (the rows themselves are capped per terminal)."""
    from headoffice.models import DeadLetterCount

    return sum(row.count for row in DeadLetterCount.select())


def wait_ingest_ready(broker, workers: int = 2, prefix: str = "kassa-ingest") -> None:
    """Waits until every worker has connected (and so subscribed) to the broker."""
    ids = [f"as {prefix}-{i} " for i in range(workers)]
    wait_until(lambda: all(i in broker.log() for i in ids), 30, "the ingest workers to connect")
    time.sleep(0.3)


def publish_bare(port: int, messages: list[tuple[str, int, bytes]], inflight: int) -> float:
    """Seconds for plain paho to publish (topic, seq, payload) messages at QoS 1, with the
    uplink's user properties, until every PUBACK is in: the benchmarks' reference."""
    import threading

    import paho.mqtt.client as mqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    done = threading.Event()
    count = 0

    def on_publish(*_args) -> None:
        nonlocal count
        count += 1
        if count == len(messages):
            done.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(inflight)
    client.max_queued_messages_set(0)
    client.on_publish = on_publish
    client.connect("127.0.0.1", port)
    client.loop_start()
    start = time.perf_counter()
    for topic, seq, payload in messages:
        props = Properties(PacketTypes.PUBLISH)
        props.UserProperty = [("seq", str(seq)), ("schema", "1")]
        client.publish(topic, payload, qos=1, properties=props)
    done.wait(300)
    elapsed = time.perf_counter() - start
    client.loop_stop()
    client.disconnect()
    return elapsed


def catalogue_message(count: int, version: int, price_offset: int = 0, mode: str = "full",
                      base: int | None = None) -> bytes:
    """A catalogue message of `count` products with GTINs and PLUs (as head office sends it)."""
    import json

    from firmware.sim import make_gtin

    products = [{"gtin": make_gtin(n), "plu": str(n % 1_000_000), "name": f"Product {n}",
                 "price_cents": 100 + (n + price_offset) % 5000,
                 "vat_code": "low" if n % 3 else "high", "category": f"group {n % 40}"}
                for n in range(1, count + 1)]
    message = {"version": version, "mode": mode, "products": products}
    if base is not None:
        message["base"] = base
    return json.dumps(message).encode()


def _sell(db_path: str, key_path: str, store: str, terminal: str, stop, waits, pause: float
          ) -> None:
    """A till selling in its own process: one journal entry per transaction, each commit's
    wall time (including any wait for the write lock) put on `waits`; an error as a string."""
    db = open_database(db_path)
    journal = Journal(db, load_or_create_key(Path(key_path)), store, terminal)
    while not stop.is_set():
        start = time.perf_counter()
        try:
            with journal.transaction():
                journal.append("cash_in", {"amount": 100, "reason": "sale beside an apply"},
                               cashier="anna")
        except Exception as exc:  # reported to the test, which fails on it
            waits.put(f"{type(exc).__name__}: {exc}")
            return
        waits.put(time.perf_counter() - start)
        time.sleep(pause)
    db.close()


class Seller:
    """Sells on a till's database from another process while the test does something else."""

    def __init__(self, till: Till, pause: float = 0.02) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        self.stop_event, self.queue = ctx.Event(), ctx.Queue()
        self.proc = ctx.Process(target=_sell, daemon=True, args=(
            str(till.db_path), str(till.config_path.parent / "journal_ed25519.pem"), till.store,
            till.terminal, self.stop_event, self.queue, pause))

    def __enter__(self) -> Seller:
        self.proc.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop_event.set()
        self.proc.join(30)
        if self.proc.is_alive():
            self.proc.kill()

    def waits(self) -> list[float]:
        """Every sale's commit time so far; raises AssertionError if a sale failed."""
        import queue as queue_module

        out: list[float] = []
        while True:
            try:
                item = self.queue.get(timeout=0.5)
            except queue_module.Empty:
                return out
            if isinstance(item, str):
                raise AssertionError(f"a sale failed during the apply: {item}")
            out.append(item)
