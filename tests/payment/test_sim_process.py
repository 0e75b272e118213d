"""The simulated terminal served from a process of its own (what the bench pays against)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from drivers.payment.adyen import AdyenTerminal
from drivers.payment.crypto import SharedKey
from drivers.payment.sim_serve import SimProcess, SimProcessError

PASSPHRASE = "process passphrase 3q"


def secret_file(tmp_path: Path, mode: int = 0o600) -> Path:
    secret = tmp_path / "passphrase"
    secret.write_text(PASSPHRASE + "\n")
    secret.chmod(mode)
    return secret


def test_pays_against_a_terminal_in_another_process(tmp_path: Path) -> None:
    sim = SimProcess(tmp_path, secret_file(tmp_path), "kassa-key", 2)
    try:
        terminal = AdyenTerminal(sim.url, sim.poiid, "t1", key=SharedKey("kassa-key", PASSPHRASE, 2),
                                 ca_file=str(sim.cert_file), timeout=10)
        first = terminal.pay(1250, "a1b2c3d4e5", "t1-ref1")
        second = terminal.pay(999, "a1b2c3d4e6", "t1-ref2")
        declined = terminal.pay(1013, "a1b2c3d4e7", "t1-ref3")  # ends in 13 cents: declined
        assert (first["result"], second["result"], declined["result"]) == (
            "approved", "approved", "declined")
        assert first["service_id"] == "a1b2c3d4e5" and first["psp_reference"]
        terminal.close()
    finally:
        seen = sim.stop()
    assert sim.pid > 0
    # One kept-alive TLS connection for the three payments; two approved at the acquirer.
    assert seen == {"connections": 1, "approved": 2, "refused": []}


def test_a_wrong_key_is_refused_and_reported(tmp_path: Path) -> None:
    sim = SimProcess(tmp_path, secret_file(tmp_path))
    try:
        terminal = AdyenTerminal(sim.url, sim.poiid, "t1", key=SharedKey("kassa", "other", 1),
                                 ca_file=str(sim.cert_file), timeout=10)
        with pytest.raises(OSError, match="HTTP 400"):
            terminal.pay(500, "b1b2c3d4e5", "t1-ref")
    finally:
        seen = sim.stop()
    assert seen["approved"] == 0 and len(seen["refused"]) == 1


def test_a_passphrase_others_can_read_stops_it_starting(tmp_path: Path) -> None:
    with pytest.raises(SimProcessError, match="exited with status 2: .*mode 0644 lets others read it"):
        SimProcess(tmp_path, secret_file(tmp_path, 0o644))


def test_terminated_it_stops_serving_and_reports(tmp_path: Path) -> None:
    sim = SimProcess(tmp_path, secret_file(tmp_path))
    terminal = AdyenTerminal(sim.url, sim.poiid, "t1", key=SharedKey("kassa", PASSPHRASE, 1),
                             ca_file=str(sim.cert_file), timeout=10, connect_timeout=2)
    assert terminal.pay(700, "c1b2c3d4e5", "t1-ref")["result"] == "approved"
    terminal.close()
    os.kill(sim.pid, signal.SIGTERM)
    assert sim.stop() == {"connections": 1, "approved": 1, "refused": []}
    with pytest.raises(OSError):  # nothing serves there any more
        terminal.pay(800, "c1b2c3d4e6", "t1-ref2")
