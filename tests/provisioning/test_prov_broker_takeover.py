"""Client-id takeover against a real Mosquitto running the generated configuration.

MQTT lets a new connection with a client id in use close the old one (and take its
session). Terminal A, with its own valid certificate, tries every listener with the client
id of terminal B and of an ingest worker: the victim must stay connected, and A be refused
or given an id of its own (its certificate's CN).
"""

from __future__ import annotations

import getpass
import time

import pytest
from provkit import init_fleet, run_cli
from test_prov_broker import Secured, Session, secured, terminal_session

from provisioning import ca as x509ca
from provisioning.fleet import INGEST_CN, Fleet
from provisioning.ingest_identity import has_own_authority

__all__ = ["secured"]  # the fixture, used below

WORKER_ID = "kassa-ingest-0"  # `kassa office ingest` names worker i <prefix>-<i>


def _victims(s: Secured) -> dict[str, Session]:
    b = terminal_session(s, "t2")  # the broker makes its client id t2, the CN
    worker = _ingest_worker(s)
    assert b.accepted and worker.accepted
    return {"t2": b, WORKER_ID: worker}


def _ingest_worker(s: Secured) -> Session:
    return Session(s.ingest_port, s.fleet / "ca" / "ca.crt", s.fleet / "ingest" / "ingest.crt",
                   s.fleet / "ingest" / "ingest.key", client_id=WORKER_ID)


def _attacker(s: Secured, port: int, client_id: str) -> Session:
    b = s.bundle("t1")
    return Session(port, b / "ca.crt", b / "client.crt", b / "client.key", client_id=client_id)


@pytest.mark.parametrize("listener", ["terminal", "ingest"])
@pytest.mark.parametrize("victim", ["t2", WORKER_ID])
def test_a_terminal_cannot_take_over_another_session(secured: Secured, listener: str,
                                                     victim: str) -> None:
    victims = _victims(secured)
    port = secured.port if listener == "terminal" else secured.ingest_port
    attacker = _attacker(secured, port, victim)
    try:
        time.sleep(1.0)  # a takeover closes the old connection at once
        assert not victims[victim].closed.is_set(), (
            f"t1 on the {listener} listener kicked {victim} off: {secured.broker.log()[-600:]}")
        assert f"Client {victim} already connected" not in secured.broker.log()
        if attacker.accepted:  # then only under its own name
            mine = [line for line in secured.broker.log().splitlines()
                    if "New client connected" in line and "u't1'" in line]
            assert mine and all(" as t1 " in line for line in mine), mine
    finally:
        attacker.close()
        for session in victims.values():
            session.close()


def test_the_own_certificate_still_connects_where_it_belongs(secured: Secured) -> None:
    t1 = terminal_session(secured, "t1")
    worker = _ingest_worker(secured)
    assert t1.accepted and worker.accepted
    t1.close()
    worker.close()


def test_a_terminal_may_not_be_named_like_an_ingest_worker(capsys, tmp_path) -> None:
    """On the terminal listener the client id is the CN: a terminal called kassa-ingest-0
    would take that worker's session."""
    fleet = init_fleet(capsys, tmp_path)
    code, _, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "enroll",
                           "--store", "s1", "--terminal", WORKER_ID, "--demo-identity")
    assert code != 0 and "reserved" in err


def test_an_older_fleet_gets_its_head_office_ca_at_broker_config(capsys, tmp_path) -> None:
    """A fleet made when the fleet CA issued the ingest certificate: broker-config issues
    the ingest identity under a head-office CA and says it must be copied to head office."""
    root = init_fleet(capsys, tmp_path)
    with Fleet.locked(root) as fleet:  # as `init` made it before the head-office CA
        authority = x509ca.CA(x509ca.load_key(fleet.ca_key_path.read_bytes()),
                              x509ca.load_cert(fleet.ca_cert_path.read_bytes()))
        key, cert = x509ca.issue(authority, INGEST_CN, unit="head office")
        fleet.ingest_key_path.write_bytes(x509ca.key_pem(key))
        fleet.ingest_cert_path.write_bytes(x509ca.cert_pem(cert))
        fleet.ingest_ca_cert_path.unlink()
        assert not has_own_authority(fleet)
    out = tmp_path / "broker"
    code, text, err = run_cli(capsys, "provision", "--fleet-dir", str(root), "broker-config",
                              "--out", str(out), "--run-as", getpass.getuser())
    assert code == 0, err
    assert "new ingest certificate" in text
    with Fleet.locked(root) as fleet:
        assert has_own_authority(fleet)
        renewed = x509ca.load_cert(fleet.ingest_cert_path.read_bytes())
    assert x509ca.common_name(renewed) == INGEST_CN
    conf = (out / "mosquitto.conf").read_text()
    ingest_listener = conf.split("# head office", 1)[1]
    assert f"cafile {out / 'ingest-ca.crt'}" in ingest_listener
    assert "crlfile" not in ingest_listener and f"cafile {out / 'ca.crt'}\n" in conf
    assert (out / "ingest-ca.crt").read_bytes() == (root / "ingest" / "ingest-ca.crt").read_bytes()
