"""A head office that never confirms, or a broker that refuses every entry, costs the till a
few messages a minute: resends back off exponentially with jitter up to a cap, and after
the first round only the oldest unconfirmed entry is sent again."""

from __future__ import annotations

import json
import signal
import threading
import time

from contract import wire
from contract.config import MqttConfig
from firmware.uplink.backoff import Backoff
from firmware.uplink.client import RESEND_MAX, Uplink
from tests.uplink.harness import make_till, wait_until
from tests.uplink.test_uplink_link import Listener

WATCH = 20.0  # seconds each broker test watches the uplink


def run_for(uplink: Uplink, seconds: float) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=uplink.run, args=(stop,))
    thread.start()
    time.sleep(seconds)
    stop.set()
    thread.join(15)


def test_backoff_doubles_with_jitter_up_to_the_cap_and_resets():
    shortest = Backoff(1.0, 300.0, rng=lambda: 0.0)
    longest = Backoff(1.0, 300.0, rng=lambda: 0.999999)
    low = [shortest.next() for _ in range(12)]
    high = [longest.next() for _ in range(12)]
    assert low[:4] == [0.5, 1.0, 2.0, 4.0] and low[-1] == 150.0
    assert [round(h) for h in high[:4]] == [1, 2, 4, 8] and round(high[-1]) == 300
    # even with the shortest draws, a minute holds at most 7 rounds, and the capped steady
    # state is under one round a minute
    elapsed, rounds = 0.0, 0
    for wait in low:
        elapsed += wait
        if elapsed > 60:
            break
        rounds += 1
    assert rounds <= 7 and 60 / low[-1] < 1
    shortest.reset()
    assert shortest.next() == 0.5


def test_a_head_office_that_never_confirms_gets_a_few_resends_a_minute(tmp_path, mosquitto):
    broker = mosquitto()
    till = make_till(tmp_path / "till", broker.port)
    till.add_entries(40)
    listener = Listener(broker.port, wire.terminal_topic(till.store, till.terminal, "journal"))
    cfg = MqttConfig(enabled=True, port=broker.port, keepalive=5, backoff_max_seconds=1,
                     resend_seconds=1)
    uplink = Uplink(till.db, till.store, till.terminal, cfg)
    run_for(uplink, WATCH)
    received = 0
    while not listener.messages.empty():
        listener.messages.get()
        received += 1
    listener.close()
    # waits of at least 0.5, 1, 2, 4, 8 s: at most 6 resends in 20 s, one entry each
    # (without backoff and probing: 20 rounds of all 40 entries)
    assert 2 <= uplink.counters.resends <= 6
    assert received <= 40 + 6
    assert till.acked() == 0


def test_a_broker_refusing_every_entry_gets_a_few_retries_a_minute(tmp_path, mosquitto):
    broker = mosquitto("listener {port} 127.0.0.1\nallow_anonymous true\n"
                       "acl_file {dir}/acl\n", start=False)
    (broker.workdir / "acl").write_text("topic read kassa/#\n"
                                        "topic write kassa/v1/store1/till1/status\n")
    broker.start()
    till = make_till(tmp_path / "till", broker.port)
    till.add_entries(40)
    cfg = MqttConfig(enabled=True, port=broker.port, keepalive=5, backoff_max_seconds=1,
                     resend_seconds=60, inflight=10)
    uplink = Uplink(till.db, till.store, till.terminal, cfg)
    run_for(uplink, WATCH)
    # the first round (10 in flight) is refused, then one entry at waits of at least
    # 0.5, 1, 2, 4, 8 s; before, every 1 s another round of 10
    assert 10 <= uplink.counters.refused <= 10 + 6
    assert uplink.counters.published <= 10 + 6
    assert till.acked() == 0 and RESEND_MAX >= 60


def test_the_broker_taking_entries_again_ends_the_backoff(tmp_path, mosquitto):
    broker = mosquitto("listener {port} 127.0.0.1\nallow_anonymous true\n"
                       "acl_file {dir}/acl\n", start=False)
    acl = broker.workdir / "acl"
    acl.write_text("topic read kassa/#\ntopic write kassa/v1/store1/till1/status\n")
    broker.start()
    till = make_till(tmp_path / "till", broker.port)
    till.add_entries(30)
    listener = Listener(broker.port, wire.terminal_topic(till.store, till.terminal, "journal"))
    cfg = MqttConfig(enabled=True, port=broker.port, keepalive=5, backoff_max_seconds=1,
                     resend_seconds=60, inflight=10)
    uplink = Uplink(till.db, till.store, till.terminal, cfg)
    stop = threading.Event()
    thread = threading.Thread(target=uplink.run, args=(stop,))
    thread.start()
    try:
        wait_until(lambda: uplink.counters.refused >= 10, 10, "the first refused round")
        acl.write_text("topic readwrite kassa/#\n")
        broker.proc.send_signal(signal.SIGHUP)  # mosquitto reads its ACL file again
        seen: set[int] = set()

        def all_arrived() -> bool:
            while not listener.messages.empty():
                seen.add(json.loads(json.loads(listener.messages.get().payload)["body"])["seq"])
            return seen >= set(range(1, 31))

        wait_until(all_arrived, 20, "all 30 entries once the broker takes them again")
    finally:
        stop.set()
        thread.join(15)
        listener.close()
