"""What the updater reads from (and the one row it writes to) the till's database.

The till and the uplink own the database; the updater only reads their facts through plain
SQL on the shared file (WAL), and writes one row: the reason of the switch it is about to
make, which the till journals and removes at its next start (firmware/software.py).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

REASON_KEY = "update:reason"  # firmware/software.py REASON_KEY
ACTIVITY_KEY = "till:activity"  # firmware/software.py ACTIVITY_KEY
NOTICE_KEY = "release_notice"  # firmware/software.py NOTICE_KEY: the uplink's copy


@dataclass(frozen=True)
class Activity:
    ticket_open: bool
    at: dt.datetime | None


class TillFacts:
    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path

    def _conn(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path, timeout=10)
        conn.execute("PRAGMA busy_timeout = 10000")
        return conn

    def _one(self, sql: str, params: tuple = ()) -> tuple | None:
        if not self.db_path.exists():
            return None
        conn = self._conn()
        try:
            return conn.execute(sql, params).fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return None
            raise
        finally:
            conn.close()

    def activity(self) -> Activity:
        row = self._one("SELECT value FROM meta WHERE key = ?", (ACTIVITY_KEY,))
        if row is None:
            return Activity(False, None)
        try:
            data = json.loads(row[0])
            return Activity(bool(data["ticket_open"]), dt.datetime.fromisoformat(data["at"]))
        except (ValueError, KeyError, TypeError):
            return Activity(False, None)

    def notice_payload(self) -> bytes | None:
        """The sealed release notice the uplink stored last, or None."""
        row = self._one("SELECT value FROM meta WHERE key = ?", (NOTICE_KEY,))
        return row[0].encode("utf-8") if row else None

    def last_z(self) -> dt.datetime | None:
        row = self._one("SELECT ts FROM journal WHERE type = 'z_close' ORDER BY seq DESC LIMIT 1")
        if row is None:
            return None
        try:
            stamp = dt.datetime.fromisoformat(row[0])
        except ValueError:
            return None
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)

    def journal_head(self) -> int:
        row = self._one("SELECT MAX(seq) FROM journal")
        return int(row[0]) if row and row[0] is not None else 0

    def update_journaled(self, after_seq: int, to_version: str) -> bool:
        """The till journaled software_update to `to_version` after `after_seq`."""
        if not self.db_path.exists():
            return False
        conn = self._conn()
        try:
            rows = conn.execute("SELECT body FROM journal WHERE seq > ? AND type = "
                                "'software_update'", (after_seq,)).fetchall()
        except sqlite3.OperationalError:
            return False
        finally:
            conn.close()
        for (body,) in rows:
            try:
                if json.loads(body)["data"]["to_version"] == to_version:
                    return True
            except (ValueError, KeyError, TypeError):
                continue
        return False

    def linked_since(self, since: float) -> bool:
        """The uplink reported a broker connection at or after `since` (epoch seconds)."""
        row = self._one("SELECT acked_seq, updated FROM delivery WHERE key = 'link'")
        if row is None or not row[0]:
            return False
        try:
            stamp = dt.datetime.fromisoformat(row[1])
        except ValueError:
            return False
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.UTC)
        return stamp.timestamp() >= since  # written by an uplink started after `since`

    def set_reason(self, outcome: str, to: str, undone: str = "") -> None:
        """Why `current` is about to point at `to` (firmware/software.py journals it when
        the till of version `to` starts)."""
        reason = json.dumps({"outcome": outcome, "to": to, "undone": undone}, sort_keys=True)
        conn = self._conn()
        try:
            with conn:
                conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                             (REASON_KEY, reason))
        except sqlite3.OperationalError as exc:
            if "no such table" not in str(exc):  # no till ever ran here: nothing to tell it
                raise
        finally:
            conn.close()
