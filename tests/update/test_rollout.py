"""Head office's rollouts on SQLite and PostgreSQL: rings and percentages, the sealed
notices each change sends, the failure threshold that halts a ring, reports refused when
malformed, and progress."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contract import sealed
from contract.release_notice import parse_notice
from headoffice.releases import rollout
from tests.update.office_setup import office_key, register

PILOTS = ("p1", "p2")
STORES = tuple(f"s{n}" for n in range(1, 9))


@pytest.fixture
def office(office_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    public = office_key(tmp_path, monkeypatch)
    register(PILOTS + STORES, PILOTS)
    artifact = tmp_path / "kassa-0.2.0.tar"
    artifact.write_bytes(b"release bytes" * 100)
    return public, artifact, tmp_path / "published"


class Sent(list):
    """What would go to the broker: (topic, payload, retained)."""

    def __call__(self, topic: str, payload: bytes, retain: bool) -> None:
        self.append((topic, payload, retain))

    def notice(self, public_key, index: int = -1):
        topic, payload, retain = self[index]
        assert topic == "kassa/v1/fleet/release" and retain
        return parse_notice(json.loads(sealed.unseal(payload, public_key, "release",
                                                     sealed.FLEET).body))


def test_publish_to_pilot_then_widen_to_half_the_stores(office) -> None:
    public, artifact, store = office
    sent = Sent()
    done = rollout.publish("0.2.0", artifact, store, "pilot", 100, sent)
    notice = sent.notice(public)
    assert notice.targets == PILOTS and notice.release == "0.2.0" and notice.version == 1
    assert notice.path == "/releases/kassa-0.2.0.tar" and (store / "kassa-0.2.0.tar").exists()
    assert done.targets == PILOTS
    rollout.publish("0.2.0", artifact, store, "stores", 50, sent)
    widened = sent.notice(public)
    assert widened.version == 2 and set(PILOTS) < set(widened.targets)
    assert len(set(widened.targets) & set(STORES)) == 4
    again = rollout.choose(list(STORES), 50, "0.2.0")
    assert set(again) == set(widened.targets) & set(STORES)  # stable choice


def test_ring_all_at_100_percent_names_every_terminal(office) -> None:
    public, artifact, store = office
    sent = Sent()
    rollout.publish("0.2.0", artifact, store, "all", 100, sent)
    assert sent.notice(public).targets == ("*",)


def test_pause_resume_halt_and_rollback_each_send_a_new_notice(office) -> None:
    public, artifact, store = office
    sent = Sent()
    old = store.parent / "kassa-0.1.0.tar"
    old.write_bytes(b"old release")
    rollout.publish("0.1.0", old, store, "all", 100, sent)
    for terminal in PILOTS:  # the pilots report 0.1.0 running
        rollout.record_report(terminal, {"release": "0.1.0", "running": "0.1.0",
                                         "phase": "done", "outcome": "committed"})
    rollout.publish("0.2.0", artifact, store, "pilot", 100, sent)
    assert rollout.set_state("0.2.0", "paused", sent).notice.state == "paused"
    assert sent.notice(public).state == "paused"
    assert rollout.set_state("0.2.0", "active", sent).notice.state == "active"
    back = rollout.rollback("0.2.0", sent)
    notice = sent.notice(public)
    assert (notice.release, notice.force, notice.reason) == ("0.1.0", True, "rollback")
    assert notice.targets == PILOTS and back.release == "0.1.0"
    assert [n.version for n in (sent.notice(public, i) for i in range(len(sent)))] == [1, 2, 3,
                                                                                      4, 5]
    with pytest.raises(rollout.RolloutError):
        rollout.set_state("0.2.0", "active", sent)


def test_failures_past_the_threshold_halt_the_ring(office) -> None:
    _public, artifact, store = office
    rollout.publish("0.2.0", artifact, store, "stores", 100, Sent(), max_failures=2)
    ok = {"release": "0.2.0", "running": "0.2.0", "phase": "done", "outcome": "committed"}
    bad = {"release": "0.2.0", "running": "0.1.0", "phase": "done", "outcome": "rolled_back",
           "detail": "not healthy within 120s: till READY"}
    assert rollout.record_report("s1", ok) is None
    assert rollout.record_report("s2", bad) is None
    assert rollout.record_report("s3", bad) == "0.2.0"
    progress = rollout.progress("0.2.0")[0]
    assert (progress.targets, progress.committed, progress.failed) == (8, 1, 2)
    assert rollout.terminal_versions()["s2"] == ("0.1.0", "rolled_back", "0.2.0")


@pytest.mark.parametrize(("report", "what"), [
    ({"release": "0.2.0", "phase": "flying"}, "phase"),
    ({"release": "0.2.0", "phase": "done", "outcome": "great"}, "outcome"),
    ({"release": 2, "phase": "done"}, "release"),
    ({"release": "0.2.0", "phase": "done", "detail": "x" * 501}, "detail"),
])
def test_a_malformed_report_is_refused(office, report: dict, what: str) -> None:
    with pytest.raises(rollout.RolloutError) as caught:
        rollout.record_report("s1", report)
    assert caught.value.what == what


def test_publish_refuses_bad_requests(office) -> None:
    _public, artifact, store = office
    for args, what in ((("0.2.0", artifact, store, "moon", 100), "ring"),
                       (("0.2.0", artifact, store, "pilot", 0), "percent"),
                       (("0.2.0", store / "missing.tar", store, "pilot", 100), "artifact")):
        with pytest.raises(rollout.RolloutError) as caught:
            rollout.publish(*args, Sent())
        assert caught.value.what == what
    with pytest.raises(rollout.RolloutError, match="not registered"):
        rollout.set_ring("nobody", "pilot")


def test_only_the_rollout_under_way_can_be_halted_or_paused(office) -> None:
    """A late failure report of an older rollout does not replace the newer notice (there is
    one retained notice for the fleet)."""
    public, artifact, store = office
    sent = Sent()
    rollout.publish("0.2.0", artifact, store, "pilot", 100, sent)
    newer = store.parent / "kassa-0.3.0.tar"
    newer.write_bytes(b"newer")
    rollout.publish("0.3.0", newer, store, "pilot", 100, sent)
    late = {"release": "0.2.0", "running": "0.1.0", "phase": "done", "outcome": "refused"}
    assert rollout.record_report("p1", late) is None
    with pytest.raises(rollout.RolloutError, match="not the rollout under way"):
        rollout.set_state("0.2.0", "paused", sent)
    assert sent.notice(public).release == "0.3.0" and len(sent) == 2
