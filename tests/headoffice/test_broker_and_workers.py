"""The office side's one MQTT client factory, and the ingest workers' own process entry."""

from __future__ import annotations

import subprocess
import sys
import threading

import paho.mqtt.client as mqtt
import pytest

from headoffice import broker
from headoffice.broker import BrokerSettings, new_client
from headoffice.ingest import supervisor, worker_main
from headoffice.ingest.worker_main import WorkerSpec, parse_args
from provisioning import ca as x509ca
from tests.fixtures_services import free_port


def test_clients_speak_mqtt_5_with_paho_2_callbacks():
    client = new_client(BrokerSettings(port=1884), "kassa-ingest-0", manual_ack=True)
    assert client.protocol == mqtt.MQTTv5
    assert client.callback_api_version == mqtt.CallbackAPIVersion.VERSION2


def test_tls_is_set_up_by_the_factory_with_the_given_identity(tmp_path):
    fleet = x509ca.create_ca()
    key, cert = x509ca.issue(fleet, "kassa-ingest", unit="ingest")
    files = {"ca": x509ca.cert_pem(fleet.cert), "crt": x509ca.cert_pem(cert),
             "key": x509ca.key_pem(key)}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    settings = BrokerSettings(ca_file=str(tmp_path / "ca"), cert_file=str(tmp_path / "crt"),
                              key_file=str(tmp_path / "key"))
    client = new_client(settings, "kassa-offers-1")
    with pytest.raises(ValueError, match="already been configured"):
        client.tls_set()  # the factory did it, once


def test_publisher_fails_when_the_broker_is_away():
    settings = BrokerSettings(port=free_port())
    # OSError is what `kassa customers sync` reports before it tries again
    with pytest.raises(OSError), broker.publisher(settings, "kassa-offers-x", 0.5) as send:
        send("kassa/v1/s1/offers", b"{}", True)


def test_a_worker_spec_survives_the_trip_through_its_command_line():
    spec = WorkerSpec("postgresql://kassa@db/kassa",
                      BrokerSettings("mqtt.example", 8884, "/tls/ca.crt", "/tls/i.crt",
                                     "/tls/i.key"), "kassa-ingest-host-1", 500, True)
    assert parse_args(spec.to_args()) == spec
    plain = WorkerSpec(None, BrokerSettings(), "kassa-ingest-0")
    assert parse_args(plain.to_args()) == plain


def test_the_supervisor_starts_head_offices_own_worker_module(monkeypatch):
    started: list[list[str]] = []
    stop = threading.Event()

    class Proc:
        pid, returncode = 1, None

        def __init__(self, args: list[str]) -> None:
            started.append(args)
            stop.set()

        def poll(self) -> int | None:
            return None

        def send_signal(self, _signum: int) -> None:
            self.returncode = 0

        def wait(self, _timeout: float) -> int:
            return 0

    monkeypatch.setattr(subprocess, "Popen", Proc)
    spec = WorkerSpec(None, BrokerSettings(port=1884), "kassa-ingest-0")
    assert supervisor.supervise([spec], stop) == 0
    assert started == [[sys.executable, "-m", "headoffice.ingest.worker_main", *spec.to_args()]]


def test_the_worker_module_runs_without_the_command_line():
    result = subprocess.run([sys.executable, "-m", worker_main.__name__, "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--client-id" in result.stdout
