"""Over-the-air updates end to end: real Mosquitto, head office's release server over mutual
TLS, terminals running the till (headless) and uplink under a supervisor, `kassa update`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.update.kit import UpdateFleet, wait_for

pytestmark = pytest.mark.timeout(600)
HEALTH = 10


@pytest.fixture
def fleet(tmp_path: Path, mosquitto, monkeypatch: pytest.MonkeyPatch) -> Iterator[UpdateFleet]:
    made = UpdateFleet(tmp_path, mosquitto(), health_seconds=HEALTH)
    monkeypatch.setenv("KASSA_OFFICE_KEY", str(made.office_pem))
    yield made
    made.close()


def _healthy(terminal, version: str) -> bool:
    return terminal.current() == version and terminal.ready() and \
        terminal.state()["phase"] == "idle"


def test_pilot_ring_gets_the_update_and_stores_do_not(fleet: UpdateFleet) -> None:
    server = fleet.start_server()
    pilot = fleet.add_terminal("pilot-1", server, ring="pilot")
    store = fleet.add_terminal("store-1", server, ring="stores")
    for terminal in (pilot, store):
        wait_for(terminal.ready, 60, f"{terminal.name} on 0.1.0 READY")
    done = fleet.publish("0.2.0", fleet.artifact("0.2.0"), ring="pilot")
    assert done.targets == ("pilot-1",)
    wait_for(lambda: pilot.state()["last"].get("outcome") == "committed", 90,
             "the pilot to commit 0.2.0")
    assert pilot.current() == "0.2.0"
    assert pilot.ready()
    assert (pilot.opt / "committed").resolve().name == "0.2.0"
    assert pilot.journal_updates() == [{"from_version": "0.1.0", "to_version": "0.2.0",
                                        "outcome": "update"}]
    verify = pilot.journal_verify()
    assert verify.returncode == 0, verify.stdout + verify.stderr
    report = wait_for(lambda: (r := fleet.report("pilot-1")) and r.outcome == "committed" and r,
                      20, "head office to hear of the commit")
    assert report.release == "0.2.0"
    assert store.current() == "0.1.0" and store.state()["phase"] == "idle"
    assert fleet.report("store-1") is None


def test_a_broken_release_rolls_back_by_itself_and_halts_its_ring(fleet: UpdateFleet) -> None:
    server = fleet.start_server()
    pilot = fleet.add_terminal("pilot-1", server, ring="pilot")
    other = fleet.add_terminal("pilot-2", server, ring="pilot", start=False)
    wait_for(pilot.ready, 60, "the pilot on 0.1.0 READY")
    fleet.publish("0.3.0", fleet.artifact("0.3.0", broken=True), ring="pilot")
    switched = wait_for(lambda: pilot.state()["phase"] == "health" and pilot.state(), 60,
                        "the switch to 0.3.0")
    last = wait_for(lambda: pilot.state()["last"].get("outcome") == "rolled_back" and
                    pilot.state()["last"], HEALTH + 30, "the rollback")
    assert "till READY" in last["detail"]
    rolled_at = max(e["at"] for e in pilot.events() if e["event"] == "start")
    assert rolled_at - switched["switched_at"] <= HEALTH + 5  # back within the health limit
    assert pilot.current() == "0.1.0"
    wait_for(pilot.ready, 30, "0.1.0 READY again")
    updates = pilot.journal_updates()
    # 0.3.0 never journaled a start: the old till journals the update that was undone
    assert updates[-1] == {"from_version": "0.1.0", "to_version": "0.3.0",
                           "outcome": "rolled_back"}
    assert pilot.journal_verify().returncode == 0
    wait_for(lambda: fleet.release_state("0.3.0") == "halted", 20, "the ring to halt")
    # a pilot terminal that comes online after the halt does not start the update
    other.start("supervisor")
    other.start("updater")
    wait_for(other.ready, 60, "pilot-2 READY")
    wait_for(lambda: other.events() and (other.root / "updater.log").exists(), 10, "pilot-2 up")
    import time

    time.sleep(4)
    assert other.current() == "0.1.0" and other.state()["phase"] == "idle"


@pytest.mark.parametrize("bad", ["other-key", "wrong-hash", "wrong-arch"])
def test_a_bad_artifact_is_refused_without_touching_the_running_version(
        fleet: UpdateFleet, bad: str) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    server = fleet.start_server()
    pilot = fleet.add_terminal("pilot-1", server, ring="pilot")
    wait_for(pilot.ready, 60, "the pilot READY")
    starts = len([e for e in pilot.events() if e["event"] == "start"])
    kwargs = {"other-key": {"key": Ed25519PrivateKey.generate()},
              "wrong-hash": {"tamper": True},
              "wrong-arch": {"arch": ("riscv64",)}}[bad]
    fleet.publish("0.4.0", fleet.artifact("0.4.0", **kwargs), ring="pilot")
    last = wait_for(lambda: pilot.state()["last"].get("outcome") == "refused" and
                    pilot.state()["last"], 60, "the refusal")
    reason = {"other-key": "signature", "wrong-hash": "hash", "wrong-arch": "arch"}[bad]
    assert last["detail"].startswith(reason), last
    assert pilot.current() == "0.1.0"
    assert not (pilot.opt / "releases" / "0.4.0").exists()
    assert len([e for e in pilot.events() if e["event"] == "start"]) == starts  # not restarted
    assert pilot.ready()
    wait_for(lambda: (r := fleet.report("pilot-1")) and r.outcome == "refused", 20,
             "head office to hear of the refusal")


def test_no_downgrade_unless_forced_and_an_admin_rollback_goes_back(fleet: UpdateFleet,
                                                                     capsys) -> None:
    from cli import main

    server = fleet.start_server()
    pilot = fleet.add_terminal("pilot-1", server, ring="pilot")
    wait_for(pilot.ready, 60, "the pilot READY")
    fleet.publish("0.1.0", fleet.artifact("0.1.0"))  # what the fleet runs, known to head office
    fleet.publish("0.2.0", fleet.artifact("0.2.0"))
    wait_for(lambda: pilot.state()["last"].get("release") == "0.2.0", 90, "0.2.0 committed")
    # an older release without the admin's force is refused, nothing restarted
    fleet.publish("0.1.5", fleet.artifact("0.1.5"))
    last = wait_for(lambda: pilot.state()["last"].get("release") == "0.1.5" and
                    pilot.state()["last"], 30, "the downgrade refused")
    assert last["outcome"] == "refused" and "downgrade" in last["detail"]
    assert pilot.current() == "0.2.0"
    # the admin rolls 0.2.0 back: the terminal returns to 0.1.0 and journals why
    with fleet.send() as send:
        from headoffice.releases import rollout

        back = rollout.rollback("0.2.0", send)
    assert back.release == "0.1.0" and back.notice.force
    wait_for(lambda: pilot.state()["last"].get("release") == "0.1.0" and
             pilot.state()["phase"] == "idle", 90, "the rollback to 0.1.0")
    assert pilot.state()["last"]["outcome"] == "committed"
    assert pilot.current() == "0.1.0"
    assert pilot.journal_updates()[-1] == {"from_version": "0.2.0", "to_version": "0.1.0",
                                           "outcome": "rollback"}
    assert pilot.journal_verify().returncode == 0
    wait_for(lambda: (r := fleet.report("pilot-1")) and r.running == "0.1.0", 20,
             "head office to see 0.1.0 running")
    capsys.readouterr()
    assert main(["office", "--db", str(fleet.root / "office.sqlite3"), "release", "status"]) == 0
    out = capsys.readouterr().out
    assert "0.2.0 (pilot, rolled_back)" in out and "pilot-1: 0.1.0 (committed 0.1.0)" in out
