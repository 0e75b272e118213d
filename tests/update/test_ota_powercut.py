"""Never bricked: 30 power cuts (kill -9 of the updater, the till or both) at random moments
of an update, spread over download, install, switch and health check. After each the
terminal runs a good release, READY, its journal verifies, and the update finished (or was
retried cleanly and then finished)."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.update.kit import UpdateFleet, wait_for

pytestmark = pytest.mark.timeout(900)
CUTS = 30
TARGETS = ("download", "downloaded", "installed", "switching", "health")
VICTIMS = ("updater", "till", "both")


@pytest.fixture
def fleet(tmp_path: Path, mosquitto, monkeypatch: pytest.MonkeyPatch) -> Iterator[UpdateFleet]:
    made = UpdateFleet(tmp_path, mosquitto(), health_seconds=15)
    monkeypatch.setenv("KASSA_OFFICE_KEY", str(made.office_pem))
    yield made
    made.close()


def _phase_reached(terminal, target: str) -> str | None:
    phase = terminal.state()["phase"]
    order = ("download", "downloaded", "installed", "switching", "health")
    if phase in order and order.index(phase) >= order.index(target):
        return phase
    return None


def test_thirty_power_cuts_leave_the_terminal_healthy(fleet: UpdateFleet) -> None:
    rng = random.Random(16)
    server = fleet.start_server()
    terminal = fleet.add_terminal("pilot-1", server, ring="pilot")
    wait_for(terminal.ready, 60, "the terminal READY")
    seen: Counter[str] = Counter()
    for cut in range(CUTS):
        version = f"0.2.{cut + 1}"
        target = TARGETS[cut % len(TARGETS)]
        victim = VICTIMS[rng.randrange(len(VICTIMS))]
        fleet.publish(version, fleet.artifact(version))
        # the moment: once the update has reached `target`, after a random 0-300 ms
        deadline = time.monotonic() + 60
        phase = None
        while phase is None and time.monotonic() < deadline:
            phase = _phase_reached(terminal, target)
            if terminal.state()["last"].get("release") == version:
                phase = "done"
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.3))
        phase = terminal.state()["phase"] if phase != "done" else "done"
        seen[f"{phase}/{victim}"] += 1
        if victim in ("updater", "both"):
            terminal.kill("updater")
        if victim in ("till", "both"):
            terminal.kill("till")
        if victim in ("updater", "both"):
            terminal.start("updater")  # systemd's Restart=always
        last = wait_for(lambda v=version: terminal.state()["phase"] == "idle" and
                        terminal.state()["last"].get("release") == v and
                        terminal.state()["last"], 90, f"cut {cut}: the update to {version} "
                        f"to end (killed {victim} in {phase})")
        assert last["outcome"] == "committed", (cut, phase, victim, last)
        assert terminal.current() == version
        wait_for(terminal.ready, 30, f"cut {cut}: the till READY on {version}")
        verify = terminal.journal_verify()
        assert verify.returncode == 0, (cut, verify.stdout, verify.stderr)
    updates = terminal.journal_updates()
    tos = [u["to_version"] for u in updates if u["outcome"] == "update"]
    assert tos == [f"0.2.{n}" for n in range(1, CUTS + 1)]  # each update journaled once
    print("power cuts (phase/victim):", dict(sorted(seen.items())))
    assert {key.split("/")[0] for key in seen} >= {"installed", "health"}


def test_a_power_cut_in_the_health_check_of_a_broken_release_still_rolls_back(
        fleet: UpdateFleet) -> None:
    server = fleet.start_server()
    terminal = fleet.add_terminal("pilot-1", server, ring="pilot")
    wait_for(terminal.ready, 60, "the terminal READY")
    fleet.publish("0.3.0", fleet.artifact("0.3.0", broken=True))
    wait_for(lambda: terminal.state()["phase"] == "health", 60, "the health check")
    time.sleep(1)
    terminal.kill("updater")
    terminal.kill("till")
    terminal.start("updater")
    last = wait_for(lambda: terminal.state()["phase"] == "idle" and
                    terminal.state()["last"].get("release") == "0.3.0" and
                    terminal.state()["last"], 3 * 15 + 30, "the rollback after the cut")
    assert last["outcome"] == "rolled_back"
    assert terminal.current() == "0.1.0"
    wait_for(terminal.ready, 30, "0.1.0 READY again")
    assert terminal.journal_verify().returncode == 0
    assert terminal.journal_updates()[-1]["outcome"] == "rolled_back"
