"""Issue 17, point 5: neither the start-up check nor the Z trusts unsigned data.

An amount edited anywhere (before the last Z too, after the verified point has moved past
it, with or without the chain re-hashed behind it) and running totals edited in the table
are found at start-up before anything is sold; a Z is never signed over edited totals, and
start-up checks every Z after the verified point against its rebuild."""

from __future__ import annotations

import hashlib
from pathlib import Path

import peewee
import pytest

from cli.assemble import build_till
from contract import figures
from contract.config import Config
from firmware import checkpoint, reports, totals
from firmware.errors import JournalAlarmActive, TotalsNotSealed
from firmware.permissions import Action
from firmware.sim import MANAGER_PIN, run_day
from tests.faults.shop import acknowledge, closed_day, kassa, refused_at_start, sale_seq, sim, tamper


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """A closed day and a second under way; restarted once, so the verified point is the head."""
    return closed_day(tmp_path, restart=True)


def rehash_from(config: Config, seq: int) -> None:
    """What a careful forger does after editing entry `seq`: every later hash recomputed, so
    the chain links again (only the signatures, which need the key, are left as they were)."""
    db = peewee.SqliteDatabase(str(config.database_path))
    prev = bytes.fromhex(db.execute_sql("SELECT hash FROM journal WHERE seq = ?",
                                        (seq - 1,)).fetchone()[0])
    with db.atomic():
        for row_seq, body in db.execute_sql("SELECT seq, body FROM journal WHERE seq >= ? "
                                            "ORDER BY seq", (seq,)).fetchall():
            prev = hashlib.sha256(prev + body.encode()).digest()
            db.execute_sql("UPDATE journal SET hash = ? WHERE seq = ?", (prev.hex(), row_seq))
    db.close()


@pytest.mark.parametrize("rehashed", [False, True], ids=["edited", "edited-and-rehashed"])
def test_an_amount_edited_before_the_last_z_is_found_before_the_next_sale(
        config: Config, rehashed: bool) -> None:
    seq = sale_seq(config, before_last_z=True)
    point = scalar_point(config)
    assert point > seq  # the verified point lies past the edit: the link pass must find it
    tamper(config, f"UPDATE journal SET body = replace(body, '\"total\":', '\"total\":1') "
                   f"WHERE seq = {seq}")
    if rehashed:
        rehash_from(config, seq)
    refused = sim(config)
    assert refused.returncode == 3 and "FAILED ITS START-UP CHECK" in refused.stderr
    assert "sale" not in refused.stdout  # not one sale sold
    words = "signature does not match" if rehashed else f"entry {seq} was altered"
    till = refused_at_start(config, "edited", words)
    till.db.close()
    verify = kassa(config, "journal", "verify")
    assert verify.returncode == 1 and "BROKEN" in verify.stdout, verify.stdout


def scalar_point(config: Config) -> int:
    db = peewee.SqliteDatabase(str(config.database_path))
    value = db.execute_sql("SELECT value FROM meta WHERE key = ?",
                           (checkpoint.META_KEY,)).fetchone()
    db.close()
    return int(__import__("json").loads(value[0])["seq"])


def test_edited_running_totals_are_found_at_start_up(config: Config) -> None:
    tamper(config, "UPDATE running_total SET value = value + 100000 WHERE key = 'p:sales.amount'")
    refused = sim(config)
    assert refused.returncode == 3 and "running report totals" in refused.stderr
    till = refused_at_start(config, "totals", "p:sales.amount")
    till.db.close()
    verify = kassa(config, "journal", "verify")
    assert verify.returncode == 1
    assert "PROBLEM (totals" in verify.stdout and "p:sales.amount" in verify.stdout


def test_a_z_is_never_signed_over_edited_totals(config: Config) -> None:
    till = build_till(config)
    assert till.journal_alarm is None
    till.db.execute_sql("UPDATE running_total SET value = value + 100000 "
                        "WHERE key = 'p:sales.amount'")
    run_day(till, 2, seed=7, out=lambda line: None)  # two more sales do not launder the edit
    assert not till.journal.totals_sealed()
    till.login(MANAGER_PIN)
    head = till.journal.head()[0]
    with pytest.raises(TotalsNotSealed):
        till.z_close({}, approval=till.approve(MANAGER_PIN, Action.Z_CLOSE))
    assert till.journal.head()[0] == head  # nothing signed
    assert till.journal_alarm and "lost their seal" in till.journal_alarm
    with pytest.raises(JournalAlarmActive):
        till.add_plu("1")
    acknowledge(till)  # rebuilds the totals from the journal, and seals them
    z = till.z_close({}, approval=till.approve(MANAGER_PIN, Action.Z_CLOSE)).entry
    rebuilt = reports.rebuild_z(till.journal, z.body["data"]["z_number"])
    assert rebuilt.ok, rebuilt.differences
    period = range(z.body["data"]["first_seq"], z.seq)
    journal_sales = sum(e.body["data"]["total"] for e in till.journal.entries()
                        if e.type == "sale" and e.seq in period and not e.body["training"])
    assert z.body["data"]["sales"]["amount"] == journal_sales > 0  # not 100,000 more
    till.db.close()


def test_start_up_checks_each_z_after_the_point_against_its_rebuild(config: Config) -> None:
    till = build_till(config)
    run_day(till, 3, seed=8, out=lambda line: None)
    # A Z signed over counters that do not match the journal, as a version before the seal
    # could write one (the key signs whatever it is given).
    till.db.execute_sql("UPDATE running_total SET value = value - 700 "
                        "WHERE key = 'p:tender.card.amount'")
    counted = reports.counted_cash({}, till.config.cash.denominations_cents)
    with till.journal.transaction():
        z = till.journal.append("z_close", reports.z_data(till.journal, counted, None))
    till.db.close()
    assert kassa(config, "journal", "verify").returncode == 1
    till = refused_at_start(config, "z_figures", f"Z close 2 (entry {z.seq})")
    assert "tenders" in till.journal_alarm
    till.db.close()


def test_the_verified_point_moves_so_start_up_rechecks_only_what_is_new(config: Config) -> None:
    till = build_till(config)
    run_day(till, 4, seed=9, out=lambda line: None)
    head = till.journal.head()[0]
    till.db.close()
    till = build_till(config)
    start, counters, stored = checkpoint.starting_point(till.journal)
    assert stored and start == head  # the start-up before this one verified up to its head
    window = checkpoint.verify_after(till.journal, start, counters)
    assert window.checked == till.journal.head()[0] - head  # the software start only
    assert checkpoint.same_counters(window.counters, totals.load(till.db))
    assert totals.load(till.db) == figures.replay(e.body for e in till.journal.entries())
    till.db.close()


def test_a_forged_verified_point_is_not_trusted(config: Config) -> None:
    """A point whose counters were edited fails its signature: start-up falls back to the
    last Z and still finds the edited totals."""
    tamper(config, "UPDATE meta SET value = replace(value, '\"g:sales\":', '\"g:sales\":1') "
                   f"WHERE key = '{checkpoint.META_KEY}'",
           "UPDATE running_total SET value = value + 1000 WHERE key = 'p:sales.amount'")
    till = refused_at_start(config, "totals", "p:sales.amount")
    assert checkpoint.load(till.journal) is None
    till.db.close()
