"""Opening the head-office database: SQLite (embedded default) or PostgreSQL, one URL,
Peewee for both.

`open_office_db` is the one way in: it binds every table (through headoffice.orm's proxy)
and creates the missing ones (headoffice.schema), so callers never create tables. The few
engine differences (write locks) are behind headoffice.orm's `write_transaction` and
`is_postgres`, re-exported here for callers outside head office.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import peewee

from headoffice import schema
from headoffice.orm import database_proxy, is_postgres, write_transaction

__all__ = ["OfficeDbError", "database_proxy", "default_url", "is_postgres", "open_office_db",
           "write_transaction"]

DEFAULT_URL_ENV = "KASSA_OFFICE_DB"
# head office's own place for its development database (a server sets KASSA_OFFICE_DB)
DEV_VAR_DIR = Path(__file__).resolve().parent.parent / "var"
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
    return os.environ.get(DEFAULT_URL_ENV) or str(DEV_VAR_DIR / "office.sqlite3")


def open_office_db(url: str | os.PathLike[str] | None = None) -> peewee.Database:
    """Opens the database named by `url` (a path, sqlite:///path or postgresql://...),
    binds every head-office table to it and creates the missing ones."""
    db = _connect(str(url) if url else default_url())
    database_proxy.initialize(db)
    db.connect(reuse_if_open=True)
    schema.create_all(db)
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
