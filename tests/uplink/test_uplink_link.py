"""The uplink against a real broker: status and Will, refused publishes, acks, replays,
downstream messages."""

from __future__ import annotations

import json
import os
import queue
import signal
import threading
import time
from contextlib import contextmanager

import paho.mqtt.client as mqtt

from contract import wire
from contract.config import MqttConfig
from firmware.models import Product
from firmware.uplink.client import Uplink
from tests.sealkit import OfficeKeys
from tests.uplink.harness import make_till, start_uplink, stop, wait_until


class Listener:
    """A plain MQTT 5 client that records what arrives on some topics."""

    def __init__(self, port: int, *topics: str) -> None:
        self.messages: queue.SimpleQueue[mqtt.MQTTMessage] = queue.SimpleQueue()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = lambda _c, _u, m: self.messages.put(m)
        self.client.connect("127.0.0.1", port)
        self.client.subscribe([(t, 1) for t in topics])
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def next(self, predicate, timeout: float = 10) -> mqtt.MQTTMessage:
        while True:
            msg = self.messages.get(timeout=timeout)
            if predicate(msg):
                return msg

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@contextmanager
def running(uplink: Uplink):
    stop_event = threading.Event()
    thread = threading.Thread(target=uplink.run, args=(stop_event,))
    thread.start()
    try:
        yield uplink
    finally:
        stop_event.set()
        thread.join(15)


def _cfg(port: int, **kwargs) -> MqttConfig:
    return MqttConfig(enabled=True, port=port, keepalive=5, backoff_max_seconds=1, **kwargs)


def test_status_is_online_with_backlog_and_the_will_says_offline(tmp_path, mosquitto):
    broker = mosquitto()
    till = make_till(tmp_path / "till", broker.port)
    till.add_entries(7)
    status_topic = wire.terminal_topic(till.store, till.terminal, "status")
    listener = Listener(broker.port, status_topic)
    uplink = start_uplink(till)
    try:
        online = json.loads(listener.next(lambda m: b'"online"' in m.payload).payload)
        assert online["backlog"] == 7 and online["head"] == 7 and online["acked"] == 0
        os.kill(uplink.pid, signal.SIGKILL)
        offline = json.loads(listener.next(lambda m: b'"offline"' in m.payload).payload)
        assert offline["terminal"] == till.terminal
    finally:
        stop(uplink)
        listener.close()


def test_a_refused_publish_is_counted_and_never_marked_sent(tmp_path, mosquitto):
    broker = mosquitto("listener {port} 127.0.0.1\nallow_anonymous true\n"
                       "acl_file {dir}/acl\n", start=False)
    (broker.workdir / "acl").write_text("topic read kassa/#\n"
                                        "topic write kassa/v1/store1/till1/status\n")
    broker.start()
    till = make_till(tmp_path / "till", broker.port)
    till.add_entries(3)
    with running(Uplink(till.db, till.store, till.terminal, _cfg(broker.port))) as uplink:
        wait_until(lambda: uplink.counters.refused >= 3, 15, "three refused publishes")
    assert till.acked() == 0
    assert uplink.backlog() == 3


def test_follows_the_ack_and_replays_on_command_even_below_it(tmp_path, mosquitto):
    broker = mosquitto()
    till = make_till(tmp_path / "till", broker.port)
    till.add_entries(10)
    journal = wire.terminal_topic(till.store, till.terminal, "journal")
    listener = Listener(broker.port, journal)
    listener.publish(wire.terminal_topic(till.store, till.terminal, "ack"),
                     wire.encode_ack(5, "00" * 32), retain=True)
    cfg = _cfg(broker.port, resend_seconds=60)
    with running(Uplink(till.db, till.store, till.terminal, cfg)) as uplink:
        wait_until(lambda: till.acked() == 5, 10, "the retained ack to be recorded")
        first = [json.loads(listener.next(lambda m: True).payload) for _ in range(5)]
        assert [json.loads(m["body"])["seq"] for m in first] == [6, 7, 8, 9, 10]
        listener.publish(wire.terminal_topic(till.store, till.terminal, "cmd"),
                         wire.encode_replay(2))
        again = [json.loads(listener.next(lambda m: True).payload) for _ in range(9)]
        assert [json.loads(m["body"])["seq"] for m in again] == list(range(2, 11))
        assert uplink.counters.replays == 1
    assert till.acked() == 5


def test_retained_catalogue_is_applied_on_connect(tmp_path, mosquitto):
    broker = mosquitto()
    keys = OfficeKeys(tmp_path / "office")
    till = make_till(tmp_path / "till", broker.port)
    listener = Listener(broker.port, wire.terminal_topic(till.store, till.terminal,
                                                             "status"))
    catalogue = {"version": 4, "mode": "full", "products": [
        {"gtin": "8712345678906", "name": "Cola", "price_cents": 199, "vat_code": "low"}]}
    listener.publish(wire.store_topic(till.store, "catalogue"),
                     keys.seal("catalogue", till.store, catalogue), retain=True)
    listener.publish(wire.store_topic(till.store, "prices"), b"{broken", retain=False)
    cfg = _cfg(broker.port, office_public_key=str(keys.public))
    with running(Uplink(till.db, till.store, till.terminal, cfg)):
        status = listener.next(lambda m: b'"catalogue":4' in m.payload)
    assert json.loads(status.payload)["versions"]["catalogue"] == 4
    assert Product.get(Product.gtin == "08712345678906").price_cents == 199
    listener.close()


def test_resends_back_off_while_head_office_is_silent(tmp_path, mosquitto):
    broker = mosquitto()
    till = make_till(tmp_path / "till", broker.port)
    till.add_entries(2)
    listener = Listener(broker.port, wire.terminal_topic(till.store, till.terminal,
                                                             "journal"))
    with running(Uplink(till.db, till.store, till.terminal,
                        _cfg(broker.port, resend_seconds=1))) as uplink:
        wait_until(lambda: uplink.counters.resends >= 1, 5, "the first resend")
        first = time.monotonic()
        wait_until(lambda: uplink.counters.resends >= 2, 5, "the second resend")
        gap = time.monotonic() - first
        seqs = [json.loads(json.loads(listener.next(lambda m: True).payload)["body"])["seq"]
                for _ in range(4)]
    assert 0.9 <= gap <= 2.5  # the second wait is drawn from 1..2 s, not the first 0.5..1 s
    assert seqs == [1, 2, 1, 1]  # a resend is the oldest unconfirmed entry alone
    assert listener.messages.empty()
    listener.close()
