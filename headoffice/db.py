"""The head-office database: SQLite (embedded default) or PostgreSQL, one URL, Peewee for both.

Models are bound through a DatabaseProxy, so the same code runs against either engine; the
few engine differences (write locks, row locks) are behind `write_transaction` and
`locks_rows`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import peewee

database_proxy = peewee.DatabaseProxy()

DEFAULT_URL_ENV = "KASSA_OFFICE_DB"
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": 2,  # FULL: an entry acknowledged to a till survives a power cut
    "foreign_keys": 1,
    "busy_timeout": 30000,
    "cache_size": -32000,
}


class OfficeDbError(ValueError):
    """A database URL that cannot be used; the message names the problem, never a password."""


def default_url() -> str:
    from contract.config import DEV_VAR_DIR

    return os.environ.get(DEFAULT_URL_ENV) or str(DEV_VAR_DIR / "office.sqlite3")


def open_office_db(url: str | os.PathLike[str] | None = None, create: bool = True) -> peewee.Database:
    """Opens the database named by `url` (a path, sqlite:///path or postgresql://...),
    binds the head-office models to it and creates missing tables."""
    from headoffice import models

    db = _connect(str(url) if url else default_url())
    database_proxy.initialize(db)
    db.connect(reuse_if_open=True)
    if create:
        for attempt in range(5):  # several workers starting at once race to create tables
            try:
                with db.atomic():
                    db.create_tables(models.ALL_MODELS, safe=True)
                break
            except (peewee.OperationalError, peewee.IntegrityError):
                if attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))
    return db


def _connect(url: str) -> peewee.Database:
    if url.startswith(("postgresql://", "postgres://")):
        return _postgres(url)
    if url.startswith("sqlite:"):
        parsed = urlparse(url)
        path = unquote(parsed.path)
        if url.startswith("sqlite:////"):
            path = "/" + path.lstrip("/")
        elif url.startswith("sqlite:///"):
            path = path[1:]
        if not path:
            raise OfficeDbError(f"{url!r}: no file path after sqlite:///")
    elif "://" in url:
        raise OfficeDbError(f"unsupported database URL scheme {url.split('://')[0]!r}"
                            " (use a path, sqlite:///path or postgresql://...)")
    else:
        path = url
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    return peewee.SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, check_same_thread=False)


def _postgres(url: str) -> peewee.Database:
    try:
        import psycopg2  # noqa: F401 - fail here with a clear message, not deep in peewee
    except ImportError:
        raise OfficeDbError("PostgreSQL needs psycopg2: pip install 'kassa[office]'") from None
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not name:
        raise OfficeDbError("PostgreSQL URL names no database (postgresql://host/DBNAME)")
    kwargs: dict[str, Any] = {"host": parsed.hostname or "127.0.0.1", "port": parsed.port or 5432}
    if parsed.username:
        kwargs["user"] = unquote(parsed.username)
    if parsed.password:
        kwargs["password"] = unquote(parsed.password)
    return peewee.PostgresqlDatabase(name, **kwargs)


def is_postgres(db: peewee.Database | peewee.DatabaseProxy = database_proxy) -> bool:
    target = db.obj if isinstance(db, peewee.DatabaseProxy) else db
    return isinstance(target, peewee.PostgresqlDatabase)


def write_transaction(db: peewee.Database | None = None) -> Any:
    """A write transaction: BEGIN IMMEDIATE on SQLite (writers queue instead of failing)."""
    target = db or database_proxy.obj
    if isinstance(target, peewee.SqliteDatabase) and not target.in_transaction():
        return target.atomic("IMMEDIATE")
    return target.atomic()
