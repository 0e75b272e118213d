"""The start-up check of the journal: fast enough for a Pi with years of entries.

What it checks, and why that is enough at start-up:
- the head record (the running totals' last seq, written with every entry) matches the last
  row, and head office has not confirmed more entries than the journal holds: entries cut
  off the end (a truncated journal) are caught;
- the number of rows equals the last seq: a deleted entry anywhere is caught;
- since the last Z close, every entry's SHA-256 links to its predecessor, and the first
  and last entries of that window carry valid Ed25519 signatures. Rewriting any entry in
  the window would need re-hashing every later one and so a new signature on the head,
  which only the terminal's key can make;
Older history is checked in full (every signature, canonical form) by `kassa journal
verify`. A problem found here blocks selling until a manager acknowledges it; the
acknowledgement is a journal entry, and an acknowledged problem does not block again.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import asdict, dataclass

import peewee

from contract import chain
from firmware import totals as running
from firmware.db import DatabaseBusy, is_busy
from firmware.journal import Journal
from firmware.reports import resync_totals


class JournalUnreadable(Exception):
    """The database file itself cannot be read (damaged or cut short)."""


@dataclass(frozen=True)
class Problem:
    code: str  # truncated | behind_office | missing | edited | totals
    bad_seq: int
    text: str

    def key(self) -> tuple[str, int]:
        return self.code, self.bad_seq


def _scalar(db: peewee.SqliteDatabase, sql: str, params: tuple = ()) -> object:
    row = db.execute_sql(sql, params).fetchone()
    return row[0] if row else None


def _window_problems(journal: Journal, start: int, last_seq: int) -> list[Problem]:
    db = journal.db
    if start > 1:
        prev_hex = _scalar(db, "SELECT hash FROM journal WHERE seq = ?", (start - 1,))
        prev = bytes.fromhex(prev_hex) if prev_hex else chain.GENESIS
    else:
        prev = chain.GENESIS
    expected = start
    problems: list[Problem] = []
    cursor = db.execute_sql("SELECT seq, body, hash FROM journal WHERE seq >= ? ORDER BY seq",
                            (start,))
    for seq, body, hash_hex in cursor:
        gap = seq != expected
        if gap:
            problems.append(Problem("missing", expected, f"entry {expected} is missing (deleted)"))
        digest = hashlib.sha256(prev + body.encode()).hexdigest()
        if digest != hash_hex and not gap:
            problems.append(Problem("edited", seq, f"entry {seq} was altered: its hash does not "
                                    "match its contents and the entry before it"))
        prev = bytes.fromhex(hash_hex)
        expected = seq + 1
        if len(problems) >= 10:
            break
    for seq in sorted({start, last_seq}):
        row = db.execute_sql("SELECT seq, body, hash, sig FROM journal WHERE seq = ?",
                             (seq,)).fetchone()
        if row is None:
            continue
        prev_hex = _scalar(db, "SELECT hash FROM journal WHERE seq = ?", (seq - 1,))
        prev_bytes = bytes.fromhex(prev_hex) if prev_hex else chain.GENESIS
        problem = chain.check_entry(prev_bytes, row[1], row[2], row[3], journal.public_key, seq)
        if problem and not any(p.bad_seq == seq for p in problems):
            problems.append(Problem("edited", seq, f"entry {seq}: {problem}"))
    return problems


def _acknowledged(journal: Journal) -> set[tuple[str, int]]:
    keys: set[tuple[str, int]] = set()
    for (body,) in journal.db.execute_sql(
            "SELECT body FROM journal WHERE type = 'journal_alarm_ack'").fetchall():
        for problem in json.loads(body)["data"].get("problems", []):
            keys.add((problem["code"], problem["bad_seq"]))
    return keys


ALARM_KEY = "journal_alarm"


def check(journal: Journal) -> list[Problem]:
    """Unacknowledged problems of the journal; raises JournalUnreadable for a damaged file.

    Problems are kept in Meta until a manager acknowledges them: the next entry (the
    software start) rewrites the head record, so a cut-off end would otherwise be
    forgotten after one restart."""
    try:
        found = _check(journal)
        with journal.transaction():
            stored = _scalar(journal.db, "SELECT value FROM meta WHERE key = ?", (ALARM_KEY,))
            pending = [Problem(**p) for p in json.loads(str(stored))] if stored else []
            merged = pending + [p for p in found if p.key() not in {q.key() for q in pending}]
            if merged != pending:
                journal.db.execute_sql("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                                       (ALARM_KEY, json.dumps(as_dicts(merged))))
        return merged
    except (peewee.DatabaseError, sqlite3.DatabaseError) as exc:
        if is_busy(exc):  # another process writing for long is not damage
            raise DatabaseBusy(journal.db.database, "checking the journal at start-up") from exc
        raise JournalUnreadable(
            f"the journal database cannot be read ({exc}): the file is damaged or was cut "
            "short. Do not sell on this till: restore the database from a backup, or have "
            "head office replay the journal.") from exc


def _check(journal: Journal) -> list[Problem]:
    db = journal.db
    last_seq = _scalar(db, "SELECT max(seq) FROM journal") or 0
    problems: list[Problem] = []
    counters = running.load(db)
    head_seq = counters.get(running.SEQ_KEY)
    if head_seq is not None and head_seq > last_seq:
        problems.append(Problem(
            "truncated", last_seq + 1,
            f"the journal ends at entry {last_seq} but its head record says "
            f"{head_seq}: entries at the end were removed (truncated)"))
    elif head_seq is not None and head_seq != last_seq:
        problems.append(Problem(
            "totals", last_seq,
            f"the running report totals stop at entry {head_seq} but the "
            f"journal ends at {last_seq}: they no longer match the journal"))
    acked = _scalar(db, "SELECT acked_seq FROM delivery WHERE key = 'ack'") or 0
    if int(acked) > last_seq:
        problems.append(Problem(
            "behind_office", int(acked),
            f"head office confirmed entries up to {acked}, but the journal ends at {last_seq} "
            "(truncated or restored from an old copy)"))
    count = _scalar(db, "SELECT count(*) FROM journal") or 0
    if count != last_seq:
        first_gap = _scalar(db, "SELECT min(seq) + 1 FROM journal j WHERE seq < ? AND NOT EXISTS"
                            " (SELECT 1 FROM journal WHERE seq = j.seq + 1)", (last_seq,))
        if _scalar(db, "SELECT 1 FROM journal WHERE seq = 1") is None:
            first_gap = 1
        problems.append(Problem("missing", int(first_gap or 1),
                                f"{last_seq - count} entries are missing, the first is "
                                f"entry {first_gap} (deleted)"))
    last_z = _scalar(db, "SELECT max(seq) FROM journal WHERE type = 'z_close'") or 1
    if last_seq:
        problems += [p for p in _window_problems(journal, int(last_z), last_seq)
                     if p.code != "missing" or p.key() not in {q.key() for q in problems}]
    if not problems and head_seq is None and last_seq:
        resync_totals(journal)  # a journal from before running totals existed
    done = _acknowledged(journal)
    return [p for p in problems if p.key() not in done]


def clear_alarm(journal: Journal) -> None:
    """Forgets acknowledged problems; call in the transaction of the acknowledgement."""
    journal.db.execute_sql("DELETE FROM meta WHERE key = ?", (ALARM_KEY,))


def describe(problems: list[Problem]) -> str:
    """One plain paragraph for the cashier's screen and the log."""
    shown = "; ".join(p.text for p in problems[:3])
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return f"THE JOURNAL FAILED ITS START-UP CHECK: {shown}{more}."


def as_dicts(problems: list[Problem]) -> list[dict[str, object]]:
    return [asdict(p) for p in problems]
