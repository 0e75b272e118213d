"""The fiscal journal: gap-free seq, canonical JSON, SHA-256 chain, Ed25519 signature.

Entries are appended inside the caller's write transaction so that a sale, its stock change
and its journal entry commit together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import peewee

from contract import chain, entries, figures
from contract.entries import ENTRY_TYPES, EntrySchemaError
from contract.keys import PrivateKey, PublicKey
from contract.shop_time import shop_stamp
from firmware import totals
from firmware.models import JournalEntry

__all__ = ["ENTRY_TYPES", "Entry", "EntrySchemaError", "Journal", "VerifyResult", "now_local"]

def now_local() -> str:
    """The shop's wall-clock time with its UTC offset, to the millisecond (not the Pi's zone)."""
    return shop_stamp("milliseconds")


@dataclass(frozen=True)
class Entry:
    seq: int
    type: str
    ts: str
    body: dict[str, Any]
    body_text: str
    hash: str
    sig: str

    @classmethod
    def from_row(cls, row: JournalEntry) -> Entry:
        return cls(row.seq, row.type, row.ts, json.loads(row.body), row.body, row.hash, row.sig)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    bad_seq: int | None = None
    problem: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"journal OK: {self.checked} entries, chain and signatures verified"
        return f"journal BROKEN at entry {self.bad_seq}: {self.problem}"


class Journal:
    """Appends and verifies entries of one terminal's journal."""

    def __init__(
        self,
        db: peewee.SqliteDatabase,
        key: PrivateKey,
        store: str,
        terminal: str,
        clock: Callable[[], str] = now_local,
    ) -> None:
        self.db, self.key, self.store, self.terminal, self.clock = db, key, store, terminal, clock
        self.public_key: PublicKey = key.public_key()
        self._seal_key = totals.seal_key(key)
        # The counters as last sealed, with the head they were sealed to: spares each append
        # reading and re-checking the table (firmware/totals.py).
        self._sealed: tuple[tuple[int, bytes], dict[str, int]] | None = None

    def transaction(self) -> Any:
        """A write transaction; BEGIN IMMEDIATE so seq allocation never races."""
        if self.db.in_transaction():
            return self.db.atomic()
        return self.db.atomic("IMMEDIATE")

    def head(self) -> tuple[int, bytes]:
        """(last seq, its hash) as stored; (0, genesis) for an empty journal."""
        # Plain SQL: this runs for every entry, and the ORM costs more than the query.
        row = self.db.execute_sql("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
        if row is None:
            return 0, chain.GENESIS
        return row[0], bytes.fromhex(row[1])

    def append(
        self,
        entry_type: str,
        data: dict[str, Any],
        *,
        cashier: str | None = None,
        training: bool = False,
        ref_seq: int | None = None,
    ) -> Entry:
        """Adds one entry. Must run inside self.transaction() together with its side effects.

        The body is checked against its type's schema (contract/entries.py) first: a body
        that does not fit raises EntrySchemaError and nothing is written."""
        if entry_type not in ENTRY_TYPES:
            raise ValueError(f"unknown journal entry type {entry_type!r}")
        if not self.db.in_transaction():
            raise RuntimeError("journal entries are appended inside a transaction")
        last_seq, prev_hash = self.head()
        seq = last_seq + 1
        ts = self.clock()
        body: dict[str, Any] = {
            "v": chain.SCHEMA, "seq": seq, "type": entry_type, "ts": ts,
            "store": self.store, "terminal": self.terminal,
            "cashier": cashier, "training": training, "data": data,
        }
        if ref_seq is not None:
            body["ref_seq"] = ref_seq
        entries.validate_body(body)
        text = chain.canonical(body)
        digest = chain.entry_hash(prev_hash, text)
        signature = chain.sign(self.key, digest)
        body_text = text.decode()
        cursor = self.db.cursor()
        cursor.execute("INSERT INTO journal (seq, type, ts, ref_seq, body, hash, sig) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (seq, entry_type, ts, ref_seq, body_text, digest.hex(), signature.hex()))
        # Report counters, same transaction; their last-seq counter doubles as the journal's
        # head record, so a journal cut short is told from one that never went further.
        self._store_totals(figures.changes(body), (last_seq, prev_hash), (seq, digest))
        return Entry(seq, entry_type, ts, body, body_text, digest.hex(), signature.hex())

    def _store_totals(self, change: figures.Change, before: tuple[int, bytes],
                      after: tuple[int, bytes]) -> None:
        """Applies an entry's counter changes and renews the seal, but only over counters
        that were sealed to the entry before: an edited table stays unsealed, and a Z
        refuses it (firmware/closing.py), whatever is sold in between."""
        counters = self._sealed_counters(before)
        totals.store(self.db, change)
        if counters is not None:
            figures.apply(counters, change)
            totals.write_seal(self.db, self._seal_key, *after, counters)
            self._sealed = (after, counters)

    def _sealed_counters(self, head: tuple[int, bytes]) -> dict[str, int] | None:
        """A copy of the counters sealed to `head`; None when the table's seal is broken. The
        copy from the last append serves while the head is still the one it was sealed to
        (after a rollback it is not, and the table is read and checked again)."""
        if self._sealed is not None and self._sealed[0] == head:
            return dict(self._sealed[1])
        counters = totals.load(self.db)
        return counters if totals.seal_holds(self.db, self._seal_key, *head, counters) else None

    def totals_sealed(self) -> bool:
        """True when the running totals are the ones the journal's appends left (sealed to
        the head); False after an edit of the table, or a journal cut back to an older head."""
        seq, head_hash = self.head()
        return totals.seal_holds(self.db, self._seal_key, seq, head_hash, totals.load(self.db))

    def seal_totals(self) -> None:
        """Seals the table as it stands to the head: only after it was rebuilt from, or
        checked against, the journal itself (firmware/integrity.py, reports.resync_totals)."""
        seq, head_hash = self.head()
        counters = totals.load(self.db)
        totals.write_seal(self.db, self._seal_key, seq, head_hash, counters)
        self._sealed = ((seq, head_hash), counters)

    def get(self, seq: int) -> Entry | None:
        row = JournalEntry.get_or_none(JournalEntry.seq == seq)
        return Entry.from_row(row) if row else None

    def entries(self, after: int = 0, limit: int | None = None) -> Iterator[Entry]:
        query = JournalEntry.select().where(JournalEntry.seq > after).order_by(JournalEntry.seq)
        if limit:
            query = query.limit(limit)
        for row in query.iterator():
            yield Entry.from_row(row)

    def verify(self, public_key: PublicKey | None = None) -> VerifyResult:
        """Re-checks the whole chain; names the first entry edited, deleted, inserted or moved."""
        key = public_key or self.public_key
        prev = chain.GENESIS
        expected = 1
        checked = 0
        cursor = self.db.execute_sql("SELECT seq, body, hash, sig FROM journal ORDER BY seq")
        for seq, body, hash_hex, sig_hex in cursor:
            if seq != expected:
                if seq > expected:
                    return VerifyResult(False, checked, expected,
                                        f"missing (deleted); next present entry is {seq}")
                return VerifyResult(False, checked, seq, "out of order")
            problem = chain.check_entry(prev, body, hash_hex, sig_hex, key, expected_seq=seq)
            if problem:
                return VerifyResult(False, checked, seq, problem)
            prev = bytes.fromhex(hash_hex)
            expected += 1
            checked += 1
        head_seq = totals.load(self.db).get(totals.SEQ_KEY)
        if head_seq is not None and head_seq != checked:
            return VerifyResult(False, checked, checked + 1 if head_seq > checked else head_seq,
                                f"journal head says {head_seq} entries but {checked} are present"
                                " (truncated)")
        return VerifyResult(True, checked)
