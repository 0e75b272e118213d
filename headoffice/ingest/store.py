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
from headoffice import aggregates
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
    """Updates the dashboard aggregates and records the anomaly alerts of the entries just
    stored, inside the batch's transaction: both commit (or roll back) with the batch and
    nothing is counted twice."""
    aggregates.apply(aggregates.collect(received))
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
    rows = []
    for terminal, entries in sorted(by_terminal.items()):
        wanted = set(entries) | {s - 1 for s in entries if s > 1}
        stored: dict[int, str] = {}
        for chunk in _chunks(sorted(wanted), 900):
            query = (OfficeEntry.select(OfficeEntry.seq, OfficeEntry.hash)
                     .where(OfficeEntry.terminal == terminal, OfficeEntry.seq.in_(chunk)))
            stored.update(dict(query.tuples()))
        for seq, (topic, payload, cand) in sorted(entries.items()):
            if seq in stored:
                same = stored[seq] == cand.hash
                rejected.append(Rejected(topic, payload, Refusal(
                    "duplicate" if same else "conflict",
                    "already stored" if same else "another entry with this seq is stored",
                    terminal, seq)))
                continue
            before = stored.get(seq - 1) or (entries[seq - 1][2].hash if seq - 1 in entries
                                             else None)
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
    for row in rows:
        touched[row["terminal"]] = row["store"]
    for status in statuses:
        touched.setdefault(status.terminal, status.store)
    for rej in rejected:  # a duplicate may mean the till missed our ack: send it again
        if rej.refusal.reason == "duplicate" and rej.refusal.terminal:
            touched.setdefault(rej.refusal.terminal, "")
    known = {t.terminal_id: t.store for t in
             RegisteredTerminal.select(RegisteredTerminal.terminal_id, RegisteredTerminal.store)
             .where(RegisteredTerminal.terminal_id.in_(list(touched)))} if touched else {}
    status_of = {s.terminal: s for s in statuses}
    max_new = defaultdict(int)
    for row in rows:
        max_new[row["terminal"]] = max(max_new[row["terminal"]], row["seq"])
    for terminal in sorted(touched):
        if terminal not in known:
            continue
        _advance(terminal, known[terminal], max_new.get(terminal, 0), status_of.get(terminal),
                 now, now_iso, result, rejected, saw_entries=terminal in max_new)
    _dead_letters(rejected, now_iso, budget)
    result.rejected = len(rejected)
    return result


_COLUMNS = ("terminal", "seq", "store", "type", "ts", "body", "hash", "prev", "sig", "received")
_INSERT = (f"INSERT INTO journal_entry ({', '.join(_COLUMNS)}) VALUES {{values}}"
           " ON CONFLICT (terminal, seq) DO NOTHING RETURNING terminal, seq")
_SQLITE_ROWS = 500  # rows per statement: 5,000 parameters, far below SQLite's limit


def _insert(rows: list[dict], by_terminal: dict[str, dict[int, tuple[str, bytes, Candidate]]],
            rejected: list[Rejected]) -> list[dict]:
    """Inserts; returns only the rows really inserted (RETURNING, on both engines), so the
    aggregates never count an entry twice. On PostgreSQL another worker may have stored the
    same entry since the duplicate check; those rows are dead-lettered here.
    Plain driver calls, not the query builder: this is the hot path of the ingest."""
    values = [tuple(row[c] for c in _COLUMNS) for row in rows]
    if not values:
        return []
    db = database_proxy.obj
    if is_postgres():
        from psycopg2.extras import execute_values

        inserted = {(t, s) for t, s in execute_values(
            db.cursor(), _INSERT.format(values="%s"), values, page_size=500, fetch=True)}
    else:
        inserted = set()
        cursor = db.cursor()
        one = f"({', '.join('?' for _ in _COLUMNS)})"
        for chunk in _chunks(values, _SQLITE_ROWS):
            sql = _INSERT.format(values=", ".join(one for _ in chunk))
            inserted.update(cursor.execute(sql, [v for row in chunk for v in row]).fetchall())
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


def _advance(terminal: str, store: str, max_new: int, status: StatusUpdate | None,
             now: float, now_iso: str, result: BatchResult, rejected: list[Rejected],
             saw_entries: bool) -> None:
    def locked() -> TerminalState | None:
        query = TerminalState.select().where(TerminalState.terminal == terminal)
        return (query.for_update() if is_postgres() else query).first()

    state = locked()
    if state is None:
        TerminalState.insert(terminal=terminal, store=store).on_conflict_ignore().execute()
        state = locked()
    before = state.contiguous_seq
    seq, head = state.contiguous_seq, state.head_hash
    problem = state.problem
    while True:
        chunk = list(OfficeEntry.select(OfficeEntry.seq, OfficeEntry.hash, OfficeEntry.prev)
                     .where(OfficeEntry.terminal == terminal, OfficeEntry.seq > seq)
                     .order_by(OfficeEntry.seq).limit(WALK_CHUNK).tuples())
        advanced = False
        for entry_seq, entry_hash, entry_prev in chunk:
            if entry_seq != seq + 1:
                break
            if entry_prev != head:
                # signed by the terminal yet not linked: a forked chain; keep it for review
                entry = OfficeEntry.get(OfficeEntry.terminal == terminal,
                                        OfficeEntry.seq == entry_seq)
                rejected.append(Rejected(f"(stored entry {terminal}/{entry_seq})",
                                         entry.body.encode(), Refusal(
                                             "chain_break", "prev hash does not match entry "
                                             f"{seq}", terminal, entry_seq)))
                entry.delete_instance()
                problem = f"chain break at seq {entry_seq}"
                break
            seq, head, advanced = entry_seq, entry_hash, True
        else:
            if advanced and len(chunk) == WALK_CHUNK:
                continue
        break
    max_seen = max(state.max_seen_seq, max_new, seq)
    updates = {"contiguous_seq": seq, "head_hash": head, "max_seen_seq": max_seen,
               "problem": problem}
    if saw_entries:
        updates["last_seen"] = now_iso
    if max_seen > seq:
        gap_since = state.gap_since or now
        updates["gap_since"] = gap_since
        due = now - gap_since >= GAP_GRACE_SECONDS and (
            state.replay_requested is None or now - state.replay_requested >= GAP_GRACE_SECONDS)
        if due:
            updates["replay_requested"] = now
            result.replays[terminal] = (store, seq + 1)
    else:
        updates["gap_since"] = None
    if status is not None:
        st = status.status
        updates.update(online=st.get("state") == "online", status=json.dumps(st)[:4000],
                       last_seen=now_iso)
        for key, column in (("backlog", "backlog"), ("acked", "till_acked")):
            if _in_range(st.get(key)):  # a number beyond the column is ignored, not fatal
                updates[column] = st[key]
    TerminalState.update(**updates).where(TerminalState.terminal == terminal).execute()
    if seq != before or saw_entries or status is None:
        result.acks[terminal] = (store, seq, head)


def check_gaps(db: peewee.Database) -> dict[str, tuple[str, int]]:
    """Replay requests for gaps that outlived the grace period with no traffic to reveal them."""
    now = time.time()
    replays: dict[str, tuple[str, int]] = {}
    with write_transaction(db):
        for state in TerminalState.select().where(
                TerminalState.max_seen_seq > TerminalState.contiguous_seq):
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
