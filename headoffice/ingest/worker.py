"""One ingest worker: a member of the shared subscription that stores batches and only then
acknowledges them (paho manual_ack: the PUBACK leaves after the database commit).

The worker keeps a persistent MQTT session under a fixed client id, so when it is killed
mid-batch the broker hands the unacknowledged messages to it again after the restart; the
till's own resend and head office's replay requests cover anything a broker drops.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import queue
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
import peewee
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from contract import signup as signup_wire
from contract import wire
from headoffice.broker import BrokerSettings, new_client
from headoffice.customers.signup import SignupRefused, take
from headoffice.ingest import fast_properties
from headoffice.ingest.deadletter import RowBudget, record_unstorable
from headoffice.ingest.ratelimit import TokenBuckets
from headoffice.ingest.store import (
    BatchResult,
    Rejected,
    StatusUpdate,
    check_gaps,
    store_batch,
)
from headoffice.ingest.validate import Candidate, KeyCache, Refusal, check_message

log = logging.getLogger("kassa.office.ingest")

GAP_CHECK_SECONDS = 1.0
UNAVAILABLE = (peewee.OperationalError, peewee.InterfaceError)
ATTEMPTS_BEFORE_ONE_BY_ONE = 3
# Journal messages a terminal may have checked, per worker: new entries at TERMINAL_RATE a
# second with TERMINAL_BURST saved up (a till sells a ticket a minute; after an outage it
# sends a day's backlog at once, which the burst takes), and entries this worker has
# already confirmed (seq at or below the terminal's last ack: a resend, or a flood of
# valid copies) at KNOWN_RATE / KNOWN_BURST. Beyond them a message is refused unchecked,
# counted as "rate_limited"; head office's ack does not cover it, so the till keeps it and
# sends it again. So one terminal costs head office at most a small share of its capacity
# (thousands of entries a second) and cannot starve the others.
TERMINAL_RATE, TERMINAL_BURST = 200.0, 5000
KNOWN_RATE, KNOWN_BURST = 10.0, 200
# Customers' sign-ups a terminal may send, per worker: a shop signs up a few an hour; after a
# week offline a till sends its outbox at once, which the burst takes. Beyond that a sign-up
# is not taken and not acknowledged (no account is made): the till sends it again later.
SIGNUP_RATE, SIGNUP_BURST = 1.0, 200


@dataclass(frozen=True)
class Prepared:
    """A batch after the checks that need no transaction."""

    candidates: list[tuple[str, bytes, Candidate]]
    rejected: list[Rejected]
    statuses: list[StatusUpdate]
    signups: list[tuple[str, bytes]] = field(default_factory=list)  # customers' sign-ups


@dataclass
class WorkerStats:
    batches: int = 0
    stored: int = 0
    rejected: int = 0
    acks_sent: int = 0
    replays_sent: int = 0
    signups: int = 0  # sign-ups taken (created or merged)
    signups_limited: int = 0  # sign-ups over their terminal's rate: sent again by the till


class IngestWorker:
    def __init__(self, db: peewee.Database, broker: BrokerSettings, client_id: str,
                 batch_max: int = 1000, batch_wait: float = 0.02,
                 rates: tuple[float, int, float, int] = (TERMINAL_RATE, TERMINAL_BURST,
                                                         KNOWN_RATE, KNOWN_BURST)) -> None:
        self.db, self.broker, self.batch_max, self.batch_wait = db, broker, batch_max, batch_wait
        self.keys = KeyCache()
        self.budget = RowBudget()
        self.fresh = TokenBuckets(rates[0], rates[1])  # per terminal: new entries
        self.known = TokenBuckets(rates[2], rates[3])  # and entries it already confirmed
        self.signup_rate = TokenBuckets(SIGNUP_RATE, SIGNUP_BURST)  # customers' sign-ups
        self.confirmed: dict[str, int] = {}  # terminal -> the seq of its last ack from here
        self.stats = WorkerStats()
        fast_properties.install()  # paho's MQTT 5 property decoding was a third of our CPU
        self._queue: queue.SimpleQueue[tuple[int, mqtt.MQTTMessage]] = queue.SimpleQueue()
        self._generation = 0
        self.connected = threading.Event()
        self._disconnected = threading.Event()
        self._unsubscribed = threading.Event()
        self.client = new_client(broker, client_id, manual_ack=True)
        self.client.reconnect_delay_set(1, 10)
        self.client.max_queued_messages_set(0)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_unsubscribe = lambda *_args: self._unsubscribed.set()
        self.client.on_subscribe = self._on_subscribe

    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("broker refused the connection: %s", reason)
            return
        self._generation += 1
        self._disconnected.clear()
        # always (re)subscribe: a restarted broker may restore the session but not its
        # shared subscriptions (seen with Mosquitto 2.0), and subscribing again is harmless
        client.subscribe([(wire.SHARED_JOURNAL_SUBSCRIPTION, 1), (wire.ALL_STATUS, 1),
                          (wire.SHARED_SIGNUP_SUBSCRIPTION, 1)])
        log.info("connected (session present: %s)", flags.session_present)
        self.connected.set()

    def _on_subscribe(self, _c: Any, _u: Any, _mid: int, reasons: list[Any], _p: Any) -> None:
        """Say when the feeds are really flowing: a refused subscription (an ACL mistake)
        would otherwise leave a connected worker that never receives a message."""
        refused = [str(r) for r in reasons if r.is_failure]
        if refused:
            log.error("the broker refused a subscription: %s", ", ".join(refused))
        else:
            log.info("subscribed to the journal, status and sign-up feeds")

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.connected.clear()
        self._disconnected.set()
        log.warning("disconnected: %s", reason)

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self._queue.put((self._generation, msg))

    def run(self, stop: threading.Event) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.broker.session_expiry
        props.ReceiveMaximum = min(65535, self.batch_max)
        self.client.connect_async(self.broker.host, self.broker.port,
                                  keepalive=self.broker.keepalive, clean_start=False,
                                  properties=props)
        self.client.loop_start()
        next_gap_check = time.monotonic() + GAP_CHECK_SECONDS
        # two stages: while one batch commits (the database thread, mostly waiting on the
        # server), the next one is checked here; batches still commit one after the other
        committer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-db")
        pending: Future[None] | None = None
        try:
            while not stop.is_set():
                batch = self._collect()
                if batch:
                    prepared = self._prepare_retrying(batch, stop)
                    if pending is not None:
                        pending.result()
                    pending = committer.submit(self._commit_retrying, batch, prepared, stop)
                if time.monotonic() >= next_gap_check:
                    next_gap_check = time.monotonic() + GAP_CHECK_SECONDS
                    try:
                        self._publish_replays(check_gaps(self.db))
                    except peewee.PeeweeException as exc:
                        log.error("gap check failed: %s", exc)
        finally:
            if pending is not None:
                pending.result()
            committer.shutdown()
            self._leave()

    def _prepare_retrying(self, batch: list[tuple[int, mqtt.MQTTMessage]],
                          stop: threading.Event) -> Prepared:
        while True:
            try:
                return self._prepare(batch)
            except peewee.PeeweeException as exc:  # the registry could not be read
                log.error("database unavailable while checking a batch: %s", exc)
                if stop.wait(1.0):
                    raise  # stopping: the batch stays unacknowledged and comes again

    def _commit_retrying(self, batch: list[tuple[int, mqtt.MQTTMessage]],
                         prepared: Prepared, stop: threading.Event) -> None:
        """Stores the batch. A batch that fails for what it holds is stored message by
        message, and a message that cannot be stored is dead-lettered, so one poison
        message never holds back another; while the database is unavailable the batch is
        retried, and given up only at a stop (unacknowledged: the broker sends it again)."""
        one_by_one, unavailable = False, 0
        while True:
            try:
                if one_by_one:
                    self._commit_one_by_one(batch, prepared)
                else:
                    self._commit(batch, prepared)
                return
            except UNAVAILABLE as exc:
                unavailable += 1
                # an error that persists may be the batch's own doing (SQLite reports some
                # data errors as operational): one by one tells which message it is
                one_by_one = one_by_one or unavailable >= ATTEMPTS_BEFORE_ONE_BY_ONE
                log.error("database unavailable, batch of %d kept for retry: %s",
                          len(batch), exc)
            except Exception:  # noqa: BLE001 - never die on one batch
                if not one_by_one:
                    log.warning("batch of %d failed; storing its messages one by one",
                                len(batch), exc_info=True)
                    one_by_one = True
                    continue
                log.exception("batch of %d failed; kept for retry", len(batch))
            if stop.wait(1.0):
                return

    def _commit_one_by_one(self, batch: list[tuple[int, mqtt.MQTTMessage]],
                           prepared: Prepared) -> None:
        """Each message in a transaction of its own; one that fails is dead-lettered as raw
        bytes with the reason. Raises (the batch is retried) only when even that dead
        letter cannot be written: then the database, not the message, is the problem."""
        self._take_signups(prepared.signups)
        units = [Prepared([c], [], []) for c in sorted(
            prepared.candidates, key=lambda c: (c[2].terminal, c[2].seq))]
        units += [Prepared([], [r], []) for r in prepared.rejected]
        units += [Prepared([], [], [s]) for s in prepared.statuses]
        for unit in units:
            try:
                result = store_batch(self.db, unit.candidates, list(unit.rejected),
                                     unit.statuses, self.budget)
            except Exception as exc:  # noqa: BLE001 - this message, whatever it holds
                topic, payload, terminal, seq = _raw(unit)
                log.error("message on %s could not be stored; dead-lettered: %r", topic[:200],
                          exc)
                record_unstorable(self.db, topic, payload, exc, _now_iso(), terminal, seq)
                self.stats.rejected += 1
                continue
            self._published(result)
        self._ack(batch)
        self.stats.batches += 1

    def _leave(self) -> None:
        """A clean stop leaves the shared subscription first, stores and acknowledges what
        had already arrived, then ends the session. A persistent session left behind would
        go on taking its share of the journal messages; ending it with a session expiry of
        0 in the DISCONNECT alone is not enough (Mosquitto 2.0.11 sometimes refuses that
        DISCONNECT with "out of memory" and keeps the session)."""
        if self.connected.is_set():
            self._unsubscribed.clear()
            self.client.unsubscribe([wire.SHARED_JOURNAL_SUBSCRIPTION, wire.ALL_STATUS,
                                     wire.SHARED_SIGNUP_SUBSCRIPTION])
            self._unsubscribed.wait(3)
            while batch := self._collect():
                try:
                    self._process(batch)
                except Exception:  # noqa: BLE001 - unacknowledged: the till sends it again
                    log.exception("could not store the last batch of %d", len(batch))
                    break
            props = Properties(PacketTypes.DISCONNECT)
            props.SessionExpiryInterval = 0
            self.client.disconnect(properties=props)
            self._disconnected.wait(5)  # let the DISCONNECT leave before the loop stops
        self.client.loop_stop()

    def _collect(self) -> list[tuple[int, mqtt.MQTTMessage]]:
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.batch_wait
        while len(batch) < self.batch_max:
            try:
                batch.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
        return batch

    def _process(self, batch: list[tuple[int, mqtt.MQTTMessage]]) -> None:
        """Checks, stores and acknowledges one batch in the calling thread."""
        prepared = self._prepare(batch)
        try:
            self._commit(batch, prepared)
        except UNAVAILABLE:
            raise
        except Exception:  # noqa: BLE001 - what the batch holds: store what can be stored
            self._commit_one_by_one(batch, prepared)

    def _prepare(self, batch: list[tuple[int, mqtt.MQTTMessage]]) -> Prepared:
        candidates: list[tuple[str, bytes, Candidate]] = []
        rejected: list[Rejected] = []
        statuses: list[StatusUpdate] = []
        signups: list[tuple[str, bytes]] = []
        for _gen, msg in batch:
            topic, payload = msg.topic, bytes(msg.payload)
            if topic.endswith("/" + signup_wire.SIGNUP_LEAF):
                if self._signup_allowed(topic):
                    signups.append((topic, payload))
                continue
            if topic.endswith("/status"):
                update = self._status(topic, payload)
                if update is not None:
                    statuses.append(update)
                continue
            limited = self._over_rate(topic, _seq_property(msg))
            if limited is not None:
                rejected.append(Rejected(topic, payload, limited))
                continue
            try:
                outcome = check_message(topic, payload, _seq_property(msg), self.keys)
            except peewee.PeeweeException:
                raise
            except Exception as exc:  # noqa: BLE001 - a hostile payload must never stop us
                outcome = Refusal("malformed", f"unreadable message: {exc!r}")
            if isinstance(outcome, Candidate):
                candidates.append((topic, payload, outcome))
            else:
                rejected.append(Rejected(topic, payload, outcome))
        return Prepared(candidates, rejected, statuses, signups)

    def _over_rate(self, topic: str, seq_property: str | None) -> Refusal | None:
        """The refusal of a journal message beyond its terminal's rate, before any check (a
        flood costs a count, not a signature check and a row). The seq is the message's
        user property: a lie there only puts the message in the stricter bucket, and
        check_message refuses a property that differs from the body."""
        try:
            _store, terminal = wire.split_terminal_topic(topic, "journal")
        except wire.ProtocolError:
            return None  # check_message refuses it with the reason
        seq = int(seq_property) if seq_property and seq_property.isdigit() and len(
            seq_property) <= 20 else None
        confirmed = self.confirmed.get(terminal)
        known = seq is not None and confirmed is not None and seq <= confirmed
        bucket = self.known if known else self.fresh
        if bucket.take(terminal):
            return None
        what = "entries already confirmed" if known else "messages"
        return Refusal("rate_limited", f"more than {bucket.rate:g} {what} a second "
                       f"(burst {bucket.burst}) from this terminal", terminal, seq)

    def _signup_allowed(self, topic: str) -> bool:
        """False for a sign-up beyond its terminal's rate (dropped unacknowledged, so the
        till keeps it); a topic that names no terminal passes, to be dead-lettered."""
        try:
            _store, terminal = wire.split_terminal_topic(topic, signup_wire.SIGNUP_LEAF)
        except wire.ProtocolError:
            return True
        if self.signup_rate.take(terminal):
            return True
        self.stats.signups_limited += 1
        if self.stats.signups_limited % 100 == 1:
            log.warning("sign-ups from %s beyond %g a second (burst %d): left to the till's "
                        "resend", terminal, self.signup_rate.rate, self.signup_rate.burst)
        return False

    def _commit(self, batch: list[tuple[int, mqtt.MQTTMessage]], prepared: Prepared) -> None:
        self._take_signups(prepared.signups)
        result = store_batch(self.db, prepared.candidates, list(prepared.rejected),
                             prepared.statuses, self.budget)
        self._ack(batch)
        self.stats.batches += 1
        self._published(result)

    def _take_signups(self, signups: list[tuple[str, bytes]]) -> None:
        """Customers signed up at a till (headoffice/customers/signup.py): each taken in a
        transaction of its own and acknowledged to its till, which then deletes it. One that
        cannot be taken is dead-lettered without its payload (it holds an e-mail address,
        which the dead-letter table must not keep) and not acknowledged. Raises only while
        the database is unavailable (the batch is retried; a sign-up is taken once)."""
        taken: dict[tuple[str, str], list[str]] = {}
        for topic, payload in signups:
            try:
                store, terminal = wire.split_terminal_topic(topic, signup_wire.SIGNUP_LEAF)
                done = take(store, terminal, signup_wire.decode_signup(payload))
            except UNAVAILABLE:
                raise
            except (wire.ProtocolError, SignupRefused, peewee.PeeweeException,
                    ValueError) as exc:
                log.error("sign-up on %s not taken: %s", topic[:200], exc)
                record_unstorable(self.db, topic[:200], b"[sign-up withheld: personal data]",
                                  exc, _now_iso())
                self.stats.rejected += 1
                continue
            if done.outcome in ("created", "merged"):
                self.stats.signups += 1
            log.info("sign-up %s from %s/%s: %s %s", done.signup_id, store, terminal,
                     done.outcome, done.customer_id)
            taken.setdefault((store, terminal), []).append(done.signup_id)
        for (store, terminal), ids in taken.items():
            self.client.publish(
                wire.terminal_topic(store, terminal, signup_wire.SIGNUP_ACK_LEAF),
                signup_wire.encode_signup_ack(ids), qos=1)

    def _ack(self, batch: list[tuple[int, mqtt.MQTTMessage]]) -> None:
        for gen, msg in batch:  # committed: now the broker may forget them
            if gen == self._generation and msg.qos > 0:
                self.client.ack(msg.mid, msg.qos)

    def _published(self, result: BatchResult) -> None:
        """Counts a stored batch and sends the acks and replay requests it made due."""
        self.stats.stored += result.stored
        self.stats.rejected += result.rejected
        for terminal, (store, seq, hash_hex) in result.acks.items():
            self.confirmed[terminal] = seq  # registered terminals only: a bounded table
            self.client.publish(wire.terminal_topic(store, terminal, "ack"),
                                wire.encode_ack(seq, hash_hex), qos=1, retain=True)
            self.stats.acks_sent += 1
        self._publish_replays(result.replays)

    def _publish_replays(self, replays: dict[str, tuple[str, int]]) -> None:
        for terminal, (store, from_seq) in replays.items():
            log.info("gap at %s/%s: asking for a replay from %d", store, terminal, from_seq)
            self.client.publish(wire.terminal_topic(store, terminal, "cmd"),
                                wire.encode_replay(from_seq), qos=1)
            self.stats.replays_sent += 1

    @staticmethod
    def _status(topic: str, payload: bytes) -> StatusUpdate | None:
        try:
            store, terminal = wire.split_terminal_topic(topic, "status")
            return StatusUpdate(terminal, store, wire.decode_status(payload))
        except Exception as exc:  # noqa: BLE001 - e.g. RecursionError: nested too deeply
            log.warning("ignored status on %s: %r", topic[:200], exc)
            return None


def _raw(unit: Prepared) -> tuple[str, bytes, str | None, int | None]:
    """Topic, bytes, terminal and seq of a one-message unit, for its dead letter."""
    if unit.candidates:
        topic, payload, cand = unit.candidates[0]
        return topic, payload, cand.terminal, cand.seq
    if unit.rejected:
        rej = unit.rejected[0]
        return rej.topic, rej.payload, rej.refusal.terminal, rej.refusal.seq
    status = unit.statuses[0]
    return (wire.terminal_topic(status.store, status.terminal, "status"),
            json.dumps(status.status, default=str).encode(), status.terminal, None)


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _seq_property(msg: mqtt.MQTTMessage) -> str | None:
    props = getattr(msg, "properties", None)
    for name, value in getattr(props, "UserProperty", None) or []:
        if name == "seq":
            return value
    return None
