"""A tampered or truncated journal: start-up says so plainly and selling stays blocked until a
manager acknowledges, and that acknowledgement is itself journaled."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import peewee
import pytest

from cli.assemble import build_till
from contract.config import Config
from firmware import totals
from firmware.integrity import JournalUnreadable
from firmware.permissions import Action, ApprovalRequired
from firmware.sim import MANAGER_PIN
from firmware.till import TillError, TillService
from tests.faults.shop import closed_day, sale_seq, sim, tamper


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """A terminal with one closed day and a second day under way, then shut down."""
    return closed_day(tmp_path)


def last_sale_seq(config: Config) -> int:
    return sale_seq(config)


def blocked_then_acknowledged(config: Config, words: str, edited: set[str]) -> TillService:
    till = build_till(config)
    assert till.journal_alarm and words in till.journal_alarm, till.journal_alarm
    assert "FAILED ITS START-UP CHECK" in till.journal_alarm
    till.login("1111")  # a cashier may log in and see the alarm, but not sell
    with pytest.raises(TillError, match="selling is blocked"):
        till.add_plu("1")
    with pytest.raises(TillError, match="selling is blocked"):
        till.no_sale("x", approval=till.approve(MANAGER_PIN, Action.NO_SALE))
    with pytest.raises(ApprovalRequired):
        till.acknowledge_journal_alarm()
    head_before, _ = till.journal.head()
    ack = till.acknowledge_journal_alarm(approval=till.approve(MANAGER_PIN, Action.ACK_JOURNAL_ALARM))
    assert ack.seq == head_before + 1 and ack.type == "journal_alarm_ack"
    assert ack.body["data"]["approved_by"] == "Bram"
    assert words in ack.body["data"]["problem"] and ack.body["data"]["problems"]
    till.add_plu("1")
    assert till.pay_card(None, "C1").entry.seq == ack.seq + 1
    replayed = totals.replay(e.body for e in till.journal.entries())
    if edited:  # the counters keep the signed original; only the edited amount differs
        stored = totals.load(till.db)
        assert {k for k in stored if stored[k] != replayed[k]} == edited
    else:  # entries were lost: the acknowledgement rebuilt the counters from what is left
        assert totals.load(till.db) == replayed
    till.db.close()
    again = build_till(config)  # an acknowledged problem does not block again
    assert again.journal_alarm is None
    return again


Tamper = Callable[[Config], str]


def edit_a_sale(config: Config) -> str:
    seq = last_sale_seq(config)
    tamper(config, f"UPDATE journal SET body = replace(body, '\"total\":', '\"total\":9') "
                   f"WHERE seq = {seq}")
    return f"entry {seq} was altered"


def edit_a_sale_before_the_last_z(config: Config) -> str:
    seq = sale_seq(config, before_last_z=True)
    tamper(config, f"UPDATE journal SET body = replace(body, '\"total\":', '\"total\":9') "
                   f"WHERE seq = {seq}")
    return f"entry {seq} was altered"


def cut_off_the_end(config: Config) -> str:
    tamper(config, "DELETE FROM journal WHERE seq > (SELECT max(seq) - 4 FROM journal)")
    return "truncated"


def delete_one_in_the_middle(config: Config) -> str:
    seq = last_sale_seq(config) - 3
    tamper(config, f"DELETE FROM journal WHERE seq = {seq}")
    return f"first is entry {seq} (deleted)"


def behind_head_office(config: Config) -> str:
    tamper(config, "INSERT OR REPLACE INTO delivery (key, acked_seq, updated) "
                   "VALUES ('ack', 100000, '')")
    return "head office confirmed entries up to 100000"


@pytest.mark.parametrize("damage", [edit_a_sale, edit_a_sale_before_the_last_z, cut_off_the_end,
                                    delete_one_in_the_middle, behind_head_office])
def test_start_up_blocks_selling_until_a_manager_acknowledges(config: Config, damage: Tamper) -> None:
    words = damage(config)
    refused = sim(config)
    assert refused.returncode == 3 and "FAILED ITS START-UP CHECK" in refused.stderr, refused.stderr
    assert words in refused.stderr
    edited = {edit_a_sale: {"g:sales", "p:sales.amount"},
              edit_a_sale_before_the_last_z: {"g:sales"}}.get(damage, set())
    till = blocked_then_acknowledged(config, words, edited=edited)
    if edited or damage is delete_one_in_the_middle:
        assert not till.journal.verify().ok  # the history stays damaged; the audit still says so
    till.db.close()
    assert sim(config).returncode in (0, 1)  # sells again (1 only when full verify fails)


def test_a_clean_journal_starts_without_alarm(config: Config) -> None:
    till = build_till(config)
    assert till.journal_alarm is None
    till.db.close()
    result = sim(config)
    assert result.returncode == 0, result.stderr
    assert "journal OK" in result.stdout


def test_a_file_cut_short_is_refused_plainly(config: Config) -> None:
    db = peewee.SqliteDatabase(str(config.database_path))
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    path = Path(config.database_path)
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.truncate(size // 3)
    with pytest.raises(JournalUnreadable, match="damaged or was cut short"):
        build_till(config)
    result = sim(config)
    assert result.returncode == 3 and "cut short" in result.stderr and "Traceback" not in result.stderr
