"""The terminal's SQLite database: WAL, synchronous=FULL, one file shared by till and uplink."""

from __future__ import annotations

import os
from pathlib import Path

import peewee

from firmware import models

PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": 2,  # FULL: a committed sale survives a power cut
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "cache_size": -16000,
}


def open_database(path: str | os.PathLike[str], create: bool = True) -> peewee.SqliteDatabase:
    """Opens the terminal database, binds every model of firmware/models.py (the one schema of
    the till side) and creates the missing tables, once, here."""
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    db = peewee.SqliteDatabase(str(path), pragmas=PRAGMAS, check_same_thread=False)
    db.bind(models.ALL_MODELS, bind_refs=False, bind_backrefs=False)
    db.connect(reuse_if_open=True)
    if create:
        db.create_tables(models.ALL_MODELS, safe=True)
    return db
