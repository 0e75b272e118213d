"""`kassa uplink`: publishes the journal until head office confirms it; applies downstream.

The MQTT side is firmware/uplink/connection.py (the one place that builds a client); this
module is the protocol on top of it and imports no paho.

Threads: the network thread only records what arrived (acks, commands, PUBACKs, downstream
messages) in queues and flags, through the LinkEvents methods below; the main thread does
all database work, so the SQLite connection never crosses threads and no paho lock is held
while we wait on ours.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import peewee

from contract import wire
from contract.config import MqttConfig
from contract.version import SOFTWARE_VERSION
from firmware import device_state
from firmware.uplink.connection import Connection, Will
from firmware.uplink.downstream import (
    CATALOGUE_VERSION,
    CONFIG_VERSION,
    Downstream,
    OutOfSequence,
    Rejected,
    applied_version,
)
from firmware.uplink.outbox import Outbox

log = logging.getLogger("kassa.uplink")

STATUS_EVERY = 5.0  # seconds between status refreshes while the backlog changes
RESEND_MAX = 300.0  # longest wait between resends while head office stays silent
ACK_GRACE = 0.2  # seconds to wait for the retained ack after subscribing
LINK_EVERY = 30.0  # seconds between `link` heartbeats in the database while connected
DEVICES_EVERY = 1.0  # seconds between reads of the till's device states for `status`



@dataclass
class Counters:
    published: int = 0
    refused: int = 0
    rejected: int = 0
    applied: int = 0
    resends: int = 0
    replays: int = 0


class Uplink:
    """One terminal's MQTT link. Create, then call run(stop_event) in the main thread.

    The client id is the terminal id, which is the CN of the terminal's certificate; pass
    another only where no certificate is used (a benchmark on a local broker)."""

    def __init__(self, db: peewee.SqliteDatabase, store: str, terminal: str, cfg: MqttConfig,
                 client_id: str | None = None) -> None:
        self.db, self.store, self.terminal, self.cfg = db, store, terminal, cfg
        self.outbox = Outbox(db)
        self.downstream = Downstream(db)
        self.counters = Counters()
        self.acked = self.outbox.acked()
        self.next_seq = self.acked + 1
        self._ho_ack = self.acked  # written by the network thread, read by the main thread
        self._replay_from: int | None = None
        self._connected = False
        self._connections = 0
        self._subscribed = -1  # the connection whose SUBACK arrived
        self._seen_connections = 0
        self._pubacks: queue.SimpleQueue[tuple[int, int]] = queue.SimpleQueue()
        self._inbox: queue.SimpleQueue[tuple[str, bytes]] = queue.SimpleQueue()
        self._pending_deltas: dict[str, bytes] = {}
        self._inflight: dict[int, int] = {}  # mid -> seq, main thread only
        self._wake = threading.Event()
        self._last_progress = time.monotonic()
        self._pause_until = 0.0
        self._resend_wait = float(cfg.resend_seconds)
        self._ack_grace_until: float | None = None
        self._status_sent: tuple[int, int, int, str] | None = None
        self._status_at = 0.0
        self._devices: dict[str, Any] = {}  # the till's printer/drawer/scanner states
        self._devices_at = float("-inf")
        self._link_written: tuple[bool, float] | None = None  # (connected, when), main thread
        self.topic = {leaf: wire.terminal_topic(store, terminal, leaf)
                      for leaf in ("journal", "status", "ack", "cmd")}
        self._downstream_topics = {
            wire.store_topic(store, "catalogue"): "catalogue",
            wire.store_topic(store, "prices"): "prices",
            wire.store_topic(store, "offers"): "offers",
            wire.FLEET_CONFIG_TOPIC: "config",
        }
        will = Will(self.topic["status"], self._status_payload("offline", with_state=False))
        self.connection = Connection(
            cfg, client_id or terminal, will,
            [self.topic["ack"], self.topic["cmd"], *self._downstream_topics], events=self)

    # -- LinkEvents: called on the network thread; they only record and wake ---------------
    def connected(self) -> None:
        self._connections += 1
        self._connected = True
        log.info("connected to %s:%s", self.cfg.host, self.cfg.port)
        self._wake.set()

    def refused(self, reason: str) -> None:
        log.error("broker refused the connection: %s", reason)

    def subscribed(self) -> None:
        self._subscribed = self._connections
        self._wake.set()

    def disconnected(self, reason: str) -> None:
        self._connected = False
        log.warning("disconnected from broker: %s", reason)
        self._wake.set()

    def published(self, mid: int, reason_code: int) -> None:
        self._pubacks.put((mid, reason_code))
        self._wake.set()

    def received(self, topic: str, payload: bytes) -> None:
        try:
            if topic == self.topic["ack"]:
                self._ho_ack = max(self._ho_ack, wire.decode_ack(payload))
            elif topic == self.topic["cmd"]:
                cmd = wire.decode_cmd(payload)
                if cmd["cmd"] == "replay":
                    seq = cmd["from_seq"]
                    current = self._replay_from
                    self._replay_from = seq if current is None else min(current, seq)
                else:
                    log.info("command %r is not handled by the uplink", cmd["cmd"])
            elif topic in self._downstream_topics:
                self._inbox.put((self._downstream_topics[topic], payload))
        except wire.ProtocolError as exc:
            log.error("ignored a bad message on %s: %s", topic, exc)
        self._wake.set()

    # -- main thread -----------------------------------------------------------------------
    def run(self, stop: threading.Event,
            until: Callable[[Uplink], bool] | None = None) -> None:
        """Runs until `stop` is set (or `until(self)` is true); says offline on the way out."""
        self.connection.start()
        try:
            while not stop.is_set():
                self._wake.wait(0.2)
                self._wake.clear()
                self.step()
                if until is not None and until(self):
                    break
        finally:
            self._shutdown()

    def backlog(self) -> int:
        return max(0, self.outbox.head() - self.acked)

    def step(self) -> None:
        """One round: take acks and PUBACKs in, apply downstream, publish what is due."""
        now = time.monotonic()
        ho_ack = self._ho_ack
        if ho_ack > self.acked:
            self.acked = self.outbox.record_ack(ho_ack)
            self.next_seq = max(self.next_seq, self.acked + 1)
            self._last_progress = now
            self._resend_wait = float(self.cfg.resend_seconds)
        self._take_pubacks(now)
        if self._connections != self._seen_connections:
            self._seen_connections = self._connections
            self._inflight.clear()
            self.next_seq = self.acked + 1  # republish all that head office has not confirmed
            self._status_sent = None
            self._ack_grace_until = None
        if self._subscribed == self._connections and self._ack_grace_until is None:
            # the retained ack follows the SUBACK: a moment's wait saves resending what
            # head office already holds (after a reinstall of the till, say)
            self._ack_grace_until = now + ACK_GRACE
        replay, self._replay_from = self._replay_from, None
        if replay is not None:
            # honoured even below our ack: head office may have lost what it confirmed
            # (restored from a backup); the journal still holds every entry
            self.counters.replays += 1
            self.next_seq = max(1, min(self.next_seq, replay))
        if self.next_seq <= self.acked + 1 and not self._inflight:
            self._last_progress = now
            self._resend_wait = float(self.cfg.resend_seconds)
        elif now - self._last_progress > self._resend_wait:
            log.warning("no confirmation from head office for %.0fs; sending again from %s",
                        self._resend_wait, self.acked + 1)
            self.counters.resends += 1
            self.next_seq = self.acked + 1
            self._last_progress = now
            # head office down for long: do not flood the broker (and the queues it keeps
            # for head office's sessions) with the same window again and again
            self._resend_wait = min(self._resend_wait * 2,
                                    max(RESEND_MAX, float(self.cfg.resend_seconds)))
        self._apply_downstream()
        self._record_link(now)
        ready = self._ack_grace_until is not None and now >= self._ack_grace_until
        if self._connected and ready and now >= self._pause_until:
            self._publish_due()
            self._publish_status(now)

    def _record_link(self, now: float) -> None:
        """on_connect/on_disconnect only flip a flag (network thread); the database write of
        the change, and a heartbeat while connected, happen here on the main thread."""
        connected = self._connected
        last = self._link_written
        if last is None or last[0] != connected or (connected and now - last[1] >= LINK_EVERY):
            self.outbox.record_link(connected)
            self._link_written = (connected, now)

    def _take_pubacks(self, now: float) -> None:
        while True:
            try:
                mid, code = self._pubacks.get_nowait()
            except queue.Empty:
                return
            seq = self._inflight.pop(mid, None)
            if seq is not None and code >= 0x80:
                self.counters.refused += 1
                log.error("ALERT: broker refused journal entry %s (reason code 0x%02x); it stays"
                          " unsent and is retried", seq, code)
                self.next_seq = min(self.next_seq, seq)
                self._pause_until = now + min(5.0, self.cfg.backoff_max_seconds)
                self._status_sent = None

    def _publish_due(self) -> None:
        room = min(self.cfg.inflight - len(self._inflight),
                   self.acked + self.cfg.window + 1 - self.next_seq)
        if room <= 0:
            return
        for item in self.outbox.read(self.next_seq, room):
            mid = self.connection.publish(
                self.topic["journal"], item.payload,
                user_properties=[("seq", str(item.seq)), ("schema", wire.SCHEMA)])
            if mid is None:
                break  # connection just dropped; everything unconfirmed goes again later
            self._inflight[mid] = item.seq
            self.next_seq = item.seq + 1
            self.counters.published += 1

    def _apply_downstream(self) -> None:
        while True:
            try:
                kind, payload = self._inbox.get_nowait()
            except queue.Empty:
                break
            self._apply_one(kind, payload, retry_pending=True)

    def _apply_one(self, kind: str, payload: bytes, retry_pending: bool) -> None:
        try:
            outcome = self.downstream.apply(kind, payload)
        except OutOfSequence as exc:
            log.warning("%s message waits for a newer base: %s", kind, exc)
            self._pending_deltas[kind] = payload
            return
        except Rejected as exc:
            self.counters.rejected += 1
            self._status_sent = None
            log.error("ALERT: rejected %s message from head office: %s", kind, exc)
            return
        log.info("%s", outcome.detail)
        if outcome.applied:
            self.counters.applied += 1
            self._status_sent = None
            if retry_pending and self._pending_deltas:
                pending, self._pending_deltas = self._pending_deltas, {}
                for other_kind, other in pending.items():
                    self._apply_one(other_kind, other, retry_pending=False)

    def _status_payload(self, state: str, with_state: bool = True) -> bytes:
        status: dict[str, Any] = {"state": state, "store": self.store, "terminal": self.terminal,
                                  "ts": time.time_ns() // 1_000_000}
        if with_state:
            head = self.outbox.head()
            status.update({
                "head": head, "acked": self.acked, "backlog": max(0, head - self.acked),
                "refused": self.counters.refused, "rejected": self.counters.rejected,
                "devices": self._devices,
                "versions": {"software": SOFTWARE_VERSION,
                             "catalogue": applied_version(CATALOGUE_VERSION),
                             "config": applied_version(CONFIG_VERSION)},
            })
        return wire.encode_status(status)

    def _read_devices(self, now: float) -> str:
        """The states the till records (firmware/device_state.py), re-read now and then;
        returns a fingerprint so a change is published."""
        if now - self._devices_at >= DEVICES_EVERY:
            self._devices, self._devices_at = device_state.read_all(self.db), now
        return repr(sorted(self._devices.items()))

    def _publish_status(self, now: float) -> None:
        head = self.outbox.head()
        key = (head, self.acked, self.counters.refused + self.counters.rejected,
               self._read_devices(now))
        if key == self._status_sent or (self._status_sent is not None
                                        and now - self._status_at < STATUS_EVERY
                                        and key[1] != key[0]):
            return
        self.connection.publish(self.topic["status"], self._status_payload("online"),
                                retain=True)
        self._status_sent, self._status_at = key, now

    def _shutdown(self) -> None:
        try:
            if self._connected:
                self.connection.publish(self.topic["status"], self._status_payload("offline"),
                                        retain=True, wait=2)
        finally:
            self.connection.close()
            self._connected = False
            self.outbox.record_link(False)


def drained(uplink: Uplink) -> bool:
    """An `until` for run(): everything in the journal is confirmed by head office."""
    return uplink.backlog() == 0


__all__ = ["Uplink", "drained"]
