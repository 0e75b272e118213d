"""Head office's MQTT clients: where they find the broker, and the one place they are built.

Every office-side paho client (the ingest workers, the offers publisher) comes from
`new_client`, which sets the protocol (MQTT 5, paho 2's VERSION2 callbacks) and TLS once,
the way Home Assistant's MqttClientSetup does; protocol code receives the client, or only a
`Publish` callable (`publisher`), and never builds or secures one itself.

Client ids stay what head office chooses (ingest: <prefix>-<i>; offers: kassa-offers-<time>):
on the head-office listener the broker takes the ingest certificate's CN as the user name
and lets the clients pick their ids (provisioning/brokerconf.py).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import paho.mqtt.client as mqtt

# topic, payload, retain: publishes with QoS 1 and returns once the broker has it (PUBACK)
Publish = Callable[[str, bytes, bool], None]


@dataclass(frozen=True)
class BrokerSettings:
    host: str = "127.0.0.1"
    port: int = 1883
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    keepalive: int = 30
    session_expiry: int = 600  # seconds the broker keeps a killed worker's messages


def new_client(broker: BrokerSettings, client_id: str, *, manual_ack: bool = False) -> mqtt.Client:
    """A paho client for `broker`, not yet connected. With a CA file it verifies the broker
    and shows its own certificate when one is given; without, it stays on plain MQTT (a
    local test broker)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=mqtt.MQTTv5, manual_ack=manual_ack)
    if broker.ca_file:
        client.tls_set(ca_certs=broker.ca_file, certfile=broker.cert_file or None,
                       keyfile=broker.key_file or None, cert_reqs=ssl.CERT_REQUIRED)
    return client


@contextmanager
def publisher(broker: BrokerSettings, client_id: str, timeout: float = 10.0) -> Iterator[Publish]:
    """Connects a client for a short run of publications and hands out its `Publish`;
    raises if the broker is away or a message gets no PUBACK within `timeout`."""
    client = new_client(broker, client_id)
    client.connect(broker.host, broker.port, keepalive=broker.keepalive)
    client.loop_start()

    def publish(topic: str, payload: bytes, retain: bool) -> None:
        info = client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(timeout)
        if not info.is_published():
            raise TimeoutError(f"{topic}: no PUBACK within {timeout}s")

    try:
        yield publish
    finally:
        client.disconnect()
        client.loop_stop()
