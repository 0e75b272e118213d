"""Assembles a till from its config: the database, the journal's signing key, the journal,
the till service on them, checked and started (firmware.runtime.start_till).

The one place that builds a till service: `kassa till`, `kassa sim`, `kassa report`,
`kassa journal`, the tests and the benchmarks all come through here.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import peewee

from contract.config import Config, UiConfig
from firmware.db import DatabaseBusy, is_busy, open_database
from firmware.integrity import JournalUnreadable
from firmware.journal import Journal
from firmware.models import JournalEntry
from firmware.ports import Drawer
from firmware.print_queue import PrintQueue
from firmware.remote_config import ui_at_start
from firmware.runtime import start_till
from firmware.signing import journal_key
from firmware.till import TillService


@dataclass(frozen=True)
class OpenedJournal:
    """A terminal's opened database and signed journal (what a till service is built on)."""

    config: Config
    db: peewee.SqliteDatabase
    journal: Journal


def open_terminal(config: Config) -> OpenedJournal:
    """The terminal's database, signing key and journal, opened."""
    db = open_database(config.database_path)
    # a key that is gone is never replaced once the journal has entries or the till is enrolled
    key = journal_key(config, journal_started=JournalEntry.select().exists())
    journal = Journal(db, key, config.terminal.store, config.terminal.terminal)
    return OpenedJournal(config, db, journal)


def window_settings(config: Config) -> UiConfig:
    """The window settings a starting till uses: the file's, with head office's config on top
    (firmware/remote_config.py); read before Kivy is set up, so a change that asked for a
    restart takes effect at it."""
    try:
        db = open_database(config.database_path)
    except (peewee.DatabaseError, sqlite3.DatabaseError):
        return config.ui  # build_till reports the database properly
    try:
        return ui_at_start(config)
    except peewee.DatabaseError:
        return config.ui
    finally:
        db.close()


def build_till(
    config: Config,
    drawer: Drawer | None = None,
    print_queue: PrintQueue | None = None,
    opened: OpenedJournal | None = None,
) -> TillService:
    """The till service on an opened journal, started: journal checked, software start
    journaled."""
    try:
        opened = opened or open_terminal(config)
    except (peewee.DatabaseError, sqlite3.DatabaseError) as exc:
        if is_busy(exc):
            raise DatabaseBusy(str(config.database_path), "opening the journal") from exc
        raise JournalUnreadable(
            f"the journal database {config.database_path} cannot be opened ({exc}): it is "
            "damaged or was cut short. Do not sell on this till; restore it from a backup.") from exc
    till = TillService(config, opened.db, opened.journal, drawer=drawer, print_queue=print_queue)
    start_till(till)
    return till
