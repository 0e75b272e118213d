"""One process of soak terminals: each a real journal and the real uplink, many per process.

Run by the soak runner: `python -m bench.soak.terminals SPEC.json`. Per terminal: its own
SQLite journal (firmware.db, WAL, synchronous=FULL), sales appended through
firmware.journal.Journal (schema-checked, chained, signed with the terminal's enrolled
Ed25519 key), and firmware.uplink.client.Uplink over its own mTLS connection with the
terminal's enrolled certificate (paho's network thread per terminal, as on a till).

What is simulated: the till UI (sales are appended at a Poisson pace from real sale
bodies), and the uplink's main loop. The real `kassa uplink` wakes every 0.2 s; here one
thread per process drives all its terminals' `Uplink.step()`: at once when the terminal's
connection reports something (PUBACK, ack, connect) or a sale commits, else every
PERIODIC seconds. The till models are bound to one database at a time (peewee binds
models globally), so this thread rebinds them before it touches a terminal.
"""

from __future__ import annotations

import contextlib
import dataclasses
import heapq
import json
import logging
import os
import queue
import random
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from contract import wire
from contract.config import MqttConfig, parse_config
from firmware import models
from firmware.db import open_database
from firmware.journal import Journal
from firmware.signing import load_or_create_key
from firmware.uplink.client import Uplink

PERIODIC = 1.0  # seconds between steps of a terminal nothing happened to
START_BATCH = 25  # connections opened per START_PAUSE at start-up
START_PAUSE = 0.1
FLOOD_OUTSTANDING = 500  # the flood keeps at most this many unacknowledged publishes


class SoakUplink(Uplink):
    """The real uplink; its connection events also tell the process loop it has work."""

    def __init__(self, index: int, hub: queue.SimpleQueue, *args: Any) -> None:
        super().__init__(*args)
        self.index, self.hub = index, hub
        self.connects = 0
        self.pubacks = 0

    def connected(self) -> None:
        super().connected()
        self.connects += 1
        self.hub.put(self.index)

    def subscribed(self) -> None:
        super().subscribed()
        self.hub.put(self.index)

    def disconnected(self, reason: str) -> None:
        super().disconnected(reason)
        self.hub.put(self.index)

    def published(self, mid: int, reason_code: int) -> None:
        super().published(mid, reason_code)
        self.pubacks += 1
        self.hub.put(self.index)

    def received(self, topic: str, payload: bytes) -> None:
        super().received(topic, payload)
        self.hub.put(self.index)

    @property
    def is_connected(self) -> bool:
        return self.connects > 0 and self.connection.client.is_connected()


@dataclasses.dataclass
class SoakTerminal:
    store: str
    terminal: str
    role: str
    db: Any
    journal: Journal
    uplink: SoakUplink
    commits: list[float] = dataclasses.field(default_factory=list)
    sent: list[float] = dataclasses.field(default_factory=list)  # first handed to the link
    acked: list[float] = dataclasses.field(default_factory=list)  # head office's ack came
    sent_extra: int = 0  # flood or poison messages published
    valid_extra: int = 0  # of the flood: valid, signed entries sent again
    poisoned_for: int = 0  # the connection the poison was last sent on
    stepped: float = 0.0

    def track(self, now: float) -> None:
        """When each sale was first handed to the connection, and when its ack came."""
        sent = min(self.uplink.next_seq - 1, len(self.commits))
        self.sent += [now] * max(0, sent - len(self.sent))
        acked = min(self.uplink.acked, len(self.commits))
        self.acked += [now] * max(0, acked - len(self.acked))

    def bind(self) -> None:
        self.db.bind(models.ALL_MODELS, bind_refs=False, bind_backrefs=False)


def mqtt_config(bundle: Path, host: str, port: int) -> MqttConfig:
    """The bundle's own [mqtt] section, with its /etc/kassa paths pointed into the bundle."""
    cfg = parse_config((bundle / "kassa.toml").read_text(), str(bundle / "kassa.toml")).mqtt
    return dataclasses.replace(cfg, host=host, port=port, ca_file=str(bundle / "ca.crt"),
                               cert_file=str(bundle / "client.crt"),
                               key_file=str(bundle / "client.key"),
                               office_public_key=str(bundle / "office_ed25519.pub"))


class Process:
    """The terminals of one process and the loop that drives them."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.hub: queue.SimpleQueue[int] = queue.SimpleQueue()
        self.stop = threading.Event()
        self.rng = random.Random(spec["seed"])
        self.templates: list[dict[str, Any]] = json.loads(Path(spec["templates"]).read_text())
        self.terminals: list[SoakTerminal] = []
        for index, member in enumerate(spec["members"]):
            bundle = Path(member["bundle"])
            db = open_database(Path(spec["workdir"]) / f"{member['terminal']}.sqlite3")
            # one till's page cache is bounded (16 MB) on its own device; 125 of them in one
            # process would each fill theirs with their whole (small) journal, and the
            # process's RSS would grow with the journals and hide any real leak
            db.execute_sql(f"PRAGMA cache_size = -{int(spec.get('till_cache_kb', 64))}")
            key = load_or_create_key(bundle / "journal_ed25519.pem")
            cfg = mqtt_config(bundle, spec["host"], spec["port"])
            uplink = SoakUplink(index, self.hub, db, member["store"], member["terminal"], cfg)
            self.terminals.append(SoakTerminal(
                member["store"], member["terminal"], member["role"], db,
                Journal(db, key, member["store"], member["terminal"]), uplink))
        self.poison: dict[int, list[tuple[bytes, str]]] = {}
        for index, t in enumerate(self.terminals):
            if t.role == "poison" and spec["poison"]:
                from bench.soak.payloads import poison_messages

                self.poison[index] = poison_messages(t.store, t.terminal, t.journal.key)

    # -- the loop ------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        for n, t in enumerate(self.terminals):
            t.uplink.connection.start()
            if n % START_BATCH == START_BATCH - 1:
                time.sleep(START_PAUSE)
        interval = self.spec["sale_interval"]
        sales = [(time.time() + self.rng.expovariate(1 / interval), i)
                 for i in range(len(self.terminals))]
        heapq.heapify(sales)
        flood = [i for i, t in enumerate(self.terminals) if t.role == "flood"]
        flood_gap = 1.0 / self.spec["flood_rate"] if self.spec["flood_rate"] > 0 else None
        next_flood = time.time()
        sell_until, drain_until = self.spec["sell_until"], self.spec["drain_until"]
        while not self.stop.is_set():
            now = time.time()
            selling = now < sell_until
            while selling and sales and sales[0][0] <= now:
                _, i = heapq.heappop(sales)
                self._sell(i)
                heapq.heappush(sales, (now + self.rng.expovariate(1 / interval), i))
            if selling and flood_gap is not None and now >= next_flood:
                for i in flood:
                    self._flood(i, max(1, int((now - next_flood) / flood_gap) + 1))
                next_flood = now + flood_gap
            self._step_due(time.monotonic())
            if not selling and (self._all_acked() or now >= drain_until):
                break
            wait = min(PERIODIC / 4, (sales[0][0] - now) if selling and sales else PERIODIC)
            if flood_gap is not None and selling:
                wait = min(wait, flood_gap)
            with contextlib.suppress(queue.Empty):  # a wake-up: put back what woke us
                self.hub.put(self.hub.get(timeout=max(0.001, wait)))
        return self._finish()

    def _sell(self, i: int) -> None:
        t = self.terminals[i]
        t.bind()
        data = self.templates[len(t.commits) % len(self.templates)]
        with t.journal.transaction():
            t.journal.append("sale", data, cashier="anna")
        t.commits.append(time.time())
        self.hub.put(i)

    def _flood(self, i: int, count: int) -> None:
        from bench.soak.payloads import flood_message

        t = self.terminals[i]
        if not t.uplink.is_connected:
            return
        topic = wire.terminal_topic(t.store, t.terminal, "journal")
        t.bind()
        head = t.uplink.outbox.head()
        for _ in range(count):
            if t.sent_extra + t.uplink.counters.published - t.uplink.pubacks > FLOOD_OUTSTANDING:
                return
            if head and self.rng.random() < self.spec.get("flood_valid", 0.5):
                # valid: one of its own entries again, correctly signed (a duplicate)
                entry = t.uplink.outbox.read(self.rng.randint(1, head), 1)[0]
                payload, seq = entry.payload, str(entry.seq)
                t.valid_extra += 1
            else:
                payload, seq = flood_message(self.rng)
            if t.uplink.connection.publish(topic, payload, user_properties=[
                    ("seq", seq), ("schema", wire.SCHEMA)]) is not None:
                t.sent_extra += 1

    def _poison(self, i: int) -> None:
        t = self.terminals[i]
        if t.uplink.connects == t.poisoned_for or not t.uplink.is_connected:
            return
        topic = wire.terminal_topic(t.store, t.terminal, "journal")
        for payload, seq in self.poison[i]:
            if t.uplink.connection.publish(topic, payload, user_properties=[
                    ("seq", seq), ("schema", wire.SCHEMA)]) is not None:
                t.sent_extra += 1
        t.poisoned_for = t.uplink.connects

    def _step_due(self, mono: float) -> None:
        due: set[int] = set()
        while True:
            try:
                due.add(self.hub.get_nowait())
            except queue.Empty:
                break
        for i, t in enumerate(self.terminals):
            if i in due or mono - t.stepped >= PERIODIC:
                t.bind()
                t.uplink.step()
                t.stepped = mono
                t.track(time.time())
                if i in self.poison:
                    self._poison(i)

    def _all_acked(self) -> bool:
        for t in self.terminals:
            t.bind()
            if t.uplink.backlog():
                return False
        return True

    def _finish(self) -> dict[str, Any]:
        out = []
        for t in self.terminals:
            t.bind()
            c = t.uplink.counters
            out.append({"store": t.store, "terminal": t.terminal, "role": t.role,
                        "commits": t.commits, "sent": t.sent, "acked_at": t.acked,
                        "head": t.uplink.outbox.head(),
                        "acked": t.uplink.acked, "published": c.published,
                        "resends": c.resends, "refused": c.refused,
                        "connects": t.uplink.connects, "extra_sent": t.sent_extra,
                        "valid_extra": t.valid_extra})
        return {"terminals": out}

    def close(self) -> None:
        for t in self.terminals:
            # paho's loop_stop can race its own network thread ending after disconnect
            with contextlib.suppress(AttributeError):
                t.uplink.connection.close()
            t.db.close()


def trace_memory(path: str, stop: threading.Event, first: float = 60.0,
                 every: float = 60.0) -> threading.Thread:
    """Diagnosis (KASSA_SOAK_TRACEMALLOC=file): Python allocations that grew since the
    snapshot `first` seconds in, by line, written to `path` every `every` seconds."""
    import tracemalloc

    tracemalloc.start(1)

    def run() -> None:
        if stop.wait(first):
            return
        base = tracemalloc.take_snapshot()
        while not stop.wait(every):
            diff = tracemalloc.take_snapshot().compare_to(base, "lineno")
            lines = [f"traced {tracemalloc.get_traced_memory()[0] / 2**20:.1f} MB"]
            lines += [str(d) for d in diff[:25]]
            Path(path).write_text("\n".join(lines) + "\n")

    thread = threading.Thread(target=run, name="tracemalloc", daemon=True)
    thread.start()
    return thread


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    proc = Process(spec)
    signal.signal(signal.SIGTERM, lambda *_: proc.stop.set())
    if os.environ.get("KASSA_SOAK_TRACEMALLOC"):
        trace_memory(os.environ["KASSA_SOAK_TRACEMALLOC"] + f".{os.getpid()}", proc.stop)
    result = proc.run()
    tmp = Path(spec["result"] + ".tmp")
    tmp.write_text(json.dumps(result))
    tmp.rename(spec["result"])
    proc.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
