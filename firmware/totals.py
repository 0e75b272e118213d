"""Running report totals: the till's SQLite storage of the counters of contract/figures.py.

The reduction from a journal entry to counter changes (`contract.figures.changes`) lives in
the contract, so the till, `kassa report z --rebuild` and head office apply the very same
function. This module only keeps the counters in the `running_total` table, updated inside
the transaction that appends the entry (so a Z costs the same at 1,000 or 100,000 tickets).

The table is plain data anyone with the file can UPDATE, so it carries a seal: an HMAC (key
derived from the terminal's journal key) over every counter, the seq and the hash of the
journal's head, renewed by each append only when the old seal still holds. It is the row
`~seal` of the table itself (the HMAC's first 63 bits), so a sale writes no extra page. A Z is signed
only over sealed counters (firmware/closing.py), so an edited counter can never reach a Z.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any

import peewee

from contract import figures
from contract.figures import LAST_Z_KEY, SEQ_KEY, Z_COUNT_KEY, Change
from contract.keys import PrivateKey

__all__ = ["LAST_Z_KEY", "SEQ_KEY", "Z_COUNT_KEY", "load", "replace_all", "replay", "seal_key",
           "has_seal", "seal_holds", "store", "write_seal"]

SEAL_KEY = "~seal"  # sorts after every counter; never one itself
_SEAL_CONTEXT = b"kassa/running-totals-seal/v1\0"

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
    return dict(db.execute_sql("SELECT key, value FROM running_total WHERE key <> ?",
                               (SEAL_KEY,)).fetchall())


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


# --- the seal -----------------------------------------------------------------------------
def seal_key(journal_key: PrivateKey) -> bytes:
    """The HMAC key of the seal, derived from the journal's private key (never stored)."""
    raw = journal_key.private_bytes_raw()
    return hashlib.sha256(_SEAL_CONTEXT + raw).digest()


def _mac(key: bytes, seq: int, head_hash: bytes, counters: Mapping[str, int]) -> int:
    # repr of ints and plain strings is exact and stable, and cheaper than JSON on every append
    text = repr((int(seq), head_hash.hex(), sorted((str(k), int(v)) for k, v in counters.items())))
    return int.from_bytes(hmac.new(key, text.encode(), hashlib.sha256).digest()[:8], "big") >> 1


def write_seal(db: peewee.SqliteDatabase, key: bytes, seq: int, head_hash: bytes,
               counters: Mapping[str, int]) -> None:
    """Seals these counters to the journal head (seq, hash); inside the head's transaction."""
    db.execute_sql(_SET, (SEAL_KEY, _mac(key, seq, head_hash, counters)))


def has_seal(db: peewee.SqliteDatabase) -> bool:
    """True once the table was sealed (a database from before the seal has none)."""
    return db.execute_sql("SELECT 1 FROM running_total WHERE key = ?",
                          (SEAL_KEY,)).fetchone() is not None


def seal_holds(db: peewee.SqliteDatabase, key: bytes, seq: int, head_hash: bytes,
               counters: Mapping[str, int]) -> bool:
    """True when the stored seal is that of these counters at that head. An empty journal
    with no counters needs no seal."""
    row = db.execute_sql("SELECT value FROM running_total WHERE key = ?", (SEAL_KEY,)).fetchone()
    if row is None:
        return seq == 0 and not counters
    return hmac.compare_digest(str(row[0]), str(_mac(key, seq, head_hash, counters)))
