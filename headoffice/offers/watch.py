"""Event-driven publication of redemptions: the moment head office has stored a till's
`offer_redemption`, the store's tills get the new offers snapshot (with the redemption
counted), instead of at the next run of a periodic sync.

The watcher listens, beside the shared ingest subscription, to the tills' journal topic
(head office's listener may read it: provisioning/brokerconf.py). A message whose entry is an
`offer_redemption` is noted as (terminal, seq); the caller's loop (`kassa customers sync
--watch`) wakes at once, waits until ingest has stored that seq (TerminalState, normally a
few tens of ms), applies the journal and publishes. The remaining window is in
docs/customers.md.
"""

from __future__ import annotations

import json
import threading
import time

import paho.mqtt.client as mqtt

from contract import wire
from headoffice.broker import BrokerSettings, new_client
from headoffice.models import TerminalState

JOURNAL_TOPIC = f"{wire.ROOT}/+/+/journal"


class RedemptionWatcher:
    """Collects (terminal, seq) of redemptions seen on the wire; `wait` blocks until one
    arrives or the timeout passes."""

    def __init__(self, broker: BrokerSettings, client_id: str) -> None:
        self.broker = broker
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()
        self._event = threading.Event()
        self.client = new_client(broker, client_id)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message

    def start(self) -> None:
        self.client.connect(self.broker.host, self.broker.port, keepalive=self.broker.keepalive)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, userdata, flags, reason, properties) -> None:
        client.subscribe(JOURNAL_TOPIC, qos=0)  # a lost hint costs only the fallback delay

    def _on_message(self, client: mqtt.Client, userdata, msg: mqtt.MQTTMessage) -> None:
        try:
            _store, terminal = wire.split_terminal_topic(msg.topic, "journal")
            body = json.loads(wire.decode_journal(msg.payload).body)
        except (wire.ProtocolError, ValueError):
            return  # ingest judges bad messages; a hint we cannot read is no hint
        if not isinstance(body, dict) or body.get("type") != "offer_redemption":
            return
        seq = body.get("seq")
        if not isinstance(seq, int):
            return
        with self._lock:
            self._seen[terminal] = max(seq, self._seen.get(terminal, 0))
        self._event.set()

    def wait(self, timeout: float) -> dict[str, int]:
        """{terminal: highest redemption seq} seen since the last call ({} on timeout)."""
        self._event.wait(timeout)
        with self._lock:
            seen, self._seen = self._seen, {}
            self._event.clear()
        return seen


def wait_stored(seen: dict[str, int], timeout: float = 5.0, interval: float = 0.02) -> bool:
    """Waits until ingest has stored every (terminal, seq) contiguously; False on timeout
    (the periodic pass picks it up later)."""
    deadline = time.monotonic() + timeout
    while True:
        stored = dict(TerminalState.select(TerminalState.terminal, TerminalState.contiguous_seq)
                      .where(TerminalState.terminal.in_(list(seen))).tuples())
        if all(stored.get(t, 0) >= seq for t, seq in seen.items()):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
