"""The dead-letter table: every refused message counted exactly, its rows capped per terminal.

One terminal in a refusal loop, sending garbage or flooding must neither grow the database
without bound nor fail the write that records it: every value is clamped to its column here
(text cut and made storable, a seq out of range dropped), each terminal keeps at most
`KEEP_PER_TERMINAL` rows (the oldest go), and a terminal adding rows faster than its
`RowBudget` allows is only counted. The counts (per reason and per terminal) stay exact.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import peewee

from contract import wire
from contract.entries import MAX_SEQ
from headoffice import bulk
from headoffice.ingest.ratelimit import TokenBuckets
from headoffice.models import DeadLetter, DeadLetterCount, DeadLetterTerminal
from headoffice.orm import write_transaction

KEEP_PER_TERMINAL = 100  # rows kept per terminal, the newest
TOPIC_CHARS, DETAIL_CHARS, REASON_CHARS, PAYLOAD_BYTES = 1000, 2000, 32, 4096
ROW_BYTES_MAX = TOPIC_CHARS * 4 + DETAIL_CHARS * 4 + PAYLOAD_BYTES + 200  # text as UTF-8
RATE_PER_SECOND, BURST = 5.0, 100  # rows a terminal may add per worker; beyond it counted only
NO_TERMINAL = ""


@dataclass(frozen=True)
class Letter:
    """One refused message, as received; `record` makes it storable."""

    topic: str
    payload: bytes
    reason: str
    detail: str
    terminal: str | None = None
    seq: int | None = None


class RowBudget(TokenBuckets):
    """A token bucket per terminal: dead-letter rows it may still add now (a flood is then
    only counted, not stored). Kept in the worker's memory; each worker has its own."""

    def __init__(self, rate: float = RATE_PER_SECOND, burst: int = BURST,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(rate, burst, clock)


def clean_text(value: object, limit: int) -> str:
    """`value` as text any database column takes: at most `limit` characters, no NUL (which
    PostgreSQL refuses) and no lone surrogate (which no driver can encode)."""
    text = str(value)[:limit]
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text.replace("\x00", "\\x00")[:limit]


def clean_seq(seq: object) -> int | None:
    if isinstance(seq, int) and not isinstance(seq, bool) and 0 <= seq <= MAX_SEQ:
        return seq
    return None


def clean_terminal(terminal: object) -> str | None:
    return terminal if wire.valid_id(terminal) else None  # type: ignore[return-value]


def row(letter: Letter, now_iso: str) -> dict:
    return {"received": now_iso, "topic": clean_text(letter.topic, TOPIC_CHARS),
            "terminal": clean_terminal(letter.terminal), "seq": clean_seq(letter.seq),
            "reason": clean_text(letter.reason, REASON_CHARS) or "unknown",
            "detail": clean_text(letter.detail, DETAIL_CHARS),
            "payload": bytes(letter.payload[:PAYLOAD_BYTES])}


def record(letters: list[Letter], now_iso: str, budget: RowBudget | None = None) -> None:
    """Counts every letter and stores those the budget allows; inside the caller's
    transaction. A fixed number of statements whatever the number of terminals; counters
    are updated in key order, one lock order for every worker."""
    if not letters:
        return
    rows = [row(letter, now_iso) for letter in letters]
    kept = [r for r in rows if budget is None or budget.take(r["terminal"] or NO_TERMINAL)]
    table = DeadLetter._meta.table_name
    bulk.run_values(f"INSERT INTO {table} ({', '.join(_ROW)}) VALUES {{values}}",
                    [tuple(r[c] for c in _ROW) for r in kept])
    by_reason: dict[str, int] = defaultdict(int)
    by_terminal: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_reason[r["reason"]] += 1
        by_terminal[r["terminal"] or NO_TERMINAL].append(r)
    bulk.upsert(DeadLetterCount._meta.table_name, ("reason", "count"), ("reason",),
                sorted(by_reason.items()), add=("count",))
    kept_ids = {id(r) for r in kept}
    counts, trimmed = [], []
    for terminal, group in sorted(by_terminal.items()):
        unkept = sum(id(r) not in kept_ids for r in group)
        counts.append((terminal, len(group), unkept, group[-1]["reason"], now_iso, 0))
        if unkept < len(group):
            trimmed.append(terminal)
    bulk.upsert(DeadLetterTerminal._meta.table_name, _TERMINAL_ROW, ("terminal",), counts,
                add=("count", "unkept"), replace=("last_reason", "last_received"))
    trim_many(trimmed)


_ROW = ("received", "topic", "terminal", "seq", "reason", "detail", "payload")
_TERMINAL_ROW = ("terminal", "count", "unkept", "last_reason", "last_received", "alerted")


def trim_many(terminals: list[str], keep: int = KEEP_PER_TERMINAL) -> int:
    """trim for several terminals in one statement (NO_TERMINAL apart); returns the rows
    deleted."""
    deleted = trim(NO_TERMINAL, keep) if NO_TERMINAL in terminals else 0
    named = sorted(t for t in terminals if t != NO_TERMINAL)
    for start in range(0, len(named), bulk.SQLITE_ROWS):
        chunk = named[start:start + bulk.SQLITE_ROWS]
        ranked = (DeadLetter.select(DeadLetter.id, peewee.fn.ROW_NUMBER().over(
            partition_by=[DeadLetter.terminal], order_by=[DeadLetter.id.desc()]).alias("rank"))
            .where(DeadLetter.terminal.in_(chunk)))
        old = (peewee.Select([ranked.alias("ranked")], [peewee.SQL("ranked.id")])
               .where(peewee.SQL("ranked.rank") > keep))
        deleted += DeadLetter.delete().where(DeadLetter.id.in_(old)).execute()
    return deleted


def trim(terminal: str, keep: int = KEEP_PER_TERMINAL) -> int:
    """Deletes a terminal's oldest rows beyond `keep`; returns how many."""
    mine = (DeadLetter.terminal.is_null() if terminal == NO_TERMINAL
            else DeadLetter.terminal == terminal)
    boundary = (DeadLetter.select(DeadLetter.id).where(mine).order_by(DeadLetter.id.desc())
                .offset(keep).limit(1).scalar())
    if boundary is None:
        return 0
    return DeadLetter.delete().where(mine, DeadLetter.id <= boundary).execute()


def record_unstorable(db: peewee.Database, topic: str, payload: bytes, problem: BaseException,
                      now_iso: str, terminal: str | None = None, seq: int | None = None) -> None:
    """The last resort for a message whose own storing failed: its raw bytes (cut to
    PAYLOAD_BYTES) and the reason, in a transaction of its own. Raises only when the
    database cannot take even that, i.e. it is unavailable: the caller retries later."""
    letter = Letter(topic, payload, "unstorable", f"could not be stored: {problem!r}",
                    terminal, seq)
    with write_transaction(db):
        record([letter], now_iso)
