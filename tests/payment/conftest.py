"""A simulated terminal over HTTPS on loopback and a till wired to it through [payment]."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.assemble import build_till
from cli.payment_wiring import build_terminal
from contract.config import Config
from drivers.payment.crypto import SharedKey
from drivers.payment.sim import SimTerminal
from firmware.sim import ensure_demo_data
from firmware.till import TillService
from tests.fixtures_till import RecordingDrawer, make_config

PASSPHRASE = "shop passphrase 7x"


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[SimTerminal]:
    sim = SimTerminal(SharedKey("kassa-key", PASSPHRASE, 1), directory=tmp_path).start()
    yield sim
    sim.stop()


def payment_config(tmp: Path, sim: SimTerminal, timeout: int = 10) -> Config:
    secret = tmp / "passphrase"
    secret.write_text(PASSPHRASE + "\n")
    secret.chmod(0o600)
    return make_config(tmp, f"""
[payment]
kind = "adyen"
url = "{sim.url}"
poiid = "{sim.poiid}"
key_identifier = "kassa-key"
key_passphrase_file = "{secret}"
key_version = 1
ca_file = "{sim.cert_file}"
timeout_seconds = {timeout}
status_seconds = 10
""")


@pytest.fixture
def pay_till(tmp_path: Path, terminal: SimTerminal) -> Iterator[TillService]:
    till = build_till(payment_config(tmp_path, terminal), drawer=RecordingDrawer())
    ensure_demo_data(till, products=10)
    build_terminal(till.config, till)
    till.login("1111")
    yield till
    till.db.close()
