"""The bottom of head office's storage: the database proxy every table is bound to, the model
base class, and the transaction helpers that hide the few SQLite/PostgreSQL differences.

It imports nothing of head office, so every table module and every service can build on it;
opening a database (and creating the tables) is `headoffice.db.open_office_db`, above all
table modules.
"""

from __future__ import annotations

from typing import Any

import peewee

database_proxy = peewee.DatabaseProxy()


class OfficeModel(peewee.Model):
    """Base of every head-office table: bound through the proxy, so one code base runs on
    either engine."""

    class Meta:
        database = database_proxy
        legacy_table_names = False


def is_postgres(db: peewee.Database | peewee.DatabaseProxy = database_proxy) -> bool:
    target = db.obj if isinstance(db, peewee.DatabaseProxy) else db
    return isinstance(target, peewee.PostgresqlDatabase)


def write_transaction(db: peewee.Database | None = None) -> Any:
    """A write transaction: BEGIN IMMEDIATE on SQLite (writers queue instead of failing)."""
    target = db or database_proxy.obj
    if isinstance(target, peewee.SqliteDatabase) and not target.in_transaction():
        return target.atomic("IMMEDIATE")
    return target.atomic()
