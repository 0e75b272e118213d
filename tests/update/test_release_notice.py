"""The release notice's contract, the updater's rules for when it may stop the till, its
state file, and the version order."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from contract.config import ConfigError, UpdateConfig, parse_config
from contract.release_notice import NoticeError, is_newer, parse_notice, version_key
from updater.policy import may_install, within_hours
from updater.state import StateError, StateFile, UpdateState
from updater.tillfacts import Activity

GOOD = {"version": 3, "release": "0.2.0", "state": "active", "targets": ["t1", "t2"],
        "path": "/releases/kassa-0.2.0.tar", "sha256": "a" * 64, "size": 1000, "force": False,
        "reason": "rollout"}


def test_a_good_notice_parses_and_names_its_targets() -> None:
    notice = parse_notice(GOOD)
    assert notice.targets_terminal("t1") and not notice.targets_terminal("t3")
    assert parse_notice({**GOOD, "targets": ["*"]}).targets_terminal("t3")
    assert notice.body() == GOOD


@pytest.mark.parametrize(("change", "field"), [
    ({"version": 0}, "version"), ({"version": True}, "version"), ({"release": "two"}, "release"),
    ({"state": "running"}, "state"), ({"targets": ["bad/id"]}, "targets"),
    ({"path": "/etc/passwd"}, "path"), ({"path": "/releases/../x"}, "path"),
    ({"sha256": "A" * 64}, "sha256"), ({"size": 0}, "size"), ({"reason": "why"}, "reason"),
    ({"extra": 1}, "extra"), ({"force": "yes"}, "force"),
])
def test_a_bad_notice_is_refused_naming_the_field(change: dict, field: str) -> None:
    with pytest.raises(NoticeError) as caught:
        parse_notice({**GOOD, **change})
    assert caught.value.field == field


def test_a_notice_missing_a_field_names_it() -> None:
    data = dict(GOOD)
    del data["sha256"]
    with pytest.raises(NoticeError) as caught:
        parse_notice(data)
    assert (caught.value.field, caught.value.reason) == ("sha256", "missing")


def test_versions_order_numerically_and_a_final_release_after_its_candidates() -> None:
    assert is_newer("0.10.0", "0.9.9") and is_newer("0.2.0", "0.2.0rc1")
    assert not is_newer("0.1", "0.1.0") and not is_newer("0.1.0", "0.2.0")
    assert version_key("1.2") == version_key("1.2.0")
    with pytest.raises(NoticeError):
        version_key("1.2.x")


NOON = dt.datetime(2026, 12, 3, 12, 0).astimezone()


def test_never_with_a_ticket_open() -> None:
    assert may_install(UpdateConfig(), Activity(True, NOON), None, NOON) == (False,
                                                                             "a ticket is open")
    assert may_install(UpdateConfig(), Activity(False, NOON), None, NOON) == (True, "")
    # a till that stopped refreshing the fact is not running: its ticket is gone
    stale = NOON - dt.timedelta(minutes=5)
    assert may_install(UpdateConfig(), Activity(True, stale), None, NOON)[0] is True


def test_opening_hours_allow_only_outside_them_or_right_after_a_z() -> None:
    cfg = UpdateConfig(opening_hours="08:00-18:00", after_z_minutes=30)
    idle = Activity(False, None)
    allowed, why = may_install(cfg, idle, None, NOON)
    assert not allowed and "08:00-18:00" in why
    assert may_install(cfg, idle, NOON - dt.timedelta(minutes=10), NOON)[0]
    assert not may_install(cfg, idle, NOON - dt.timedelta(minutes=40), NOON)[0]
    assert may_install(cfg, idle, None, NOON.replace(hour=19))[0]
    assert within_hours("22:00-06:00", NOON.replace(hour=23)) and \
        not within_hours("22:00-06:00", NOON)


def test_the_update_section_refuses_bad_values_by_key() -> None:
    config = parse_config('[update]\nopening_hours = "08:00-18:00"\nhealth_seconds = 30\n')
    assert config.update.health_seconds == 30
    for text, key in (('[update]\nopening_hours = "8-18"\n', "update.opening_hours"),
                      ("[update]\nhealth_seconds = 1\n", "update.health_seconds"),
                      ('[update]\nserver = "http://x"\n', "update.server"),
                      ("[update]\nenabled = true\n", "update.server"),
                      ("[update]\nwhen = 1\n", "update.when")):
        with pytest.raises(ConfigError) as caught:
            parse_config(text)
        assert caught.value.key == key, text


def test_the_state_file_round_trips_and_refuses_garbage(tmp_path: Path) -> None:
    states = StateFile(tmp_path / "update")
    assert states.load() == UpdateState()
    saved = states.save(UpdateState(phase="health", target="0.2.0", deadline=5.0,
                                    last={"outcome": "committed"}))
    assert states.load() == saved
    states.path.write_text(json.dumps({"phase": "flying"}))
    with pytest.raises(StateError, match="unknown phase"):
        states.load()
    states.path.write_text("{half")
    with pytest.raises(StateError, match="unreadable"):
        states.load()
