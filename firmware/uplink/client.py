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

from contract import signup as signup_wire
from contract import wire
from contract.config import MqttConfig
from contract.keys import PublicKey
from contract.release_notice import MAX_NOTICE_BYTES
from contract.version import SOFTWARE_VERSION
from firmware import device_state, signup
from firmware.db import DatabaseBusy
from firmware.offers import OFFERS_VERSION
from firmware.office_key import fingerprint, pinned_office_key
from firmware.software import keep_release_notice
from firmware.uplink.backoff import Backoff
from firmware.uplink.connection import Connection, Will
from firmware.uplink.downstream import (
    CATALOGUE_VERSION,
    CONFIG_VERSION,
    IGNORED,
    PROMOTIONS_VERSION,
    Downstream,
    OutOfSequence,
    Rejected,
    applied_version,
    config_live,
    reject_summary,
)
from firmware.uplink.outbox import Outbox

log = logging.getLogger("kassa.uplink")

STATUS_EVERY = 5.0  # seconds between status refreshes while the backlog changes
RESEND_MAX = 300.0  # longest wait between resends while head office stays silent or refuses
REFUSAL_FIRST = 1.0  # seconds before the first retry of a publish the broker refused
ACK_GRACE = 0.2  # seconds to wait for the retained ack after subscribing
LINK_EVERY = 30.0  # seconds between `link` heartbeats in the database while connected
DEVICES_EVERY = 1.0  # seconds between reads of the till's device states for `status`
FLEET_KINDS = frozenset({"config"})  # kinds that come on the fleet's topic, sealed for FLEET



@dataclass
class Counters:
    published: int = 0
    refused: int = 0
    rejected: int = 0
    applied: int = 0
    resends: int = 0
    replays: int = 0
    ignored: int = 0
    busy: int = 0  # downstream messages put off because the database stayed locked


class Uplink:
    """One terminal's MQTT link. Create, then call run(stop_event) in the main thread.

    The client id is the terminal id, which is the CN of the terminal's certificate; pass
    another only where no certificate is used (a benchmark on a local broker). Head office's
    public key is `office_key`, else the file `cfg.office_public_key` names (a ConfigError
    when that file is unusable); with neither, every downstream message is refused."""

    def __init__(self, db: peewee.SqliteDatabase, store: str, terminal: str, cfg: MqttConfig,
                 client_id: str | None = None, office_key: PublicKey | None = None) -> None:
        self.db, self.store, self.terminal, self.cfg = db, store, terminal, cfg
        self.outbox = Outbox(db)
        if office_key is None:
            office_key = pinned_office_key(cfg, "[mqtt]")
        self.office_key = office_key
        self.downstream = Downstream(db, store, office_key)
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
        self._signup_acks: queue.SimpleQueue[list[str]] = queue.SimpleQueue()
        self._signups_sent: dict[str, float] = {}  # sign-up id -> when published, main thread
        self._inflight: dict[int, int] = {}  # mid -> seq, main thread only
        self._wake = threading.Event()
        self._last_progress = time.monotonic()
        self._pause_until = 0.0
        resend_cap = max(RESEND_MAX, float(cfg.resend_seconds))
        self._silence = Backoff(float(cfg.resend_seconds), resend_cap)
        self._resend_wait = self._silence.next()
        self._refusals = Backoff(REFUSAL_FIRST, resend_cap)
        self._replays = Backoff(float(cfg.resend_seconds), resend_cap)
        self._replay_not_before = 0.0
        # after a resend or a refusal only the oldest unconfirmed entry goes out, until head
        # office confirms it (or the broker takes it): a refusal loop costs one message a round
        self._probing: str | None = None  # None, "silent" or "refused"
        self._retry: list[tuple[float, str, bytes]] = []  # downstream put off while busy
        self._downstream_busy = Backoff(1.0, 60.0)
        self._ack_grace_until: float | None = None
        self._status_sent: tuple[int, int, int, str] | None = None
        self._status_at = 0.0
        self._devices: dict[str, Any] = {}  # the till's printer/drawer/scanner states
        self._devices_at = float("-inf")
        self._config_live: dict[str, Any] = {}
        self._link_written: tuple[bool, float] | None = None  # (connected, when), main thread
        self.topic = {leaf: wire.terminal_topic(store, terminal, leaf)
                      for leaf in ("journal", "status", "ack", "cmd",
                                   signup_wire.SIGNUP_LEAF, signup_wire.SIGNUP_ACK_LEAF)}
        self._downstream_topics = {
            wire.store_topic(store, "catalogue"): "catalogue",
            wire.store_topic(store, "prices"): "prices",
            wire.store_topic(store, "offers"): "offers",
            wire.store_topic(store, "promotions"): "promotions",
            wire.FLEET_CONFIG_TOPIC: "config",
            wire.FLEET_RELEASE_TOPIC: "release",
        }
        will = Will(self.topic["status"], self._status_payload("offline", with_state=False))
        self.connection = Connection(
            cfg, client_id or terminal, will,
            [self.topic["ack"], self.topic["cmd"], self.topic[signup_wire.SIGNUP_ACK_LEAF],
             *self._downstream_topics], events=self)

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
            elif topic == self.topic[signup_wire.SIGNUP_ACK_LEAF]:
                self._signup_acks.put(signup_wire.decode_signup_ack(payload))
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
            self._progress(now)
        self._take_pubacks(now)
        if self._connections != self._seen_connections:
            self._seen_connections = self._connections
            self._inflight.clear()
            self.next_seq = self.acked + 1  # republish all that head office has not confirmed
            # a new connection (the broker or head office may have been restarted) gets the
            # whole window once and a fresh first wait; the backoff's step is kept
            self._probing = None
            self._last_progress = now
            self._resend_wait = float(self.cfg.resend_seconds)
            self._status_sent = None
            self._ack_grace_until = None
            self._signups_sent.clear()  # unconfirmed sign-ups go again on the new connection
        if self._subscribed == self._connections and self._ack_grace_until is None:
            # the retained ack follows the SUBACK: a moment's wait saves resending what
            # head office already holds (after a reinstall of the till, say)
            self._ack_grace_until = now + ACK_GRACE
        self._take_replay(now)
        if self.next_seq <= self.acked + 1 and not self._inflight:
            self._last_progress = now
            if self._probing != "refused":
                self._silence.reset()
                self._resend_wait = self._silence.next()
        elif self._connected and now - self._last_progress > self._resend_wait:
            log.warning("no confirmation from head office for %.0fs; sending entry %s again"
                        " and waiting for it", self._resend_wait, self.acked + 1)
            self.counters.resends += 1
            self.next_seq = self.acked + 1
            self._last_progress = now
            # head office down or refusing for long: one entry a round, at growing intervals,
            # not the same window again and again into the broker's queues
            self._probing = self._probing or "silent"
            self._resend_wait = self._silence.next()
        self._apply_downstream(now)
        self._take_signup_acks()
        self._record_link(now)
        ready = self._ack_grace_until is not None and now >= self._ack_grace_until
        if self._connected and ready and now >= self._pause_until:
            self._publish_due()
            self._publish_signups(now)
            self._publish_status(now)

    def _progress(self, now: float) -> None:
        """Head office confirmed more: back to the full window and the first waits."""
        self._last_progress = now
        self._probing = None
        for backoff in (self._silence, self._refusals, self._replays):
            backoff.reset()
        self._resend_wait = self._silence.next()
        self._replay_not_before = 0.0

    def _take_replay(self, now: float) -> None:
        """A replay request from head office, honoured at once the first time; repeated ones
        without progress wait (with backoff), so a head office stuck asking cannot make the
        till resend its window in a loop."""
        if self._replay_from is None or now < self._replay_not_before:
            return
        replay, self._replay_from = self._replay_from, None
        # honoured even below our ack: head office may have lost what it confirmed
        # (restored from a backup); the journal still holds every entry
        self.counters.replays += 1
        self.next_seq = max(1, min(self.next_seq, replay))
        self._replay_not_before = now + self._replays.next()

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
            if seq is None:
                continue
            if code < 0x80:
                if self._probing == "refused":  # the broker takes our entries again
                    self._probing = None
                    self._refusals.reset()
                continue
            self.counters.refused += 1
            self.next_seq = min(self.next_seq, seq)
            self._status_sent = None
            if now < self._pause_until:
                continue  # the rest of a refused round: one wait for all of it
            self._probing = "refused"
            wait = self._refusals.next()
            self._pause_until = now + wait
            log.error("ALERT: broker refused journal entry %s (reason code 0x%02x); it stays"
                      " unsent and is tried again in %.1fs", seq, code, wait)

    def _publish_due(self) -> None:
        room = min(self.cfg.inflight - len(self._inflight),
                   self.acked + self.cfg.window + 1 - self.next_seq)
        if self._probing == "refused":  # the refused entry alone, until the broker takes it
            room = min(room, 1 - len(self._inflight))
        elif self._probing == "silent":  # the oldest unconfirmed entry alone
            room = min(room, self.acked + 2 - self.next_seq)
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

    def _take_signup_acks(self) -> None:
        """Head office has the customer: the sign-up (an e-mail address) leaves the till."""
        while True:
            try:
                ids = self._signup_acks.get_nowait()
            except queue.Empty:
                return
            try:
                gone = signup.delete(self.db, ids)
            except DatabaseBusy as exc:
                log.warning("sign-up acknowledgement put off: %s", exc)
                self._signup_acks.put(ids)
                return
            for signup_id in ids:
                self._signups_sent.pop(signup_id, None)
            if gone:
                self._status_sent = None
                log.info("head office took %d sign-up(s); deleted here", gone)

    def _publish_signups(self, now: float) -> None:
        """Each pending sign-up once per connection at once, again after resend_seconds
        without head office's acknowledgement (QoS 1; head office takes an id once)."""
        due = [(signup_id, payload) for signup_id, payload in signup.pending(self.db)
               if now - self._signups_sent.get(signup_id, float("-inf"))
               >= self.cfg.resend_seconds]
        sent = []
        for signup_id, payload in due:
            if self.connection.publish(self.topic[signup_wire.SIGNUP_LEAF], payload) is None:
                break
            self._signups_sent[signup_id] = now
            sent.append(signup_id)
        signup.mark_sent(self.db, sent)

    def _apply_downstream(self, now: float) -> None:
        due = [item for item in self._retry if item[0] <= now]
        if due:
            self._retry = [item for item in self._retry if item[0] > now]
            for _, kind, payload in due:
                self._apply_one(kind, payload, retry_pending=True)
        while True:
            try:
                kind, payload = self._inbox.get_nowait()
            except queue.Empty:
                break
            if kind == "release":
                self._keep_release_notice(payload)
                continue
            self._apply_one(kind, payload, retry_pending=True)

    def _keep_release_notice(self, payload: bytes) -> None:
        """Leaves head office's release notice for the updater (`kassa update`), which checks
        its seal itself; the uplink is only the terminal's one MQTT client."""
        if len(payload) > MAX_NOTICE_BYTES:
            log.error("ignored a release notice of %d bytes", len(payload))
            return
        try:
            keep_release_notice(self.db, payload)
        except (UnicodeDecodeError, peewee.OperationalError) as exc:
            log.error("release notice not kept: %s", exc)

    def _apply_one(self, kind: str, payload: bytes, retry_pending: bool) -> None:
        """Applies one message; nothing it contains can stop the uplink: a refused message is
        recorded and reported, one the database was too busy for is tried again later."""
        try:
            outcome = self.downstream.receive(kind, payload, fleet=kind in FLEET_KINDS)
        except OutOfSequence as exc:
            log.warning("%s message waits for a newer base: %s", kind, exc)
            self._pending_deltas[kind] = payload
            return
        except Rejected as exc:
            self.counters.rejected += 1
            self._status_sent = None
            log.error("ALERT: rejected %s message from head office: %s", kind, exc)
            return
        except DatabaseBusy as exc:
            self.counters.busy += 1
            self._retry = [item for item in self._retry if item[1] != kind]
            wait = self._downstream_busy.next()
            self._retry.append((time.monotonic() + wait, kind, payload))
            log.warning("%s message put off for %.0fs: %s", kind, wait, exc)
            return
        except Exception as exc:  # a bug must not turn one message into a crash loop
            log.exception("ALERT: %s message from head office could not be applied", kind)
            self.counters.rejected += 1
            self._status_sent = None
            self.downstream.record_reject(kind, f"not applied: {type(exc).__name__}: {exc}",
                                          payload)
            return
        self._downstream_busy.reset()
        log.info("%s", outcome.detail)
        if outcome.detail.startswith(IGNORED):
            self.counters.ignored += 1
            self._status_sent = None
            log.warning("%s", outcome.detail)
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
                "signups": signup.count_pending(self.db),
                "downstream": reject_summary(),
                "devices": self._devices,
                "versions": {"software": SOFTWARE_VERSION,
                             "catalogue": applied_version(CATALOGUE_VERSION),
                             "config": applied_version(CONFIG_VERSION),
                             "offers": applied_version(OFFERS_VERSION),
                             "promotions": applied_version(PROMOTIONS_VERSION)},
                "config_live": config_live(),
                "office_key": fingerprint(self.office_key) if self.office_key else "",
            })
        return wire.encode_status(status)

    def _read_devices(self, now: float) -> str:
        """The states the till records (firmware/device_state.py), re-read now and then;
        returns a fingerprint so a change is published."""
        if now - self._devices_at >= DEVICES_EVERY:
            self._devices, self._devices_at = device_state.read_all(self.db), now
            self._config_live = config_live()  # the till took in head office's config
        return repr((sorted(self._devices.items()), self._config_live))

    def _publish_status(self, now: float) -> None:
        head = self.outbox.head()
        key = (head, self.acked, self.counters.refused + self.counters.rejected
               + self.counters.ignored, self._read_devices(now))
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
