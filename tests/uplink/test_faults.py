"""The faults of issue 6, each on SQLite and on PostgreSQL, with a real Mosquitto.

After each: head office holds exactly the till's entries once each, the chain verifies
against the enrolled key, and the till's backlog is 0.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path

from headoffice import registry
from tests.uplink.harness import (
    Till,
    dead_letter_counts,
    kassa,
    make_till,
    office_entries,
    publish_bare,
    start_ingest,
    start_uplink,
    stop,
    verify_office_chain,
    wait_ingest_ready,
    wait_until,
)


def _enrolled_till(tmp_path: Path, port: int, **kwargs) -> Till:
    till = make_till(tmp_path / "till", port, **kwargs)
    registry.add_terminal(till.terminal, till.store, till.public_key_hex)
    return till


def _assert_delivered(till: Till, timeout: float = 60) -> None:
    wait_until(lambda: till.acked() == till.head(), timeout,
               f"the till's backlog to reach 0 (head {till.head()})")
    assert till.head() > 0
    assert office_entries(till.terminal) == till.entries()
    assert verify_office_chain(till.terminal, till) == till.head()


def _online(terminal: str) -> bool:
    from headoffice.models import TerminalState

    state = TerminalState.get_or_none(TerminalState.terminal == terminal)
    return bool(state and state.online)


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_broker_outage_during_a_sim_run(tmp_path, mosquitto, office_db_url):
    broker = mosquitto()
    till = _enrolled_till(tmp_path, broker.port)
    ingest, uplink = start_ingest(office_db_url, broker.port), start_uplink(till)
    try:
        wait_until(lambda: _online(till.terminal), 20, "head office to see the till online")
        with open(tmp_path / "sim.out", "w") as out:
            sim = kassa("--config", str(till.config_path), "sim", "--sales", "150", "--seed",
                        "7", stdout=out)
        wait_until(lambda: till.head() >= 20, 30, "the first sales")
        broker.stop()
        committed_while_down = till.head()
        time.sleep(2.5)
        assert sim.wait(60) == 0
        assert till.head() > committed_while_down  # the shop kept selling while offline
        assert till.acked() < till.head()
        broker.start()
        _assert_delivered(till)
        lines = (tmp_path / "sim.out").read_text().splitlines()
        committed = [line for line in lines if line.startswith("committed seq=")]
        assert int(committed[-1].split()[1].split("=")[1]) <= till.head()
    finally:
        stop(uplink)
        stop(ingest)


def test_uplink_killed_ten_times(tmp_path, mosquitto, office_db_url):
    broker = mosquitto()
    till = _enrolled_till(tmp_path, broker.port)
    ingest = start_ingest(office_db_url, broker.port)
    writer_done = threading.Event()

    def keep_selling() -> None:
        for _ in range(40):
            till.add_entries(50, per_transaction=10)
            time.sleep(0.05)
        writer_done.set()

    writer = threading.Thread(target=keep_selling)
    rng = random.Random(6)
    uplink = start_uplink(till)
    try:
        writer.start()
        for _ in range(10):
            time.sleep(rng.uniform(0.2, 0.6))
            os.kill(uplink.pid, signal.SIGKILL)
            uplink.wait(10)
            uplink = start_uplink(till)
        writer.join(60)
        assert writer_done.is_set()
        assert till.head() == 2000
        _assert_delivered(till)
    finally:
        stop(uplink)
        stop(ingest)


def test_ingest_worker_killed_mid_batch(tmp_path, mosquitto, office_db_url):
    broker = mosquitto()
    till = _enrolled_till(tmp_path, broker.port)
    till.add_entries(6000)
    ingest = start_ingest(office_db_url, broker.port, workers=2)
    try:
        wait_until(lambda: len(_children(ingest.pid)) == 2, 20, "two ingest workers")
        victim = _children(ingest.pid)[0]
        wait_ingest_ready(broker)  # both workers share the backlog
        uplink = start_uplink(till)
        wait_until(lambda: till.acked() > 0, 30, "the first batches to commit")
        os.kill(victim, signal.SIGKILL)
        assert till.acked() < till.head()  # killed while work was in flight
        wait_until(lambda: len(_children(ingest.pid)) == 2 and victim not in
                   _children(ingest.pid), 20, "the supervisor to restart the worker")
        _assert_delivered(till, timeout=90)
        assert ingest.poll() is None
    finally:
        stop(uplink)
        stop(ingest)


def publish_raw(port: int, till: Till, shuffle: bool, times: int) -> None:
    """Publishes the till's whole journal `times` times with bare paho, optionally shuffled."""
    from contract.wire import terminal_topic
    from firmware.uplink.outbox import Outbox

    topic = terminal_topic(till.store, till.terminal, "journal")
    items = [(topic, o.seq, o.payload) for o in Outbox(till.db).read(1, till.head())] * times
    if shuffle:
        random.Random(3).shuffle(items)
    publish_bare(port, items, inflight=100)


def test_duplicates_and_out_of_order(tmp_path, mosquitto, office_db_url):
    broker = mosquitto()
    till = _enrolled_till(tmp_path, broker.port)
    till.add_entries(400)
    ingest = start_ingest(office_db_url, broker.port, workers=2)
    try:
        wait_ingest_ready(broker)
        publish_raw(broker.port, till, shuffle=True, times=2)
        wait_until(lambda: len(office_entries(till.terminal)) == 400, 30, "400 entries stored")
        wait_until(lambda: dead_letter_counts().get("duplicate", 0) >= 400, 30, "dups counted")
        assert dead_letter_counts() == {"duplicate": 400}
        uplink = start_uplink(till)  # learns the retained ack: nothing left to send
        try:
            _assert_delivered(till, timeout=30)
        finally:
            stop(uplink)
    finally:
        stop(ingest)


def _hostile_payloads(till: Till, other: Till) -> list[tuple[str, bytes, str | None]]:
    """1,000 (topic, payload, seq property) that head office must refuse, of many kinds."""
    import json

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from contract import chain
    from contract.wire import encode_journal, terminal_topic
    from firmware.uplink.outbox import Outbox

    rng = random.Random(1000)
    own = terminal_topic(till.store, till.terminal, "journal")
    valid = Outbox(till.db).read(1, till.head())
    forger = Ed25519PrivateKey.generate()
    out: list[tuple[str, bytes, str | None]] = []
    for _ in range(200):  # random bytes
        out.append((own, rng.randbytes(rng.randint(0, 600)), str(rng.randint(1, 99))))
    for _ in range(200):  # truncated JSON
        item = rng.choice(valid)
        out.append((own, item.payload[:rng.randint(1, len(item.payload) - 1)], str(item.seq)))
    for _ in range(150):  # signed by another key
        item = rng.choice(valid)
        msg = json.loads(item.payload)
        sig = forger.sign(bytes.fromhex(msg["hash"])).hex()
        out.append((own, encode_journal(msg["body"], msg["hash"], sig, msg["prev"]),
                    str(item.seq)))
    for _ in range(150):  # replayed entries
        item = rng.choice(valid)
        out.append((own, item.payload, str(item.seq)))
    other_topic = terminal_topic(other.store, other.terminal, "journal")
    for _ in range(100):  # a body claiming another terminal (on an enrolled terminal's topic)
        item = rng.choice(valid)
        out.append((other_topic, item.payload, str(item.seq)))
    for _ in range(50):  # an unknown terminal, consistent and signed with its own key
        item = rng.choice(valid)
        msg = json.loads(item.payload)
        body = json.loads(msg["body"])
        body["terminal"] = "ghost"
        text = chain.canonical(body)
        digest = chain.entry_hash(bytes.fromhex(msg["prev"]), text)
        out.append((terminal_topic(till.store, "ghost", "journal"),
                    encode_journal(text.decode(), digest.hex(), forger.sign(digest).hex(),
                                   msg["prev"]), str(item.seq)))
    for _ in range(50):  # seq property that disagrees with the body, or none
        item = rng.choice(valid)
        out.append((own, item.payload, rng.choice([None, "x", str(item.seq + 1)])))
    for _ in range(60):  # edited body (hash no longer matches), missing or non-hex fields
        item = rng.choice(valid)
        msg = json.loads(item.payload)
        kind = rng.randrange(3)
        if kind == 0:
            msg["body"] = msg["body"].replace('"cash_in"', '"cash_out"')
        elif kind == 1:
            del msg[rng.choice(["body", "hash", "sig", "prev"])]
        else:
            msg["hash"] = "zz" * 32
        out.append((own, json.dumps(msg).encode(), str(item.seq)))
    for _ in range(10):  # oversized
        out.append((own, b"{" + b" " * 300_000 + b"}", "1"))
    for _ in range(30):  # JSON of the wrong shape
        out.append((own, json.dumps(rng.choice([[], 1, "x", None, {"body": 5}])).encode(), "1"))
    assert len(out) == 1000
    rng.shuffle(out)
    return out


def test_thousand_hostile_payloads(tmp_path, mosquitto, office_db_url):
    import paho.mqtt.client as mqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    from tests.uplink.harness import dead_letters_total

    broker = mosquitto()
    till = _enrolled_till(tmp_path, broker.port)
    other = make_till(tmp_path / "other", broker.port, terminal="till2")
    registry.add_terminal(other.terminal, other.store, other.public_key_hex)
    till.add_entries(200)
    ingest = start_ingest(office_db_url, broker.port, workers=2)
    uplink = start_uplink(till)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    try:
        _assert_delivered(till)
        workers = _children(ingest.pid)
        assert len(workers) == 2
        before = dead_letters_total()
        client.connect("127.0.0.1", broker.port)
        client.loop_start()
        infos = []
        for topic, payload, seq in _hostile_payloads(till, other):
            props = Properties(PacketTypes.PUBLISH)
            if seq is not None:
                props.UserProperty = [("seq", seq), ("schema", "1")]
            infos.append(client.publish(topic, payload, qos=1, properties=props))
        for info in infos:
            info.wait_for_publish(20)
        wait_until(lambda: dead_letters_total() - before >= 1000, 60, "1000 dead letters")
        time.sleep(0.5)
        assert dead_letters_total() - before == 1000
        counts = dead_letter_counts()
        for reason in ("malformed", "bad_signature", "duplicate", "topic_mismatch",
                       "unknown_terminal", "bad_hash"):
            assert counts.get(reason, 0) > 0, reason
        assert _children(ingest.pid) == workers  # no worker died
        _assert_delivered(till)
        assert office_entries(other.terminal) == []
    finally:
        client.loop_stop()
        client.disconnect()
        stop(uplink)
        stop(ingest)
