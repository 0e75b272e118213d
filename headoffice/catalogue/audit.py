"""The audit trail: who changed what, when, with the fields before and after."""

from __future__ import annotations

import json
from typing import Any

from headoffice.catalogue.models import AuditEntry
from headoffice.catalogue.times import now_utc, stored


def record(actor: str, entity: str, key: str, action: str, old: dict[str, Any] | None,
           new: dict[str, Any] | None) -> None:
    """One row, inside the caller's transaction; only the fields that differ are kept."""
    row = entry(actor, entity, key, action, old, new)
    if row is not None:
        AuditEntry.create(**row)


def entry(actor: str, entity: str, key: str, action: str, old: dict[str, Any] | None,
          new: dict[str, Any] | None, at: str | None = None) -> dict[str, Any] | None:
    """The row `record` writes (for a bulk insert), or None for an update changing nothing."""
    old, new = old or {}, new or {}
    if action == "update":
        changed = {k for k in set(old) | set(new) if old.get(k) != new.get(k)}
        if not changed:
            return None
        old = {k: old.get(k) for k in sorted(changed)}
        new = {k: new.get(k) for k in sorted(changed)}
    return {"at": at or stored(now_utc()), "actor": actor[:64] or "?", "entity": entity,
            "key": key[:80], "action": action, "old": _json(old), "new": _json(new)}


def trail(key: str | None = None, entity: str | None = None, limit: int = 200) -> list[AuditEntry]:
    query = AuditEntry.select().order_by(AuditEntry.id.desc()).limit(limit)
    if key is not None:
        query = query.where(AuditEntry.key == key)
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    return list(query)


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False) if value else ""
