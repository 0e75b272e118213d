"""Running report totals: the till's SQLite storage of the counters of contract/figures.py.

The reduction from a journal entry to counter changes (`contract.figures.changes`) lives in
the contract, so the till, `kassa report z --rebuild` and head office apply the very same
function. This module only keeps the counters in the `running_total` table, updated inside
the transaction that appends the entry (so a Z costs the same at 1,000 or 100,000 tickets).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import peewee

from contract import figures
from contract.figures import LAST_Z_KEY, SEQ_KEY, Z_COUNT_KEY, Change

__all__ = ["LAST_Z_KEY", "SEQ_KEY", "Z_COUNT_KEY", "load", "replace_all", "replay", "store"]

_UPSERT = ("INSERT INTO running_total (key, value) VALUES (?, ?) "
           "ON CONFLICT(key) DO UPDATE SET value = value + excluded.value")
_SET = ("INSERT INTO running_total (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value")


def store(db: peewee.SqliteDatabase, change: Change) -> None:
    """Applies a change to the running_total table; call inside the entry's transaction."""
    cursor = db.cursor()
    if change.reset_period:
        cursor.execute("DELETE FROM running_total WHERE key >= 'p:' AND key < 'p;'")
    if change.adds:
        cursor.executemany(_UPSERT, list(change.adds.items()))
    cursor.executemany(_SET, list(change.sets.items()))


def load(db: peewee.SqliteDatabase) -> dict[str, int]:
    """All counters as stored (a few dozen rows, whatever the journal's length)."""
    return dict(db.execute_sql("SELECT key, value FROM running_total").fetchall())


def replay(bodies: Iterable[dict[str, Any]]) -> dict[str, int]:
    """The counters rebuilt from journal bodies alone (contract.figures.replay)."""
    return figures.replay(bodies)


def replace_all(db: peewee.SqliteDatabase, totals: Mapping[str, int]) -> None:
    """Overwrites the table with rebuilt counters (after an acknowledged journal alarm)."""
    with db.atomic():
        db.execute_sql("DELETE FROM running_total")
        if totals:
            db.cursor().executemany("INSERT INTO running_total (key, value) VALUES (?, ?)",
                                    list(totals.items()))
