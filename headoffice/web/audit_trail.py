"""Head office's audit trail: logins, failed logins, exports, catalogue and price changes,
alert acknowledgements, customer changes and user changes, with who, when and from where.

Append-only and hash-chained like a till's journal: each row's hash covers its fields and the
previous row's hash, so a changed or removed row breaks `verify()` from there on. The app
never changes a row (the model refuses update and delete), and `protect` puts triggers on the
table so that SQL from elsewhere cannot either, short of dropping them; what gets past that
is still found by `verify()`.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterable
from typing import Any

import peewee

from headoffice.orm import OfficeModel, is_postgres, write_transaction

GENESIS = "0" * 64
LOCK_ID = 4_201_919  # the advisory lock that queues appends on PostgreSQL
LOCAL = "local"  # the address of a change made with `kassa` on the head-office machine
CSV_COLUMNS = ("id", "at", "actor", "address", "action", "detail", "prev", "hash")


class AppendOnly(PermissionError):
    """Something tried to change or remove a row of the audit trail."""

    def __init__(self, operation: str) -> None:
        super().__init__(f"the audit trail is append-only: {operation} refused")
        self.operation = operation


class OfficeAudit(OfficeModel):
    at = peewee.CharField(max_length=40)
    actor = peewee.CharField(max_length=80)
    address = peewee.CharField(max_length=64, default="")
    action = peewee.CharField(max_length=40, index=True)
    detail = peewee.TextField(default="")
    prev = peewee.CharField(max_length=64)
    hash = peewee.CharField(max_length=64)

    class Meta:
        table_name = "office_audit"

    def save(self, *args: Any, **kwargs: Any) -> int:
        if self.id is not None and not kwargs.get("force_insert"):
            raise AppendOnly("update")
        return super().save(*args, **kwargs)

    def delete_instance(self, *args: Any, **kwargs: Any) -> int:
        raise AppendOnly("delete")

    @classmethod
    def update(cls, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnly("update")

    @classmethod
    def delete(cls) -> Any:
        raise AppendOnly("delete")


AUDIT_MODELS = [OfficeAudit]

_SQLITE_TRIGGERS = [
    f"CREATE TRIGGER IF NOT EXISTS office_audit_no_{op.lower()} BEFORE {op} ON office_audit "
    f"BEGIN SELECT RAISE(ABORT, 'office_audit is append-only: {op} refused'); END"
    for op in ("UPDATE", "DELETE")
]
_PG_FUNCTION = """CREATE OR REPLACE FUNCTION office_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN
  RAISE EXCEPTION USING MESSAGE = 'office_audit is append-only: ' || TG_OP || ' refused';
END $$"""
_PG_TRIGGERS = {
    "office_audit_no_change": "BEFORE UPDATE OR DELETE ON office_audit FOR EACH ROW",
    "office_audit_no_truncate": "BEFORE TRUNCATE ON office_audit FOR EACH STATEMENT",
}


def protect(db: peewee.Database) -> None:
    """Triggers that refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) of the trail.
    Idempotent: called each time the database opens (headoffice/schema.py)."""
    if isinstance(db, peewee.PostgresqlDatabase):
        have = {name for (name,) in db.execute_sql(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'office_audit'::regclass").fetchall()}
        if have >= set(_PG_TRIGGERS):
            return
        db.execute_sql(_PG_FUNCTION)
        for name, when in _PG_TRIGGERS.items():
            if name not in have:
                db.execute_sql(f"CREATE TRIGGER {name} {when} "
                               "EXECUTE FUNCTION office_audit_append_only()")
        return
    for sql in _SQLITE_TRIGGERS:
        db.execute_sql(sql)


def _digest(prev: str, at: str, actor: str, address: str, action: str, detail: str) -> str:
    text = json.dumps([prev, at, actor, address, action, detail], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def record(action: str, actor: str, address: str = "", detail: str = "") -> OfficeAudit:
    """Appends one row after the newest, chained to it."""
    if not action or not actor:
        raise ValueError(f"an audit row needs an action and an actor (got {action!r}, {actor!r})")
    at = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    with write_transaction():
        if is_postgres():
            OfficeAudit._meta.database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (LOCK_ID,))
        last = OfficeAudit.select(OfficeAudit.hash).order_by(OfficeAudit.id.desc()).first()
        prev = last.hash if last else GENESIS
        actor, address, action = actor[:80], address[:64], action[:40]
        return OfficeAudit.create(at=at, actor=actor, address=address, action=action,
                                  detail=detail, prev=prev,
                                  hash=_digest(prev, at, actor, address, action, detail))


def recent(limit: int | None = 200, action: str = "", since: str = "") -> list[OfficeAudit]:
    """Newest first. `action` is an exact action or a prefix ending in `*` (`user_*`);
    `since` an ISO date or moment, compared in the trail's own local-time text."""
    query = OfficeAudit.select().order_by(OfficeAudit.id.desc())
    if action.endswith("*"):
        query = query.where(OfficeAudit.action.startswith(action[:-1]))
    elif action:
        query = query.where(OfficeAudit.action == action)
    if since:
        query = query.where(OfficeAudit.at >= since)
    return list(query.limit(limit) if limit else query)


def verify() -> tuple[int, int | None]:
    """(rows checked, id of the first broken row or None when the chain holds)."""
    prev, count = GENESIS, 0
    for row in OfficeAudit.select().order_by(OfficeAudit.id):
        count += 1
        if row.prev != prev or row.hash != _digest(prev, row.at, row.actor, row.address,
                                                   row.action, row.detail):
            return count, row.id
        prev = row.hash
    return count, None


def as_csv(rows: Iterable[OfficeAudit]) -> str:
    """The rows with their hashes, so a copy can be checked against the chain later."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([getattr(row, column) for column in CSV_COLUMNS])
    return out.getvalue()
