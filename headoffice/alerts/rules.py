"""The anomaly rules. Each raises an alert row keyed by its cause; a repeat is ignored.

Entry rules run inside the ingest batch transaction (so an alert exists exactly when its
entry does); the terminal and dead-letter rules run in the monitor, which reads what the
ingest records about links and refused messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import peewee

from contract.entries import Entry
from contract.money import format_money
from headoffice.alerts import settings as settings_mod
from headoffice.alerts.models import Alert, CashierCounter, MonitorCursor
from headoffice.models import DeadLetter, TerminalState
from headoffice.orm import write_transaction

TAMPER_REASONS = frozenset({"bad_signature", "bad_hash", "chain_break", "topic_mismatch"})


def now_iso() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="milliseconds")


def _alert_row(key: str, kind: str, message: str, store: str = "", terminal: str = "",
               seq: int | None = None) -> dict[str, Any]:
    return {"key": key[:200], "kind": kind, "store": store, "terminal": terminal, "seq": seq,
            "message": message, "created": now_iso()}


def raise_alert(key: str, kind: str, message: str, store: str = "", terminal: str = "",
                seq: int | None = None) -> bool:
    """Records an alert unless its cause already has one; True when it is new."""
    cursor = (Alert.insert(**_alert_row(key, kind, message, store, terminal, seq))
              .on_conflict_ignore().execute())
    return bool(cursor)


def _where(entry: Entry) -> str:
    return f"{entry.store}/{entry.terminal} #{entry.seq}"


def _outside_hours(ts: str, opening: tuple[dt.time, dt.time]) -> bool:
    when = dt.time.fromisoformat(ts[11:23] if len(ts) >= 23 else ts[11:19])
    start, end = opening
    return not start <= when < end


class _Batch:
    """What one ingest batch's entries raise, written once per batch: one upsert per cashier
    counter (not one per ticket) and one insert for all new alerts."""

    def __init__(self) -> None:
        self.alerts: list[dict[str, Any]] = []
        # (terminal, cashier, day) -> the entries counted, in order: (is_reversal, entry)
        self.counted: dict[tuple[str, str, str], list[tuple[bool, Entry]]] = {}

    def alert(self, key: str, kind: str, message: str, entry: Entry) -> None:
        self.alerts.append(_alert_row(key, kind, message, entry.store, entry.terminal,
                                      entry.seq))

    def count(self, entry: Entry, reversal: bool) -> None:
        key = (entry.terminal, entry.cashier or "?", entry.ts[:10])
        self.counted.setdefault(key, []).append((reversal, entry))

    def write(self, rules: settings_mod.AlertSettings) -> None:
        for key in sorted(self.counted):  # one lock order for all workers: no deadlock cycle
            self._count_cashier(key, self.counted[key], rules)
        for start in range(0, len(self.alerts), 200):
            Alert.insert_many(self.alerts[start:start + 200]).on_conflict_ignore().execute()

    def _count_cashier(self, key: tuple[str, str, str], entries: list[tuple[bool, Entry]],
                       rules: settings_mod.AlertSettings) -> None:
        terminal, cashier, day = key
        reversals = sum(1 for reversal, _entry in entries if reversal)
        tickets = len(entries) - reversals
        target = [CashierCounter.terminal, CashierCounter.cashier, CashierCounter.day]
        (CashierCounter.insert(terminal=terminal, cashier=cashier, day=day, tickets=tickets,
                               reversals=reversals)
         .on_conflict(conflict_target=target,
                      update={CashierCounter.tickets: CashierCounter.tickets + tickets,
                              CashierCounter.reversals: CashierCounter.reversals + reversals})
         .execute())
        if not reversals:
            return
        row = CashierCounter.get((CashierCounter.terminal == terminal)
                                 & (CashierCounter.cashier == cashier) & (CashierCounter.day == day))
        # the row is ours (locked) until commit: replay this batch's entries from the counts
        # before it, so the alert names the entry that crossed the limit, as one by one would
        ticket_count, reversal_count = row.tickets - tickets, row.reversals - reversals
        for reversal, entry in entries:
            if not reversal:
                ticket_count += 1
                continue
            reversal_count += 1
            if (reversal_count >= rules.reversal_min_count
                    and reversal_count * 100 > rules.reversal_rate_percent * max(ticket_count, 1)):
                self.alert(f"reversal_rate:{terminal}:{cashier}:{day}", "reversal_rate",
                           f"{cashier} on {entry.store}/{terminal} has {reversal_count} voids/"
                           f"refunds against {ticket_count} tickets on {day} (limit "
                           f"{rules.reversal_rate_percent}%)", entry)
                return  # one alert per cashier and day: later ones would be ignored anyway


def evaluate_entry(entry: Entry, rules: settings_mod.AlertSettings, batch: _Batch) -> None:
    """The alerts one entry (typed by the contract) raises; training entries raise none."""
    kind, data = entry.type, entry.data
    key = f"{entry.terminal}:{entry.seq}"
    if entry.training:
        return
    if kind == "sale":
        batch.count(entry, False)
        if _outside_hours(entry.ts, rules.opening()):
            batch.alert(f"after_hours:{key}", "after_hours",
                        f"sale {_where(entry)} at {entry.ts[11:16]}, outside opening hours "
                        f"{rules.opening_hours}", entry)
    elif kind == "refund" or (kind == "void" and data.scope == "paid"):
        batch.count(entry, True)
    elif kind == "no_sale" and rules.alert_no_sale:
        batch.alert(f"no_sale:{key}", "no_sale",
                    f"drawer opened without a sale {_where(entry)} by {entry.cashier}"
                    f" (approved by {data.approved_by}): {data.reason}", entry)
    elif kind == "price_override" and rules.alert_price_override:
        batch.alert(f"price_override:{key}", "price_override",
                    f"manual price {_where(entry)}: {data.name} "
                    f"{format_money(data.old_unit_price)} -> "
                    f"{format_money(data.new_unit_price)} approved by "
                    f"{data.approved_by}", entry)
    elif kind == "z_close" and abs(data.variance) > rules.cash_variance_tolerance:
        batch.alert(f"cash_variance:{key}", "cash_variance",
                    f"cash variance {format_money(data.variance)} at Z {_where(entry)} "
                    f"exceeds {format_money(rules.cash_variance_tolerance)}", entry)


def evaluate_entries(entries: Iterable[Entry]) -> None:
    """The alerts a batch of stored entries raises; inside the batch's transaction."""
    rules = settings_mod.current().alerts
    batch = _Batch()
    for entry in entries:
        evaluate_entry(entry, rules, batch)
    batch.write(rules)


def check_dead_letters(db: peewee.Database) -> int:
    """Chain or signature failures the ingest refused since the last look: possible tampering."""
    raised = 0
    with write_transaction(db):
        cursor, _ = MonitorCursor.get_or_create(name="dead_letter")
        rows = list(DeadLetter.select(DeadLetter.id, DeadLetter.terminal, DeadLetter.seq,
                                      DeadLetter.reason, DeadLetter.detail)
                    .where(DeadLetter.id > cursor.position).order_by(DeadLetter.id).limit(1000))
        for row in rows:
            if row.reason in TAMPER_REASONS:
                raised += raise_alert(
                    f"tamper:{row.terminal}:{row.seq}:{row.reason}", "tamper",
                    f"possible tampering: entry {row.seq} of terminal {row.terminal} refused "
                    f"({row.reason}): {row.detail}", terminal=row.terminal or "", seq=row.seq)
        if rows:
            MonitorCursor.update(position=rows[-1].id).where(
                MonitorCursor.name == "dead_letter").execute()
    return raised


def check_terminals(db: peewee.Database) -> int:
    """A terminal that went offline with sales still unsent (one alert per outage)."""
    raised = 0
    with write_transaction(db):
        for row in TerminalState.select().where(~TerminalState.online):
            backlog = row.backlog or 0
            if backlog > 0:
                raised += raise_alert(
                    f"offline:{row.terminal}:{row.last_seen}", "offline_backlog",
                    f"terminal {row.store}/{row.terminal} is offline with {backlog} unsent "
                    f"entries (last seen {row.last_seen})", row.store, row.terminal)
    return raised
