"""Head office's audit trail: logins, failed logins, exports, catalogue and price changes,
alert acknowledgements and user changes, with who, when and from where.

Append-only and hash-chained like a till's journal: each row's hash covers its fields and the
previous row's hash, so a changed or removed row breaks `verify()` from there on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import peewee

from headoffice.orm import OfficeModel, is_postgres, write_transaction

GENESIS = "0" * 64
LOCK_ID = 4_201_919  # the advisory lock that queues appends on PostgreSQL


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


AUDIT_MODELS = [OfficeAudit]


def _digest(prev: str, at: str, actor: str, address: str, action: str, detail: str) -> str:
    text = json.dumps([prev, at, actor, address, action, detail], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def record(action: str, actor: str, address: str = "", detail: str = "") -> OfficeAudit:
    """Appends one row after the newest, chained to it."""
    at = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    with write_transaction():
        if is_postgres():
            OfficeAudit._meta.database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (LOCK_ID,))
        last = OfficeAudit.select(OfficeAudit.hash).order_by(OfficeAudit.id.desc()).first()
        prev = last.hash if last else GENESIS
        actor, address = actor[:80], address[:64]
        return OfficeAudit.create(at=at, actor=actor, address=address, action=action,
                                  detail=detail, prev=prev,
                                  hash=_digest(prev, at, actor, address, action, detail))


def recent(limit: int = 200, action: str = "") -> list[OfficeAudit]:
    query = OfficeAudit.select().order_by(OfficeAudit.id.desc()).limit(limit)
    return list(query.where(OfficeAudit.action == action) if action else query)


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
