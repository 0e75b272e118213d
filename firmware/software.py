"""What the till journals about its own software at each start, and the facts it leaves for
the updater (`kassa update`, a separate process sharing the database).

At start the till journals `software_start`; when the version differs from the one that
started last, it also journals `software_update` (from, to, outcome). The outcome is what
the updater wrote into the Meta row REASON_KEY just before it switched: JSON with `outcome`
(`update`, `rollback`, `forced_downgrade`), `to` (the version it is meant for) and, for a
rollback, `undone` (the release given up); consumed in the same transaction by the till of
the version `to` names; a switch made by hand says `manual`. A rollback from a release that
never got as far as its own software_start is journaled as `rolled_back` from the running
version to the release that was tried. The updater's health check waits for the entry: a
till that reaches it has opened its journal, checked it and signed with its key on the new
version.

While it runs the till also records whether a ticket is open (ACTIVITY_KEY), so the updater
stops it only when no sale is half-way.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import peewee

from contract.version import SOFTWARE_VERSION
from firmware.models import JournalEntry, Meta

REASON_KEY = "update:reason"
ACTIVITY_KEY = "till:activity"
ACTIVITY_SECONDS = 60  # the fact is refreshed this often while the till runs
OUTCOMES = ("update", "rollback", "forced_downgrade", "manual")


def last_started_version() -> str | None:
    row = (JournalEntry.select(JournalEntry.body).where(JournalEntry.type == "software_start")
           .order_by(JournalEntry.seq.desc()).first())
    if row is None:
        return None
    try:
        return str(json.loads(row.body)["data"]["version"])
    except (ValueError, KeyError, TypeError):
        return None


def _reason() -> dict[str, str] | None:
    row = Meta.get_or_none(Meta.key == REASON_KEY)
    try:
        data = json.loads(row.value) if row is not None else None
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("outcome") not in OUTCOMES:
        return None
    return {key: str(data.get(key, "")) for key in ("outcome", "to", "undone")}


def journal_start(journal: Any, config_source: str) -> None:
    """software_start, and software_update when the version changed or an update to another
    version was undone; inside one transaction with the reason's removal, so a crash
    journals both or neither. A reason meant for another version (a till of the old version
    restarting while the updater switches) is left for the version it names."""
    with journal.transaction():
        before = last_started_version()
        journal.append("software_start", {"version": SOFTWARE_VERSION, "config": config_source})
        reason = _reason()
        mine = reason is not None and reason["to"] == SOFTWARE_VERSION
        if before is not None and before != SOFTWARE_VERSION:
            journal.append("software_update", {"from_version": before,
                                               "to_version": SOFTWARE_VERSION,
                                               "outcome": reason["outcome"] if mine else "manual"})
        elif mine and reason["outcome"] == "rollback" and reason["undone"] not in (
                "", SOFTWARE_VERSION):
            # the release switched to never started far enough to journal: say it was undone
            journal.append("software_update", {"from_version": SOFTWARE_VERSION,
                                               "to_version": reason["undone"],
                                               "outcome": "rolled_back"})
        if mine or reason is None:
            Meta.delete().where(Meta.key == REASON_KEY).execute()


def record_activity(db: peewee.Database, ticket_open: bool) -> None:
    """Whether a ticket is open, with the time; written by the till's status refresh."""
    value = json.dumps({"ticket_open": ticket_open,
                        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")})
    with db.atomic():
        Meta.insert(key=ACTIVITY_KEY, value=value).on_conflict_replace().execute(db)


NOTICE_KEY = "release_notice"


def keep_release_notice(db: peewee.Database, payload: bytes) -> None:
    """The uplink's copy of the newest sealed release notice, for the updater to check and
    act on (updater/notice.py reads this row)."""
    text = payload.decode("utf-8")
    with db.atomic():
        Meta.insert(key=NOTICE_KEY, value=text).on_conflict_replace().execute(db)
