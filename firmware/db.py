"""The terminal's SQLite database: WAL, synchronous=FULL, one file shared by till and uplink."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import peewee

from firmware import catalogue_store, models

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
        db.create_tables(models.TABLE_MODELS, safe=True)
        add_missing_columns(db)
        catalogue_store.create(db)  # the view `product` over the catalogue's versions
    return db


def add_missing_columns(db: peewee.SqliteDatabase) -> None:
    """A database made by an older release gets the columns added since, each with its SQL
    default, so a new column never needs a new database. Plain ALTER TABLE ADD COLUMN: no
    table is rebuilt (a rebuild would drop the old table, and with foreign keys on that
    deletes the stock levels hanging on the products). The catalogue's columns go into its
    storage, product_version; `product` is a view (recreated by firmware/catalogue_store.py
    when it lacks a column), unless the database predates the generations: then its
    `product` table gets them too, so that the move to versions copies every column. One
    transaction, checked again inside it: the till and the uplink open the file together."""
    if not _missing_columns(db):  # the usual case: no write lock taken
        return
    with db.atomic("IMMEDIATE"):
        for table, field in _missing_columns(db):
            context = db.get_sql_context()
            column, params = context.sql(field.ddl(context)).query()
            db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN {column}', params)


def _missing_columns(db: peewee.SqliteDatabase) -> list[tuple[str, peewee.Field]]:
    tables = list(models.TABLE_MODELS)
    kind = db.execute_sql("SELECT type FROM sqlite_master WHERE name = 'product'").fetchone()
    if kind == ("table",):
        tables.append(models.Product)
    missing = []
    for model in tables:
        table = model._meta.table_name
        have = {column.name for column in db.get_columns(table)}
        missing += [(table, field) for field in model._meta.sorted_fields
                    if field.column_name not in have]
    return missing


def truncate_wal(db: peewee.Database, attempts: int = 50, pause: float = 0.1) -> bool:
    """Checkpoints the WAL and truncates it to zero bytes (its old page images still hold
    deleted bytes: an erased customer's name, a sign-up's address). Another connection's read
    (the till's, between two of its statements) makes a checkpoint report busy and leave
    frames behind, so it is tried again for a few seconds; False when it never got through."""
    for _ in range(attempts):
        if not db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]:
            return True
        time.sleep(pause)
    return False


BUSY_CODES = (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED


class DatabaseBusy(Exception):
    """Another process held the database's write lock longer than the busy timeout: the file
    is sound, the work was not done and can be tried again."""

    def __init__(self, path: str, doing: str) -> None:
        super().__init__(f"the database {path} stayed busy (another process is writing) while"
                         f" {doing}; nothing was changed, try again")
        self.path, self.doing = path, doing


def is_busy(exc: BaseException) -> bool:
    """True for SQLite's 'database is locked/busy' (peewee wraps sqlite3's error in its own)."""
    for err in (exc, exc.args[0] if exc.args else None, exc.__context__, exc.__cause__):
        if isinstance(err, sqlite3.OperationalError):
            code = getattr(err, "sqlite_errorcode", None)
            if code is not None and code & 0xFF in BUSY_CODES:
                return True
            if code is None and ("locked" in str(err) or "busy" in str(err)):
                return True
    return False
