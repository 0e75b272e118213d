"""The soak's broker: a real Mosquitto on the exact files `kassa provision broker-config`
writes (mTLS terminal listener with CN = client id, head-office listener, both ACLs, CRL),
on free loopback ports, with persistence in the soak's directory."""

from __future__ import annotations

import getpass
from pathlib import Path

from provisioning.brokerconf import BrokerOptions, write_broker_config
from provisioning.fleet import Fleet
from tests.fixtures_services import Broker, free_port

PLACEHOLDER_PORT = 1  # replaced by the Broker's own free port, as tests/provisioning does


def start_broker(fleet: Fleet, workdir: Path) -> tuple[Broker, int]:
    """(broker, head-office listener port); broker.port is the terminal listener."""
    ingest_port = free_port()
    out = workdir / "broker-config"
    write_broker_config(fleet, out, BrokerOptions(
        install_dir=out, data_dir=Path("{dir}"), port=PLACEHOLDER_PORT, ingest_port=ingest_port,
        bind="127.0.0.1", ingest_bind="127.0.0.1", run_as=getpass.getuser()))
    text = (out / "mosquitto.conf").read_text()
    listener = f"listener {PLACEHOLDER_PORT} 127.0.0.1\n"
    if listener not in text:
        raise RuntimeError(f"{out / 'mosquitto.conf'}: no terminal listener line {listener!r}")
    broker = Broker(workdir / "mosquitto", text.replace(listener, "listener {port} 127.0.0.1\n"))
    return broker.start(), ingest_port
