"""A terminal with history to tamper with, and the ways the tests look at it afterwards:
the till's start-up, `kassa sim` and `kassa journal verify` as separate processes, and the
refusal as the cashier reads it (the UI's Dutch, chosen by the error's type)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import peewee
import pytest

from cli.assemble import build_till
from contract.config import Config
from firmware.errors import JournalAlarmActive
from firmware.permissions import Action
from firmware.sim import MANAGER_PIN, ensure_demo_data, run_day
from firmware.till import TillError, TillService
from tests.fixtures_till import make_config
from ui import i18n
from ui.errors import error_text

ROOT = Path(__file__).resolve().parents[2]


def closed_day(tmp_path: Path, restart: bool = False) -> Config:
    """A terminal with one closed day and a second day under way, then shut down (and
    started once more when `restart`, so the verified point lies at the head)."""
    config = make_config(tmp_path)
    till = build_till(config)
    ensure_demo_data(till, products=30)
    run_day(till, 15, seed=1, out=lambda line: None)
    till.login(MANAGER_PIN)
    till.z_close({})
    till.logout()
    run_day(till, 15, seed=2, out=lambda line: None)
    till.db.close()
    if restart:
        again = build_till(config)
        assert again.journal_alarm is None, again.journal_alarm
        again.db.close()
    return config


def tamper(config: Config, *sql: str) -> None:
    db = peewee.SqliteDatabase(str(config.database_path))
    for statement in sql:
        db.execute_sql(statement)
    db.close()


def scalar(config: Config, sql: str) -> object:
    db = peewee.SqliteDatabase(str(config.database_path))
    row = db.execute_sql(sql).fetchone()
    db.close()
    return row[0] if row else None


def kassa(config: Config, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KASSA_CONFIG": config.source}
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def sim(config: Config) -> subprocess.CompletedProcess:
    return kassa(config, "sim", "--sales", "3")


def sale_seq(config: Config, before_last_z: bool = False) -> int:
    where = " AND seq < (SELECT max(seq) FROM journal WHERE type = 'z_close')" if before_last_z else ""
    return int(scalar(config, f"SELECT max(seq) FROM journal WHERE type = 'sale'{where}"))


def refused_at_start(config: Config, code: str, words: str) -> TillService:
    """Starts the till: the check must have found `code` (its text holding `words`) before
    anything is sold, and a sale must be refused with the typed error, shown in Dutch. The
    caller closes the returned till."""
    head_before = scalar(config, "SELECT max(seq) FROM journal")
    sales_before = scalar(config, "SELECT count(*) FROM journal WHERE type = 'sale'")
    till = build_till(config)
    assert till.journal_alarm and words in till.journal_alarm, till.journal_alarm
    assert code in {p["code"] for p in till.journal_alarm_codes}, till.journal_alarm_codes
    till.login("1111")
    with pytest.raises(JournalAlarmActive) as refused:
        till.add_plu("1")
    assert code in refused.value.params["problem"].split(",")
    with pytest.raises(TillError, match="selling is blocked"):
        till.no_sale("x", approval=till.approve(MANAGER_PIN, Action.NO_SALE))
    i18n.set_language("nl")
    shown = error_text(refused.value)
    assert "verkopen is geblokkeerd" in shown and "blocked" not in shown, shown
    assert till.journal.head()[0] == head_before + 2  # software start and login, no sale
    assert scalar(config, "SELECT count(*) FROM journal WHERE type = 'sale'") == sales_before
    return till


def acknowledge(till: TillService) -> None:
    if till.kernel.cashier is None:
        till.login("1111")
    till.acknowledge_journal_alarm(approval=till.approve(MANAGER_PIN, Action.ACK_JOURNAL_ALARM))
