"""Stores one batch of checked messages in one transaction and advances each terminal's
contiguous high-water mark; what cannot be stored goes to the dead-letter table.

Safe with several workers at once: inserts are idempotent on (terminal, seq) and are made in
(terminal, seq) order, then the state rows are locked in terminal order, so two workers
never wait on each other in a cycle. A batch that still hits a deadlock or a busy database
is retried as a whole.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field

import peewee

from contract.entries import MAX_SEQ
from headoffice import aggregates, bulk, cash_records, receipt_keys
from headoffice.alerts import rules as alert_rules
from headoffice.ingest import deadletter
from headoffice.ingest.deadletter import Letter, RowBudget
from headoffice.ingest.validate import Candidate, Refusal
from headoffice.models import (
    GENESIS_HEX,
    OfficeEntry,
    RegisteredTerminal,
    TerminalState,
)
from headoffice.orm import database_proxy, is_postgres, write_transaction
from headoffice.received import Received

GAP_GRACE_SECONDS = 2.0  # entries overtaking each other between workers is normal, briefly
WALK_CHUNK = 5000
RETRIES = 8


def _on_stored(received: list[Received]) -> None:
    """Updates the dashboard aggregates, the receipt search keys and the cash rows and
    records the anomaly alerts of the entries just stored, inside the batch's transaction:
    all commit (or roll back) with the batch and nothing is counted twice."""
    aggregates.apply(aggregates.collect(received))
    receipt_keys.record(r.body for r in received)
    cash_records.record(r.body for r in received)
    alert_rules.evaluate_entries([r.entry for r in received])


@dataclass
class Rejected:
    topic: str
    payload: bytes
    refusal: Refusal


@dataclass
class StatusUpdate:
    terminal: str
    store: str
    status: dict


@dataclass
class BatchResult:
    stored: int = 0
    rejected: int = 0
    acks: dict[str, tuple[str, int, str]] = field(default_factory=dict)  # terminal -> store,seq,hash
    replays: dict[str, tuple[str, int]] = field(default_factory=dict)  # terminal -> store,from


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def store_batch(db: peewee.Database, candidates: list[tuple[str, bytes, Candidate]],
                rejected: list[Rejected], statuses: list[StatusUpdate],
                budget: RowBudget | None = None) -> BatchResult:
    """Commits the batch (retrying whole on lock conflicts); returns acks and replays due.
    `budget` limits the dead-letter rows a terminal adds (deadletter.RowBudget)."""
    for attempt in range(RETRIES):
        try:
            with write_transaction(db):
                return _store(candidates, list(rejected), statuses, budget)
        except (peewee.OperationalError, peewee.InterfaceError) as exc:
            if attempt == RETRIES - 1:
                raise
            if is_postgres(db) and db.is_closed():
                db.connect(reuse_if_open=True)
            time.sleep(0.05 * (attempt + 1))
            _ = exc
    raise AssertionError("unreachable")


def _store(candidates: list[tuple[str, bytes, Candidate]], rejected: list[Rejected],
           statuses: list[StatusUpdate], budget: RowBudget | None) -> BatchResult:
    """A fixed number of statements per batch, whatever the number of terminals in it: one
    look-up of the stored neighbours, one insert, the aggregates, one lock and one write of
    the touched terminals' states, the dead letters."""
    now_iso, now = _now_iso(), time.time()
    result = BatchResult()
    by_terminal: dict[str, dict[int, tuple[str, bytes, Candidate]]] = defaultdict(dict)
    for topic, payload, cand in sorted(candidates, key=lambda c: (c[2].terminal, c[2].seq)):
        seen = by_terminal[cand.terminal].get(cand.seq)
        if seen is None:
            by_terminal[cand.terminal][cand.seq] = (topic, payload, cand)
        elif seen[2].hash == cand.hash:
            rejected.append(Rejected(topic, payload, Refusal(
                "duplicate", "delivered twice in one batch", cand.terminal, cand.seq)))
        else:
            rejected.append(Rejected(topic, payload, Refusal(
                "conflict", "two different entries with one seq", cand.terminal, cand.seq)))
    wanted = sorted({(terminal, s) for terminal, entries in by_terminal.items()
                     for seq in entries for s in (seq, seq - 1) if s >= 1})
    stored = {(t, s): h for t, s, h in
              bulk.select_pairs(OfficeEntry._meta.table_name, ("terminal", "seq", "hash"), wanted)}
    rows = []
    for terminal, entries in sorted(by_terminal.items()):
        for seq, (topic, payload, cand) in sorted(entries.items()):
            if (terminal, seq) in stored:
                same = stored[(terminal, seq)] == cand.hash
                rejected.append(Rejected(topic, payload, Refusal(
                    "duplicate" if same else "conflict",
                    "already stored" if same else "another entry with this seq is stored",
                    terminal, seq)))
                continue
            before = stored.get((terminal, seq - 1)) or (
                entries[seq - 1][2].hash if seq - 1 in entries else None)
            if seq == 1:
                before = GENESIS_HEX
            if before is not None and before != cand.prev:
                rejected.append(Rejected(topic, payload, Refusal(
                    "chain_break", f"prev hash does not match stored entry {seq - 1}",
                    terminal, seq)))
                continue
            rows.append({
                "terminal": terminal, "seq": seq, "store": cand.store, "type": cand.type,
                "ts": cand.ts, "body": cand.body, "hash": cand.hash, "prev": cand.prev,
                "sig": cand.sig, "received": now_iso,
            })
    rows = _insert(rows, by_terminal, rejected)
    _on_stored([by_terminal[row["terminal"]][row["seq"]][2].received for row in rows])
    result.stored = len(rows)
    touched: dict[str, str] = {}
    new: dict[str, dict[int, tuple[str, str]]] = defaultdict(dict)  # terminal -> seq -> hash, prev
    for row in rows:
        touched[row["terminal"]] = row["store"]
        new[row["terminal"]][row["seq"]] = (row["hash"], row["prev"])
    for status in statuses:
        touched.setdefault(status.terminal, status.store)
    stored_above: dict[str, int] = defaultdict(int)  # highest seq refused as already stored
    for rej in rejected:  # a duplicate may mean the till missed our ack: send it again
        if rej.refusal.reason in ("duplicate", "conflict") and rej.refusal.terminal:
            touched.setdefault(rej.refusal.terminal, "")
            stored_above[rej.refusal.terminal] = max(stored_above[rej.refusal.terminal],
                                                     rej.refusal.seq or 0)
    known = _registered(list(touched))
    status_of = {s.terminal: s for s in statuses}
    terminals = sorted(t for t in touched if t in known)
    states = _lock_states(terminals, known)
    updated = [_advance(states[t], new.get(t, {}), stored_above.get(t, 0), status_of.get(t),
                        now, now_iso, result, rejected) for t in terminals]
    bulk.upsert(_STATE_TABLE, _STATE, ("terminal",), updated, replace=_STATE[1:])
    _dead_letters(rejected, now_iso, budget)
    result.rejected = len(rejected)
    return result


def _registered(terminals: list[str]) -> dict[str, str]:
    """terminal -> store of those of `terminals` that are registered."""
    out: dict[str, str] = {}
    for chunk in _chunks(terminals, bulk.SQLITE_ROWS):
        out.update(RegisteredTerminal.select(RegisteredTerminal.terminal_id,
                                             RegisteredTerminal.store)
                   .where(RegisteredTerminal.terminal_id.in_(chunk)).tuples())
    return out


_STATE_TABLE = TerminalState._meta.table_name
_STATE = ("terminal", "store", "contiguous_seq", "head_hash", "max_seen_seq", "gap_since",
          "replay_requested", "online", "backlog", "till_acked", "status", "last_seen", "problem")


def _lock_states(terminals: list[str], stores: dict[str, str]) -> dict[str, dict]:
    """The state rows of `terminals` (sorted), created when missing, locked on PostgreSQL
    in terminal order: one lock order for every worker, so no deadlock cycle."""
    found = _select_states(terminals)
    missing = [t for t in terminals if t not in found]
    if missing:
        bulk.upsert(_STATE_TABLE, _STATE, ("terminal",),
                    [(t, stores[t], 0, GENESIS_HEX, 0, None, None, False, None, None, "", "", "")
                     for t in missing])
        found.update(_select_states(missing))
    return found


def _select_states(terminals: list[str]) -> dict[str, dict]:
    lock = " FOR UPDATE" if is_postgres() else ""
    mark = "%s" if is_postgres() else "?"
    cursor = database_proxy.obj.cursor()
    out = {}
    for chunk in _chunks(terminals, bulk.SQLITE_ROWS):
        cursor.execute(f"SELECT {', '.join(_STATE)} FROM {_STATE_TABLE} WHERE terminal IN "
                       f"({', '.join(mark for _ in chunk)}) ORDER BY terminal{lock}", chunk)
        for values in cursor.fetchall():
            out[values[0]] = dict(zip(_STATE, values, strict=True))
    return out


_COLUMNS = ("terminal", "seq", "store", "type", "ts", "body", "hash", "prev", "sig", "received")
_INSERT = (f"INSERT INTO journal_entry ({', '.join(_COLUMNS)}) VALUES {{values}}"
           " ON CONFLICT (terminal, seq) DO NOTHING RETURNING terminal, seq")


def _insert(rows: list[dict], by_terminal: dict[str, dict[int, tuple[str, bytes, Candidate]]],
            rejected: list[Rejected]) -> list[dict]:
    """Inserts; returns only the rows really inserted (RETURNING, on both engines), so the
    aggregates never count an entry twice. On PostgreSQL another worker may have stored the
    same entry since the duplicate check; those rows are dead-lettered here.
    Plain driver calls, not the query builder: this is the hot path of the ingest."""
    values = [tuple(row[c] for c in _COLUMNS) for row in rows]
    if not values:
        return []
    inserted = set(bulk.run_values(_INSERT, values, fetch=True))
    if len(inserted) == len(rows):
        return rows
    kept = []
    for row in rows:
        key = (row["terminal"], row["seq"])
        if key in inserted:
            kept.append(row)
            continue
        topic, payload, cand = by_terminal[row["terminal"]][row["seq"]]
        other = OfficeEntry.get(OfficeEntry.terminal == key[0], OfficeEntry.seq == key[1])
        same = other.hash == cand.hash
        rejected.append(Rejected(topic, payload, Refusal(
            "duplicate" if same else "conflict",
            "stored meanwhile by another worker" if same else "another entry with this seq",
            key[0], key[1])))
    return kept


def _advance(state: dict, new: dict[int, tuple[str, str]], stored_above: int,
             status: StatusUpdate | None, now: float, now_iso: str, result: BatchResult,
             rejected: list[Rejected]) -> tuple:
    """The terminal's state after this batch, as a row of _STATE. The contiguous mark walks
    over this batch's own entries, known in memory; only a terminal with stored entries
    beyond its mark (a gap was open, or a resend of entries above it came) is walked in
    the database."""
    terminal, store = state["terminal"], state["store"]
    before = seq = state["contiguous_seq"]
    head, problem = state["head_hash"], state["problem"]
    if state["max_seen_seq"] > seq or stored_above > seq:
        seq, head, problem = _walk_stored(terminal, seq, head, problem, rejected)
    else:
        seq, head, problem, _done = _walk(terminal, seq, head, problem,
                                          [(s, *new[s]) for s in sorted(new)], rejected)
    max_seen = max(state["max_seen_seq"], max(new, default=0), seq)
    out = {**state, "contiguous_seq": seq, "head_hash": head, "max_seen_seq": max_seen,
           "problem": problem}
    if new:
        out["last_seen"] = now_iso
    if max_seen > seq:
        gap_since = state["gap_since"] or now
        out["gap_since"] = gap_since
        asked = state["replay_requested"]
        if now - gap_since >= GAP_GRACE_SECONDS and (
                asked is None or now - asked >= GAP_GRACE_SECONDS):
            out["replay_requested"] = now
            result.replays[terminal] = (store, seq + 1)
    else:
        out["gap_since"] = None
    if status is not None:
        st = status.status
        out.update(online=st.get("state") == "online", status=json.dumps(st)[:4000],
                   last_seen=now_iso)
        for key, column in (("backlog", "backlog"), ("acked", "till_acked")):
            if _in_range(st.get(key)):  # a number beyond the column is ignored, not fatal
                out[column] = st[key]
    if seq != before or new or status is None:
        result.acks[terminal] = (store, seq, head)
    return tuple(out[c] for c in _STATE)


def _walk_stored(terminal: str, seq: int, head: str, problem: str,
                 rejected: list[Rejected]) -> tuple[int, str, str]:
    """The contiguous mark walked over the stored entries above `seq`, in chunks."""
    while True:
        chunk = list(OfficeEntry.select(OfficeEntry.seq, OfficeEntry.hash, OfficeEntry.prev)
                     .where(OfficeEntry.terminal == terminal, OfficeEntry.seq > seq)
                     .order_by(OfficeEntry.seq).limit(WALK_CHUNK).tuples())
        seq, head, problem, done = _walk(terminal, seq, head, problem, chunk, rejected)
        if not (done and len(chunk) == WALK_CHUNK):
            return seq, head, problem


def _walk(terminal: str, seq: int, head: str, problem: str,
          entries: list[tuple[int, str, str]], rejected: list[Rejected]
          ) -> tuple[int, str, str, bool]:
    """Advances over `entries` (seq, hash, prev; ascending) while they follow on; returns the
    new mark, head, problem and whether every entry was passed."""
    for entry_seq, entry_hash, entry_prev in entries:
        if entry_seq != seq + 1:
            return seq, head, problem, False
        if entry_prev != head:
            # signed by the terminal yet not linked: a forked chain; keep it for review
            entry = OfficeEntry.get(OfficeEntry.terminal == terminal, OfficeEntry.seq == entry_seq)
            rejected.append(Rejected(f"(stored entry {terminal}/{entry_seq})",
                                     entry.body.encode(), Refusal(
                                         "chain_break", "prev hash does not match entry "
                                         f"{seq}", terminal, entry_seq)))
            entry.delete_instance()
            receipt_keys.forget(terminal, entry_seq)
            cash_records.forget(terminal, entry_seq)
            return seq, head, f"chain break at seq {entry_seq}", False
        seq, head = entry_seq, entry_hash
    return seq, head, problem, True


def check_gaps(db: peewee.Database) -> dict[str, tuple[str, int]]:
    """Replay requests for gaps that outlived the grace period with no traffic to reveal them."""
    now = time.time()
    replays: dict[str, tuple[str, int]] = {}
    with write_transaction(db):
        query = (TerminalState.select()
                 .where(TerminalState.max_seen_seq > TerminalState.contiguous_seq)
                 .order_by(TerminalState.terminal))  # the lock order of store_batch
        for state in (query.for_update() if is_postgres(db) else query):
            since = state.gap_since or now
            if now - since < GAP_GRACE_SECONDS or (
                    state.replay_requested and now - state.replay_requested < GAP_GRACE_SECONDS):
                if state.gap_since is None:
                    TerminalState.update(gap_since=now).where(
                        TerminalState.terminal == state.terminal).execute()
                continue
            TerminalState.update(replay_requested=now, gap_since=since).where(
                TerminalState.terminal == state.terminal).execute()
            replays[state.terminal] = (state.store, state.contiguous_seq + 1)
    return replays


def _dead_letters(rejected: list[Rejected], now_iso: str, budget: RowBudget | None) -> None:
    deadletter.record([Letter(r.topic, r.payload, r.refusal.reason, r.refusal.detail,
                              r.refusal.terminal, r.refusal.seq) for r in rejected],
                      now_iso, budget)


def _in_range(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SEQ


def _chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]
