"""The start-up check of the journal: every entry, within the start-up budget.

What it checks before anything is sold (docs/integrity.md):
- the head record (the running totals' last seq, written with every entry) matches the last
  row, and head office has not confirmed more entries than the journal holds: entries cut
  off the end (a truncated journal) are caught;
- the number of rows equals the last seq: a deleted entry anywhere is caught;
- every entry's SHA-256 links to its predecessor, from entry 1 (one pass over the table,
  no JSON, no signatures: ~0.5 s at 100,000 entries), and the head carries a valid Ed25519
  signature: editing any body anywhere breaks a link, and re-hashing the rest would need a
  new signature on the head, which only the terminal's key can make;
- after the verified point (firmware/checkpoint.py: how far the last start-up got), every
  entry in full (canonical body, seq, signature), every Z close's signed figures against
  their rebuild, and the running totals against the replay; and that the running totals
  carry their seal to the head (firmware/totals.py), so an edited counter never reaches a Z;
- the anchor file beside the database (firmware/anchor.py): the last Z close it records is
  still the journal's.
`kassa journal verify` (`audit` below with Journal.verify) checks all of it from entry 1.
A problem found here blocks selling until a manager acknowledges it; the acknowledgement is
a journal entry, and an acknowledged problem does not block again.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import asdict, dataclass

import peewee

from contract import chain, figures
from firmware import anchor, checkpoint
from firmware import totals as running
from firmware.db import DatabaseBusy, is_busy
from firmware.journal import Journal
from firmware.reports import resync_totals


class JournalUnreadable(Exception):
    """The database file itself cannot be read (damaged or cut short)."""


@dataclass(frozen=True)
class Problem:
    code: str  # truncated | behind_office | missing | edited | totals | z_figures | anchor
    bad_seq: int
    text: str

    def key(self) -> tuple[str, int]:
        return self.code, self.bad_seq


def _scalar(db: peewee.SqliteDatabase, sql: str, params: tuple = ()) -> object:
    row = db.execute_sql(sql, params).fetchone()
    return row[0] if row else None


def _ack_problems(journal: Journal, last_seq: int) -> list[Problem]:
    """Head office's ack (the delivery table) against the journal's end."""
    acked = int(_scalar(journal.db, "SELECT acked_seq FROM delivery WHERE key = 'ack'") or 0)
    if acked <= last_seq:
        return []
    return [Problem("behind_office", acked, f"head office confirmed entries up to {acked}, but "
                    f"the journal ends at {last_seq} (truncated or restored from an old copy)")]


def _link_problems(journal: Journal, last_seq: int) -> list[Problem]:
    """Every entry's SHA-256 link, from entry 1, and the head's signature. A gap is the
    count check's to name; the entry after it is not called edited."""
    db = journal.db
    prev, expected = chain.GENESIS, 1
    problems: list[Problem] = []
    sha256 = hashlib.sha256
    for seq, body, hash_hex in db.execute_sql(
            "SELECT seq, CAST(body AS BLOB), hash FROM journal ORDER BY seq"):
        try:
            stored = bytes.fromhex(hash_hex)
        except (TypeError, ValueError):
            stored = b""
        if seq == expected and sha256(prev + body).digest() != stored:
            problems.append(Problem("edited", seq, f"entry {seq} was altered: its hash does not "
                                    "match its contents and the entry before it"))
            if len(problems) >= 10:
                break
        prev, expected = stored, seq + 1
    head = db.execute_sql("SELECT hash, sig FROM journal WHERE seq = ?", (last_seq,)).fetchone()
    if head is not None and not problems:
        try:
            sound = chain.signature_ok(journal.public_key, bytes.fromhex(head[0]),
                                       bytes.fromhex(head[1]))
        except (TypeError, ValueError):
            sound = False
        if not sound:
            problems.append(Problem("edited", last_seq, f"entry {last_seq} (the last): its "
                                    "signature does not match: the journal was re-hashed or "
                                    "forged"))
    return problems


def _totals_problems(journal: Journal, window: checkpoint.Window, last_seq: int,
                     legacy: bool) -> list[Problem]:
    """The running totals against the replay of the window, and their seal to the head."""
    table = running.load(journal.db)
    if last_seq and (running.SEQ_KEY not in table or not figures.counters_current(table)):
        if legacy:
            return []  # written before running totals (or version 2): rebuilt when all is well
        return [Problem("totals", last_seq, "the running report totals are gone or of an older "
                        "version, though this journal's were sealed: they were rewritten "
                        "outside the till")]
    if window.bodies_sound and not checkpoint.same_counters(window.counters, table):
        changed = sorted(k for k in set(table) | set(window.counters)
                         if table.get(k, 0) != window.counters.get(k, 0))
        return [Problem("totals", last_seq, f"the running report totals ({', '.join(changed[:4])}"
                        f") differ from what the journal's entries give: they were changed "
                        "outside the till")]
    if not legacy and not journal.totals_sealed():
        return [Problem("totals", last_seq, f"the running report totals are not sealed to the "
                        f"journal's last entry {last_seq}: the end of the journal or the totals "
                        "were rewritten outside the till")]
    return []


def _is_legacy(journal: Journal) -> bool:
    """A database from before sealed totals: no seal, no verified point and no anchor file.
    (Deleting all three to pass for one leaves the anchor's absence to be reported.)"""
    point = _scalar(journal.db, "SELECT 1 FROM meta WHERE key = ?", (checkpoint.META_KEY,))
    path = anchor.path_for(journal.db)
    return not (point or running.has_seal(journal.db) or (path is not None and path.exists()))


def _settle(journal: Journal, window: checkpoint.Window, last_seq: int, legacy: bool) -> None:
    """Nothing unacknowledged: (re)seal totals that are proven, move the verified point to
    the head and bring the anchor up to the last Z close."""
    table = running.load(journal.db)
    if last_seq and (running.SEQ_KEY not in table or not figures.counters_current(table)):
        resync_totals(journal)  # a journal from before running totals (or version 2) existed
    elif legacy and window.bodies_sound and checkpoint.same_counters(window.counters, table):
        journal.seal_totals()
    if last_seq and journal.totals_sealed():
        seq, head_hash = journal.head()
        checkpoint.store(journal, seq, head_hash.hex(), running.load(journal.db))
    anchor.renew(journal.db, journal.key, journal.store, journal.terminal)


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
            return remember(journal, found)
    except (peewee.DatabaseError, sqlite3.DatabaseError) as exc:
        if is_busy(exc):  # another process writing for long is not damage
            raise DatabaseBusy(journal.db.database, "checking the journal at start-up") from exc
        raise JournalUnreadable(
            f"the journal database cannot be read ({exc}): the file is damaged or was cut "
            "short. Do not sell on this till: restore the database from a backup, or have "
            "head office replay the journal.") from exc


def remember(journal: Journal, found: list[Problem]) -> list[Problem]:
    """Adds problems to the pending alarm in Meta (inside a write transaction); all pending."""
    stored = _scalar(journal.db, "SELECT value FROM meta WHERE key = ?", (ALARM_KEY,))
    pending = [Problem(**p) for p in json.loads(str(stored))] if stored else []
    merged = pending + [p for p in found if p.key() not in {q.key() for q in pending}]
    if merged != pending:
        journal.db.execute_sql("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                               (ALARM_KEY, json.dumps(as_dicts(merged))))
    return merged


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
    problems += _ack_problems(journal, last_seq)
    count = _scalar(db, "SELECT count(*) FROM journal") or 0
    if count != last_seq:
        first_gap = _scalar(db, "SELECT min(seq) + 1 FROM journal j WHERE seq < ? AND NOT EXISTS"
                            " (SELECT 1 FROM journal WHERE seq = j.seq + 1)", (last_seq,))
        if _scalar(db, "SELECT 1 FROM journal WHERE seq = 1") is None:
            first_gap = 1
        problems.append(Problem("missing", int(first_gap or 1),
                                f"{last_seq - count} entries are missing, the first is "
                                f"entry {first_gap} (deleted)"))
    legacy = _is_legacy(journal)
    window = checkpoint.verify_after(journal, *checkpoint.starting_point(journal)[:2])
    problems = _add(problems, _link_problems(journal, last_seq))
    problems = _add(problems, [Problem(*finding) for finding in window.findings])
    problems = _add(problems, _totals_problems(journal, window, last_seq, legacy))
    problems = _add(problems, [Problem(*finding) for finding in anchor.findings(
        db, journal.public_key, journal.store, journal.terminal, last_seq)])
    done = _acknowledged(journal)
    open_problems = [p for p in problems if p.key() not in done]
    if not open_problems:
        with journal.transaction():
            _settle(journal, window, last_seq, legacy)
    return open_problems


def _add(problems: list[Problem], more: list[Problem]) -> list[Problem]:
    """The problems with those of `more` that name something new (one per code and seq)."""
    out = list(problems)
    keys = {p.key() for p in out}
    for problem in more:
        if problem.key() not in keys:
            keys.add(problem.key())
            out.append(problem)
    return out


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


@dataclass
class Audit:
    """What `kassa journal verify` checks beyond the chain and signatures (Journal.verify)."""

    problems: list[Problem]
    sound: list[str]  # one line per check that passed


def audit(journal: Journal, printed_z_codes: tuple[str, ...] = ()) -> Audit:
    """Every Z close against its rebuild from entry 1, the running totals against the whole
    journal and their seal, the anchor file, head office's ack, and the QR codes of printed
    Z reports (KASSA1|store|terminal|seq|hash) as read off the paper."""
    db = journal.db
    last_seq = int(_scalar(db, "SELECT max(seq) FROM journal") or 0)
    window = checkpoint.verify_after(journal, 0, {}, entries_too=False)
    problems = [Problem(*finding) for finding in window.findings]
    sound: list[str] = []
    zs = int(_scalar(db, "SELECT count(*) FROM journal WHERE type = 'z_close'") or 0)
    if not problems:
        sound.append(f"Z figures OK: {zs} Z closes give the figures they signed")
    totals = _totals_problems(journal, window, last_seq, _is_legacy(journal))
    problems += totals
    if not totals:
        sound.append(f"running totals OK: they match the journal and are sealed to entry {last_seq}")
    found = [Problem(*f) for f in anchor.findings(db, journal.public_key, journal.store,
                                                  journal.terminal, last_seq)]
    problems += found
    last_z = anchor.last_z(db)
    if not found and last_z is not None:
        sound.append(f"anchor OK: {anchor.path_for(db)} records Z close {last_z[2]} "
                     f"(entry {last_z[0]})")
    behind = _ack_problems(journal, last_seq)
    problems += behind
    if not behind:
        acked = int(_scalar(db, "SELECT acked_seq FROM delivery WHERE key = 'ack'") or 0)
        sound.append(f"head office's ack OK: entries up to {acked} confirmed, the journal ends "
                     f"at {last_seq}")
    for code in printed_z_codes:
        finding = anchor.check_printed_qr(db, journal.store, journal.terminal, code)
        if finding:
            problems.append(Problem(*finding))
        else:
            sound.append(f"printed Z code OK: {code.strip()}")
    return Audit(problems, sound)
