"""Where head office's MQTT clients (ingest workers, the offers publisher) find the broker,
and the one way they connect to it with TLS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BrokerSettings:
    host: str = "127.0.0.1"
    port: int = 1883
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    keepalive: int = 30
    session_expiry: int = 600  # seconds the broker keeps a killed worker's messages


def use_tls(client: Any, broker: BrokerSettings) -> None:
    """With a CA file, the paho client verifies the broker and shows its own certificate
    when one is given; without, it stays on plain MQTT (a local test broker)."""
    import ssl

    if broker.ca_file:
        client.tls_set(ca_certs=broker.ca_file, certfile=broker.cert_file or None,
                       keyfile=broker.key_file or None, cert_reqs=ssl.CERT_REQUIRED)
