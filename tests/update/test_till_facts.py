"""What the till tells the updater through the shared database, and what it journals about
its own software at start: the facts `kassa update` acts on, read back through
updater/tillfacts.py as the updater reads them."""

from __future__ import annotations

import json
from pathlib import Path

from cli.assemble import build_till
from contract.version import SOFTWARE_VERSION
from firmware.models import JournalEntry, Meta
from firmware.ports import Peripherals
from firmware.runtime import TillRuntime
from firmware.sim import ensure_demo_data, make_gtin
from firmware.software import REASON_KEY, keep_release_notice
from tests.fixtures_till import make_config
from updater.tillfacts import TillFacts


def updates(till) -> list[dict]:
    rows = JournalEntry.select().where(JournalEntry.type == "software_update").order_by(
        JournalEntry.seq)
    return [json.loads(row.body)["data"] for row in rows]


def pretend_started(till, version: str) -> None:
    """A software_start of another version, as the release before this one wrote it."""
    with till.journal.transaction():
        till.journal.append("software_start", {"version": version, "config": "x"})


def test_an_open_ticket_reaches_the_updater_at_once(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    till = build_till(config)
    ensure_demo_data(till, products=5)
    runtime = TillRuntime(till, Peripherals())
    facts = TillFacts(config.database_path)
    runtime.status()
    assert facts.activity().ticket_open is False and facts.activity().at is not None
    till.login("1111")
    till.scan(make_gtin(1))
    runtime.status()
    assert facts.activity().ticket_open is True
    till.void_open_ticket()
    runtime.status()
    assert facts.activity().ticket_open is False
    runtime.close()


def test_a_new_version_journals_its_update_with_the_updaters_reason(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    till = build_till(config)
    pretend_started(till, "0.0.9")
    facts = TillFacts(config.database_path)
    head = facts.journal_head()
    facts.set_reason("update", SOFTWARE_VERSION)
    till.db.close()
    till = build_till(config)  # the next start, on this version
    assert updates(till) == [{"from_version": "0.0.9", "to_version": SOFTWARE_VERSION,
                              "outcome": "update"}]
    assert facts.update_journaled(head, SOFTWARE_VERSION)
    assert Meta.get_or_none(Meta.key == REASON_KEY) is None  # consumed with the entry
    till.db.close()
    till = build_till(config)  # a plain restart journals no update
    assert len(updates(till)) == 1
    assert till.journal.verify().ok
    till.db.close()


def test_an_update_undone_before_it_started_is_journaled_as_rolled_back(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    till = build_till(config)
    TillFacts(config.database_path).set_reason("rollback", SOFTWARE_VERSION, undone="9.9.9")
    till.db.close()
    till = build_till(config)  # the old version again: the new one never journaled
    assert updates(till) == [{"from_version": SOFTWARE_VERSION, "to_version": "9.9.9",
                              "outcome": "rolled_back"}]
    till.db.close()


def test_a_reason_meant_for_another_version_is_left_for_it(tmp_path: Path) -> None:
    """The old till restarting while the updater switches does not take the new one's
    reason: the new version still journals `update`."""
    config = make_config(tmp_path)
    till = build_till(config)
    pretend_started(till, "0.0.9")
    TillFacts(config.database_path).set_reason("update", "0.0.9")  # meant for another build
    till.db.close()
    till = build_till(config)
    assert updates(till)[-1]["outcome"] == "manual"  # this version was not the one meant
    assert Meta.get_or_none(Meta.key == REASON_KEY) is not None  # left for 0.0.9
    till.db.close()


def test_the_uplinks_copy_of_the_notice_is_what_the_updater_reads(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    till = build_till(config)
    facts = TillFacts(config.database_path)
    assert facts.notice_payload() is None
    keep_release_notice(till.db, b'{"kind":"release"}\n{"version":1}')
    assert facts.notice_payload() == b'{"kind":"release"}\n{"version":1}'
    till.db.close()
