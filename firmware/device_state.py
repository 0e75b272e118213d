"""The till's last known printer, drawer and scanner states, kept where the uplink can read them.

The till process owns the devices; the uplink is another process that reports them to head
office in its retained `status`. They share the SQLite file, so each device's last report is
one Meta row (`device:<name>` -> JSON state, detail, since) that the till writes when the
state changes and the uplink reads when it builds `status`. Rare, tiny writes: a device
reports only changes.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from typing import Any

import peewee

from firmware.models import Meta

log = logging.getLogger(__name__)

PREFIX = "device:"
DEVICES = ("printer", "drawer", "scanner")


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def record(db: peewee.SqliteDatabase, device: str, state: str, detail: str = "") -> None:
    """Stores one device's current state (overwriting the previous one)."""
    value = json.dumps({"state": state, "detail": detail, "since": _now_iso()},
                       ensure_ascii=False, sort_keys=True)
    with db.atomic():
        Meta.insert(key=PREFIX + device, value=value).on_conflict_replace().execute(db)


def read_all(db: peewee.SqliteDatabase) -> dict[str, dict[str, Any]]:
    """Every recorded device -> {'state', 'detail', 'since'}; unreadable rows are left out."""
    found: dict[str, dict[str, Any]] = {}
    cursor = db.execute_sql("SELECT key, value FROM meta WHERE key >= ? AND key < ? ORDER BY key",
                            (PREFIX, PREFIX[:-1] + chr(ord(PREFIX[-1]) + 1)))
    for key, text in cursor.fetchall():
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, dict) and isinstance(value.get("state"), str):
            found[key[len(PREFIX):]] = value
    return found


class Recorder:
    """Persists each device state change: a till listener (`till_event`, the 'device' events
    the till's runtime passes on from the drivers and the till's own reports), or called as
    on_state(device, state, detail) directly.

    Called on driver threads: the write must never raise into a driver, and an unchanged
    state is not written again."""

    def __init__(self, db: peewee.SqliteDatabase) -> None:
        self.db = db
        self._last: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()

    def __call__(self, device: str, state: str, detail: str = "") -> None:
        with self._lock:
            if self._last.get(device) == (state, detail):
                return
            self._last[device] = (state, detail)
            try:
                record(self.db, device, state, detail)
            except peewee.PeeweeException:
                log.exception("could not record the %s state %r", device, state)

    def till_event(self, event: str, data: dict[str, Any]) -> None:
        """A till listener: the till's own device reports (a drawer that failed to open)."""
        if event == "device" and isinstance(data.get("device"), str):
            self(data["device"], str(data.get("state", "")), str(data.get("detail", "")))
