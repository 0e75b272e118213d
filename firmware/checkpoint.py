"""The verified point: how far start-up has checked the journal entry by entry, signed.

Checking every signature, every body and every Z's figures costs ~0.2 ms an entry on a Pi
class machine: 20 s at 100,000 entries, far over the start-up budget. So start-up does that
only for the entries after the last verified point, which it then moves to the head: a
Meta row with (seq, hash, the report counters at that seq), signed with the journal key.
Entries up to the point are still covered at every start-up by the full SHA-256 link pass
and the head's signature (firmware/integrity.py): together they prove that no body before the
point changed since it was verified. Without a point (a database from before this check, or
a deleted row) the window starts at the last Z close, whose signed figures seed the
counters; `kassa journal verify` checks everything from entry 1.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contract import chain, figures
from firmware import totals as running
from firmware.journal import Journal

META_KEY = "journal_checkpoint"
Finding = tuple[str, int, str]  # (problem code, seq, plain text) for firmware/integrity.py


@dataclass(frozen=True)
class Point:
    seq: int
    hash: str
    counters: dict[str, int]


@dataclass
class Window:
    """What verifying the entries after a point found, and the counters they lead to."""

    start: int
    findings: list[Finding] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    checked: int = 0

    @property
    def bodies_sound(self) -> bool:
        """False when an entry failed its own check: the counters replayed from the bodies
        then say nothing about the table (which the signed originals made)."""
        return not any(code == "edited" for code, _, _ in self.findings)


def _signed(point: Point) -> bytes:
    return chain.canonical({"seq": point.seq, "hash": point.hash, "counters": point.counters})


def load(journal: Journal) -> Point | None:
    """The stored point when its signature holds and it still lies on the journal's chain."""
    row = journal.db.execute_sql("SELECT value FROM meta WHERE key = ?", (META_KEY,)).fetchone()
    if row is None:
        return None
    try:
        record: Any = json.loads(row[0])
        point = Point(int(record["seq"]), str(record["hash"]),
                      {str(k): int(v) for k, v in record["counters"].items()})
        signature = bytes.fromhex(record["sig"])
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    digest = chain.entry_hash(chain.GENESIS, _signed(point))
    if not chain.signature_ok(journal.public_key, digest, signature):
        return None
    on_chain = journal.db.execute_sql("SELECT hash FROM journal WHERE seq = ?",
                                      (point.seq,)).fetchone()
    return point if on_chain is not None and on_chain[0] == point.hash else None


def store(journal: Journal, seq: int, hash_hex: str, counters: Mapping[str, int]) -> None:
    """Moves the verified point (inside a write transaction)."""
    point = Point(seq, hash_hex, dict(counters))
    signature = chain.sign(journal.key, chain.entry_hash(chain.GENESIS, _signed(point)))
    value = json.dumps({"seq": seq, "hash": hash_hex, "counters": point.counters,
                        "sig": signature.hex()}, sort_keys=True)
    journal.db.execute_sql("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                           (META_KEY, value))


def counters_after_z(body: Mapping[str, Any]) -> dict[str, int]:
    """The counters right after a z_close, from its own signed figures (the period is reset;
    only the perpetual ones remain)."""
    data, seq = body["data"], int(body["seq"])
    grand = data.get("grand_totals", {})
    return {running.SEQ_KEY: seq, running.LAST_Z_KEY: seq,
            running.Z_COUNT_KEY: int(data["z_number"]),
            "g:sales": int(grand.get("sales", 0)), "g:returns": int(grand.get("returns", 0))}


def starting_point(journal: Journal) -> tuple[int, dict[str, int], bool]:
    """(seq, counters at it, whether it is a stored point) where verification starts."""
    point = load(journal)
    if point is not None:
        return point.seq, point.counters, True
    row = journal.db.execute_sql("SELECT body FROM journal WHERE type = 'z_close' "
                                 "ORDER BY seq DESC LIMIT 1").fetchone()
    if row is not None:
        try:
            body = json.loads(row[0])
            return int(body["seq"]), counters_after_z(body), False
        except (ValueError, KeyError, TypeError):
            pass  # an edited Z: the link pass names it; verify from the start instead
    return 0, {}, False


def verify_after(journal: Journal, start: int, counters: dict[str, int],
                 entries_too: bool = True) -> Window:
    """Checks every entry after `start` (hash link, signature, seq) and every Z close among
    them against its rebuild, replaying the counters on the way; each body is parsed once.
    (Its canonical form needs no check here: a body whose hash links and is signed is the
    one the till wrote; `kassa journal verify` re-checks the form too.) `entries_too=False`
    only replays and rebuilds, for an audit that checked the entries already."""
    db = journal.db
    window = Window(start, counters=dict(counters))
    prev_row = db.execute_sql("SELECT hash FROM journal WHERE seq = ?", (start,)).fetchone()
    prev = bytes.fromhex(prev_row[0]) if start and prev_row else chain.GENESIS
    cursor = db.execute_sql("SELECT seq, body, hash, sig FROM journal WHERE seq > ? ORDER BY seq",
                            (start,))
    expected = start + 1
    for seq, body_text, hash_hex, sig_hex in cursor:
        window.checked += 1
        try:
            stored = bytes.fromhex(hash_hex)
            body = json.loads(body_text)
            # After a gap (the count check names it) the link to the entry before cannot hold.
            problem = (_entry_problem(journal, prev, body_text, stored, sig_hex, seq, body)
                       if entries_too and seq == expected else None)
        except (ValueError, TypeError):
            stored, problem = b"", "its body, hash or signature is not readable"
        expected, prev = seq + 1, stored
        if problem:
            window.findings.append(("edited", seq, f"entry {seq}: {problem}"))
            if len(window.findings) >= 10:
                break
        else:
            _replay(window, seq, body)
    return window


def _entry_problem(journal: Journal, prev: bytes, body_text: str, stored: bytes, sig_hex: str,
                   seq: int, body: Any) -> str | None:
    if chain.entry_hash(prev, body_text.encode()) != stored:
        return "hash does not match body and previous entry (edited, deleted or reordered)"
    if not chain.signature_ok(journal.public_key, stored, bytes.fromhex(sig_hex)):
        return "signature does not match (forged or signed by another key)"
    if not isinstance(body, dict) or body.get("seq") != seq:
        return "its body claims another seq (inserted or reordered)"
    return None


def _replay(window: Window, seq: int, body: Any) -> None:
    try:
        if body["type"] == "z_close":
            _check_z(window, body)
        figures.apply(window.counters, figures.changes(body))
    except (ValueError, KeyError, TypeError, AttributeError):
        window.findings.append(("edited", seq, f"entry {seq}: its body is not a journal entry"))


def _check_z(window: Window, body: dict[str, Any]) -> None:
    stored, seq = body["data"], body["seq"]
    rebuilt = figures.rebuilt_z(stored, window.counters, seq - 1, body["v"])
    differences = figures.z_differences(stored, rebuilt)
    if differences:
        window.findings.append((
            "z_figures", seq, f"Z close {stored.get('z_number')} (entry {seq}) signed figures "
            f"the journal does not give: {'; '.join(differences[:3])}"))


def same_counters(a: Mapping[str, int], b: Mapping[str, int]) -> bool:
    """Counters equal as figures (a counter at 0 and one never written are the same)."""
    return {k: v for k, v in a.items() if v} == {k: v for k, v in b.items() if v}
