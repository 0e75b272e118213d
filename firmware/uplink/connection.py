"""The till's one MQTT connection: the only module in firmware that imports paho.

Modelled on Home Assistant's `MqttClientSetup`: the client is built here once, with MQTT 5,
paho's VERSION2 callbacks, the client id that the broker and its ACL know the terminal by
(the terminal id, which is the CN of its certificate), TLS from `[mqtt]`, the Will and the
subscriptions it renews on every connect. The protocol code (firmware/uplink/client.py)
gets a `Connection`: it publishes and hears events in plain Python values and never sees a
paho type, so it cannot build a second client or set up TLS its own way.

Threads: the `LinkEvents` methods are called on paho's network thread; they should only
record what happened (see client.py).
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from cryptography import x509
from cryptography.x509.oid import NameOID
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from contract.config import MqttConfig

QOS = 1  # every Kassa topic is QoS 1 (DESIGN.md)


@dataclass(frozen=True)
class Will:
    """What the broker publishes for us when the connection dies without a goodbye."""

    topic: str
    payload: bytes
    retain: bool = True


class IdentityMismatch(ValueError):
    """The certificate names another terminal than the client id: the broker would take the
    certificate's CN as the client's identity and its ACL would refuse every publish."""

    def __init__(self, client_id: str, common_name: str, cert_file: str) -> None:
        super().__init__(f"{cert_file}: the certificate's CN is {common_name!r}, but this"
                         f" terminal connects as {client_id!r}; use the bundle enrolled for"
                         f" {client_id!r}")
        self.client_id, self.common_name, self.cert_file = client_id, common_name, cert_file


class LinkEvents(Protocol):
    """What the connection reports; called on paho's network thread."""

    def connected(self) -> None: ...
    def refused(self, reason: str) -> None: ...
    def subscribed(self) -> None: ...
    def disconnected(self, reason: str) -> None: ...
    def published(self, mid: int, reason_code: int) -> None: ...
    def received(self, topic: str, payload: bytes) -> None: ...


def certificate_cn(cert_file: str) -> str:
    cert = x509.load_pem_x509_certificate(Path(cert_file).read_bytes())
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def build_client(cfg: MqttConfig, client_id: str, will: Will) -> mqtt.Client:
    """The paho client, configured once: MQTT 5, VERSION2 callbacks, flow control and
    reconnect backoff from `[mqtt]`, TLS with the terminal's certificate when a CA is set."""
    if cfg.ca_file and cfg.cert_file:
        common_name = certificate_cn(cfg.cert_file)
        if common_name != client_id:
            raise IdentityMismatch(client_id, common_name, cfg.cert_file)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(cfg.inflight)
    client.max_queued_messages_set(0)
    client.reconnect_delay_set(1, cfg.backoff_max_seconds)
    if cfg.ca_file:
        client.tls_set(ca_certs=cfg.ca_file, certfile=cfg.cert_file or None,
                       keyfile=cfg.key_file or None, cert_reqs=ssl.CERT_REQUIRED)
    client.will_set(will.topic, will.payload, qos=QOS, retain=will.retain)
    return client


class Connection:
    """One broker connection: connects in the background, renews its subscriptions on every
    connect, publishes at QoS 1 and reports what happens to `events`."""

    def __init__(self, cfg: MqttConfig, client_id: str, will: Will,
                 subscriptions: Sequence[str], events: LinkEvents) -> None:
        self.cfg = cfg
        self.subscriptions = tuple(subscriptions)
        self.events = events
        self.client = build_client(cfg, client_id, will)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    # -- paho's network thread -------------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            self.events.refused(str(reason))
            return
        client.subscribe([(topic, QOS) for topic in self.subscriptions])
        self.events.connected()

    def _on_subscribe(self, _c: Any, _u: Any, _mid: int, _codes: Any, _p: Any) -> None:
        self.events.subscribed()

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.events.disconnected(str(reason))

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        self.events.published(mid, reason.value)

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self.events.received(msg.topic, msg.payload)

    # -- the caller's thread ---------------------------------------------------------------
    def start(self) -> None:
        """Connects in the background and keeps reconnecting until close()."""
        self.client.connect_async(self.cfg.host, self.cfg.port, keepalive=self.cfg.keepalive,
                                  clean_start=True)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes, *, retain: bool = False,
                user_properties: Sequence[tuple[str, str]] = (),
                wait: float | None = None) -> int | None:
        """Sends one QoS 1 message; returns its message id (the `published` event names it),
        or None when paho did not take it (the connection just dropped). With `wait`, blocks
        up to that many seconds for the broker's PUBACK."""
        properties = None
        if user_properties:
            properties = Properties(PacketTypes.PUBLISH)
            properties.UserProperty = list(user_properties)
        info = self.client.publish(topic, payload, qos=QOS, retain=retain,
                                   properties=properties)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return None
        if wait is not None:
            info.wait_for_publish(timeout=wait)
        return info.mid

    def close(self) -> None:
        """Disconnects (the broker then drops the Will) and stops paho's thread."""
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()


__all__ = ["Connection", "IdentityMismatch", "LinkEvents", "Will", "build_client",
           "certificate_cn"]
