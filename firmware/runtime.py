"""Opens a terminal's database, key and journal and builds the till service from config.

Shared by `kassa sim`, `kassa till` and the tests, so every entry point starts the same way:
the software start is journaled and the journal is checked before anything is sold.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass

import peewee

from contract.config import Config
from contract.version import SOFTWARE_VERSION
from firmware.db import open_database
from firmware.journal import Journal
from firmware.ports import Drawer
from firmware.print_queue import PrintQueue
from firmware.signing import load_or_create_key
from firmware.till import TillService

log = logging.getLogger(__name__)


@dataclass
class Terminal:
    config: Config
    db: peewee.SqliteDatabase
    journal: Journal


def open_terminal(config: Config) -> Terminal:
    db = open_database(config.database_path)
    key = load_or_create_key(config.signing_key_path)
    journal = Journal(db, key, config.terminal.store, config.terminal.terminal)
    return Terminal(config, db, journal)


def build_till(
    config: Config,
    drawer: Drawer | None = None,
    print_queue: PrintQueue | None = None,
    terminal: Terminal | None = None,
) -> TillService:
    """The till service on an opened terminal; journals the software start."""
    from firmware import integrity

    try:
        terminal = terminal or open_terminal(config)
    except (peewee.DatabaseError, sqlite3.DatabaseError) as exc:
        raise integrity.JournalUnreadable(
            f"the journal database {config.database_path} cannot be opened ({exc}): it is "
            "damaged or was cut short. Do not sell on this till; restore it from a backup.") from exc
    till = TillService(config, terminal.db, terminal.journal, drawer=drawer, print_queue=print_queue)
    # Fast check (see firmware/integrity.py); `kassa journal verify` checks every signature.
    problems = integrity.check(terminal.journal)
    if problems:
        till.journal_alarm = integrity.describe(problems)
        till.journal_alarm_codes = integrity.as_dicts(problems)
        log.error("%s", till.journal_alarm)
    with terminal.journal.transaction():
        terminal.journal.append("software_start", {"version": SOFTWARE_VERSION, "config": config.source})
    return till
