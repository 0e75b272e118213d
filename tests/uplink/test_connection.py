"""The till's one MQTT client factory: MQTT 5, VERSION2 callbacks, the terminal id as client
id (the certificate's CN), TLS from [mqtt] and the Will, all set up in one place."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from contract import wire
from contract.config import MqttConfig
from firmware.uplink.client import Uplink
from firmware.uplink.connection import Connection, IdentityMismatch, Will, build_client
from provisioning import ca as x509ca
from tests.fixtures_services import Broker
from tests.uplink.harness import kassa, make_till, wait_until

WILL = Will("kassa/v1/store1/till1/status", b'{"state":"offline"}')


class Recorder:
    """LinkEvents that only remember what happened."""

    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.up = threading.Event()

    def connected(self) -> None:
        self.events.append(("connected",))
        self.up.set()

    def refused(self, reason: str) -> None:
        self.events.append(("refused", reason))

    def subscribed(self) -> None:
        self.events.append(("subscribed",))

    def disconnected(self, reason: str) -> None:
        self.events.append(("disconnected", reason))

    def published(self, mid: int, reason_code: int) -> None:
        self.events.append(("published", mid, reason_code))

    def received(self, topic: str, payload: bytes) -> None:
        self.events.append(("received", topic, payload))


def _write_tls(tmp: Path, client_cn: str) -> dict[str, Path]:
    """A CA, a broker certificate for 127.0.0.1 and a client certificate named client_cn."""
    authority = x509ca.create_ca()
    server_key, server_cert = x509ca.issue(authority, "127.0.0.1", unit="broker", server=True)
    client_key, client_cert = x509ca.issue(authority, client_cn, unit="terminal")
    files = {"ca": tmp / "ca.crt", "server_crt": tmp / "server.crt", "server_key": tmp / "server.key",
             "client_crt": tmp / "client.crt", "client_key": tmp / "client.key"}
    tmp.mkdir(parents=True, exist_ok=True)
    files["ca"].write_bytes(x509ca.cert_pem(authority.cert))
    files["server_crt"].write_bytes(x509ca.cert_pem(server_cert))
    files["server_key"].write_bytes(x509ca.key_pem(server_key))
    files["client_crt"].write_bytes(x509ca.cert_pem(client_cert))
    files["client_key"].write_bytes(x509ca.key_pem(client_key))
    return files


def _tls_broker_config(files: dict[str, Path]) -> str:
    return (
        "listener {port} 127.0.0.1\n"
        f"cafile {files['ca']}\ncertfile {files['server_crt']}\nkeyfile {files['server_key']}\n"
        "require_certificate true\nuse_identity_as_username true\nallow_anonymous false\n"
        "persistence false\n"
    )


def _tls_cfg(port: int, files: dict[str, Path]) -> MqttConfig:
    return MqttConfig(enabled=True, port=port, keepalive=5, backoff_max_seconds=1,
                      ca_file=str(files["ca"]), cert_file=str(files["client_crt"]),
                      key_file=str(files["client_key"]))


def test_the_client_is_mqtt5_with_version2_callbacks_flow_control_and_the_will() -> None:
    cfg = MqttConfig(enabled=True, inflight=7)
    client = build_client(cfg, "till1", WILL)
    assert client.protocol == mqtt.MQTTv5
    assert client.callback_api_version == mqtt.CallbackAPIVersion.VERSION2
    assert client.max_inflight_messages == 7
    assert client.max_queued_messages == 0
    assert client.will_topic == WILL.topic and client.will_payload == WILL.payload


def test_the_uplink_connects_as_its_terminal_id(tmp_path: Path, mosquitto: Callable[..., Broker]) -> None:
    broker = mosquitto()
    till = make_till(tmp_path / "till", broker.port)
    uplink = Uplink(till.db, till.store, till.terminal,
                    MqttConfig(enabled=True, port=broker.port, keepalive=5))
    stop = threading.Event()
    thread = threading.Thread(target=uplink.run, args=(stop,))
    thread.start()
    try:
        wait_until(lambda: f" as {till.terminal} " in broker.log(), 10,
                   "the broker to log the uplink's client id")
    finally:
        stop.set()
        thread.join(15)
    assert f"kassa-{till.store}-{till.terminal}" not in broker.log()


def test_tls_with_the_terminals_certificate(tmp_path: Path, mosquitto: Callable[..., Broker]) -> None:
    files = _write_tls(tmp_path / "tls", "till1")
    broker = mosquitto(_tls_broker_config(files))
    events = Recorder()
    connection = Connection(_tls_cfg(broker.port, files), "till1", WILL,
                            ["kassa/v1/store1/till1/ack"], events)
    connection.start()
    try:
        assert events.up.wait(10), f"no TLS connection: {events.events}\n{broker.log()}"
        wait_until(lambda: ("subscribed",) in events.events, 10, "the SUBACK")
        mid = connection.publish("kassa/v1/store1/till1/status", b"{}", retain=True,
                                 user_properties=[("seq", "1")], wait=5)
        assert mid is not None
        pubacks = [e for e in events.events if e[:2] == ("published", mid)]
        assert len(pubacks) == 1 and pubacks[0][2] < 0x80  # success (0x10: no subscribers)
    finally:
        connection.close()
    assert " as till1 " in broker.log()


def test_a_certificate_for_another_terminal_stops_the_uplink_at_start(tmp_path: Path) -> None:
    files = _write_tls(tmp_path / "tls", "till9")
    with pytest.raises(IdentityMismatch) as caught:
        build_client(_tls_cfg(1883, files), "till1", WILL)
    assert (caught.value.client_id, caught.value.common_name) == ("till1", "till9")
    assert caught.value.cert_file == str(files["client_crt"])

    till = make_till(tmp_path / "till", 1883, extra_mqtt=(
        f'ca_file = "{files["ca"]}"\ncert_file = "{files["client_crt"]}"\n'
        f'key_file = "{files["client_key"]}"\n'))
    proc = kassa("--config", str(till.config_path), "uplink", stderr=-1, text=True)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "'till9'" in err and "'till1'" in err and "Traceback" not in err


def test_publish_without_a_connection_says_so(tmp_path: Path) -> None:
    events = Recorder()
    connection = Connection(MqttConfig(enabled=True, port=1), "till1", WILL, [], events)
    assert connection.publish("kassa/v1/store1/till1/status", b"{}") is None


def test_the_will_is_the_offline_status(tmp_path: Path) -> None:
    till = make_till(tmp_path / "till", 1883)
    uplink = Uplink(till.db, till.store, till.terminal, MqttConfig(enabled=True))
    will = uplink.connection.client.will_payload
    assert uplink.connection.client.will_topic == wire.terminal_topic(till.store, till.terminal,
                                                                      "status")
    assert json.loads(will)["state"] == "offline"
