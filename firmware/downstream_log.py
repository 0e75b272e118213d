"""Journals what the uplink did with head office's messages.

The uplink applies catalogue, price, offers and config messages but holds no journal key, so
it leaves one `downstream_event` row per message applied, refused or ignored
(firmware/uplink/downstream.py). The till, the journal's only writer, turns each row into a
`catalogue_applied` or `downstream_refused` entry and deletes the row in the same short
transaction: after a kill -9 a row is either still waiting (journaled at the next pickup) or
journaled and gone, so every message is journaled exactly once. It runs at start and from
the runtime's status refresh; while a journal alarm is unacknowledged the rows wait, as every
other entry does.
"""

from __future__ import annotations

import logging
from typing import Any

from firmware.kernel import TillKernel
from firmware.models import DownstreamEvent

log = logging.getLogger(__name__)

BATCH = 50  # rows per pickup: a burst never holds the till up for long
TYPES = {"applied": "catalogue_applied", "refused": "downstream_refused",
         "ignored": "downstream_refused"}


def entry_of(row: DownstreamEvent) -> tuple[str, dict[str, Any]]:
    """The journal entry type and data of one waiting row."""
    if row.outcome == "applied":
        return TYPES["applied"], {"kind": row.kind, "version": row.version, "count": row.count,
                                  "removed": row.removed, "detail": row.reason,
                                  "received_at": row.received}
    return TYPES["refused"], {"kind": row.kind, "outcome": row.outcome, "version": row.version,
                              "reason": row.reason, "received_at": row.received}


def waiting() -> int:
    """How many rows wait to be journaled."""
    return DownstreamEvent.select().count()


def journal_waiting(kernel: TillKernel, limit: int = BATCH) -> int:
    """Journals up to `limit` waiting rows, oldest first, one transaction each (the entry and
    the row's deletion); returns how many were journaled. Nothing while a journal alarm waits
    for a manager. Raises the kernel's StorageError when the database fails."""
    if kernel.journal_alarm:
        return 0
    ids = [row.id for row in DownstreamEvent.select(DownstreamEvent.id)
           .order_by(DownstreamEvent.id).limit(limit)]
    done = 0
    for row_id in ids:
        with kernel.lock:
            entry_type = TYPES["refused"]
            with kernel.atomic(entry_type):
                row = DownstreamEvent.get_or_none(DownstreamEvent.id == row_id)
                if row is None:  # pruned by the uplink meanwhile
                    continue
                entry_type, data = entry_of(row)
                kernel.journal.append(entry_type, data)
                DownstreamEvent.delete().where(DownstreamEvent.id == row_id).execute()
        done += 1
    if done:
        log.info("journaled %d downstream message outcome(s)", done)
    return done
