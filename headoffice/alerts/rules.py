"""The anomaly rules. Each cause (an entry, a refused message, an outage) is counted once, in
the one alert of its kind, terminal and window (`[alerts] alert_window_minutes`, clock-aligned
windows in shop time): five sales after hours in a quarter of an hour are one alert with a
count of five, sent once. A repeat of a cause is ignored.

Entry rules run inside the ingest batch transaction (so an alert exists exactly when its
entry does); the terminal and dead-letter rules run in the monitor, which reads what the
ingest records about links and refused messages.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

import peewee

from contract import figures
from contract.entries import Entry
from contract.money import format_money
from headoffice import bulk
from headoffice.alerts import settings as settings_mod
from headoffice.alerts import texts
from headoffice.alerts.models import Alert, AlertEvent, CashierCounter, MonitorCursor
from headoffice.models import DeadLetter, DeadLetterTerminal, TerminalState
from headoffice.orm import write_transaction

CASHIER_CHARS = 100  # alert_cashier_counter.cashier
TAMPER_REASONS = frozenset({"bad_signature", "bad_hash", "chain_break", "topic_mismatch"})


def now_iso() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="milliseconds")


def window_start(ts: str, minutes: int) -> str:
    """The start of the clock-aligned window `ts` falls in (22:00, 22:15, ... for 15 minutes),
    in Europe/Amsterdam time; the group key of every alert in that window."""
    when = dt.datetime.fromisoformat(ts)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    width = minutes * 60
    start = int(when.timestamp()) // width * width
    return dt.datetime.fromtimestamp(start, texts.LOCAL).strftime("%Y-%m-%dT%H:%M")


def group_key(event: str, kind: str, terminal: str, ts: str, minutes: int) -> str:
    """One alert per kind per terminal per window; a window of 0 gives one alert per cause."""
    if minutes <= 0:
        return event
    return f"{kind}:{terminal}:{window_start(ts, minutes)}"


def _rows(event: str, kind: str, params: dict[str, Any], ts: str, minutes: int, store: str = "",
          terminal: str = "", seq: int | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The event row and the row of the alert it belongs to (inserted only if it is new)."""
    key = group_key(event, kind, terminal, ts, minutes)[:200]
    stamp = now_iso()
    event_row = {"event": event[:200], "alert": key, "kind": kind, "store": store,
                 "terminal": terminal, "seq": seq, "ts": ts, "recorded": stamp,
                 "params": json.dumps(params, sort_keys=True, default=str)}
    alert_row = {"key": key, "kind": kind, "store": store, "terminal": terminal, "seq": seq,
                 "message": texts.alert_text(kind, params), "created": stamp}
    return event_row, alert_row


def _insert(events: list[dict[str, Any]], alerts: list[dict[str, Any]]) -> int:
    """Inserts in key order (one lock order for every worker); returns the new alerts."""
    new = 0
    for start in range(0, len(events), 200):
        AlertEvent.insert_many(events[start:start + 200]).on_conflict_ignore().execute()
    unique = list({row["key"]: row for row in reversed(alerts)}.values())  # the first per key
    for row in sorted(unique, key=lambda r: r["key"]):
        new += bool(Alert.insert(**row).on_conflict_ignore().execute())
    return new


def raise_alert(event: str, kind: str, params: dict[str, Any], store: str = "",
                terminal: str = "", seq: int | None = None, ts: str = "") -> bool:
    """Counts one cause in the alert of its kind, terminal and window; True when that alert is
    new (a cause seen before counts once)."""
    minutes = settings_mod.current().alerts.alert_window_minutes
    event_row, alert_row = _rows(event, kind, params, ts or now_iso(), minutes, store, terminal,
                                 seq)
    return bool(_insert([event_row], [alert_row]))


def _where(entry: Entry) -> str:
    return f"{entry.store}/{entry.terminal} #{entry.seq}"


def _outside_hours(ts: str, opening: tuple[dt.time, dt.time]) -> bool:
    when = dt.time.fromisoformat(ts[11:23] if len(ts) >= 23 else ts[11:19])
    start, end = opening
    return not start <= when < end


class _Batch:
    """What one ingest batch's entries raise, written once per batch: one upsert per cashier
    counter (not one per ticket) and one insert for all new alerts."""

    def __init__(self, window_minutes: int = 0) -> None:
        self.window = window_minutes
        self.events: list[dict[str, Any]] = []
        self.alerts: list[dict[str, Any]] = []
        # (terminal, cashier, day) -> the entries counted, in order: (is_reversal, entry)
        self.counted: dict[tuple[str, str, str], list[tuple[bool, Entry]]] = {}

    def alert(self, event: str, kind: str, params: dict[str, Any], entry: Entry,
              window: int | None = None) -> None:
        event_row, alert_row = _rows(event, kind, {**params, "where": _where(entry),
                                                   "ts": entry.ts},
                                     entry.ts, self.window if window is None else window,
                                     entry.store, entry.terminal, entry.seq)
        self.events.append(event_row)
        self.alerts.append(alert_row)

    def count(self, entry: Entry, reversal: bool) -> None:
        # cut to the counter's column: the contract allows longer names than it holds
        key = (entry.terminal, (entry.cashier or "?")[:CASHIER_CHARS], entry.ts[:10])
        self.counted.setdefault(key, []).append((reversal, entry))

    def write(self, rules: settings_mod.AlertSettings) -> None:
        keys = sorted(self.counted)  # one lock order for all workers: no deadlock cycle
        rows = []
        for key in keys:
            reversals = sum(1 for reversal, _entry in self.counted[key] if reversal)
            rows.append((*key, len(self.counted[key]) - reversals, reversals))
        # every counter in one statement; only a key with reversals is looked at again
        fields = CashierCounter._meta.fields
        bulk.upsert(CashierCounter._meta.table_name,
                    [fields[n].column_name for n in ("terminal", "cashier", "day", "tickets",
                                                     "reversals")],
                    [fields[n].column_name for n in ("terminal", "cashier", "day")], rows,
                    add=[fields["tickets"].column_name, fields["reversals"].column_name])
        for key, row in zip(keys, rows, strict=True):
            if row[4]:
                self._count_cashier(key, self.counted[key], rules)
        _insert(self.events, self.alerts)

    def _count_cashier(self, key: tuple[str, str, str], entries: list[tuple[bool, Entry]],
                       rules: settings_mod.AlertSettings) -> None:
        """The counter (already added to, in write) against the rate rule."""
        terminal, cashier, day = key
        reversals = sum(1 for reversal, _entry in entries if reversal)
        tickets = len(entries) - reversals
        row = CashierCounter.get((CashierCounter.terminal == terminal)
                                 & (CashierCounter.cashier == cashier) & (CashierCounter.day == day))
        # the row is ours (locked) until commit: replay this batch's entries (in seq order) from
        # the counts before it, so the alert names the entry that crossed the limit, as one by
        # one would
        ticket_count, reversal_count = row.tickets - tickets, row.reversals - reversals
        for reversal, entry in entries:
            if not reversal:
                ticket_count += 1
                continue
            reversal_count += 1
            if (reversal_count >= rules.reversal_min_count
                    and reversal_count * 100 > rules.reversal_rate_percent * max(ticket_count, 1)):
                event = f"reversal_rate:{terminal}:{cashier}:{day}"
                # one alert per cashier and day (its own window): later ones are ignored
                self.alert(event, "reversal_rate",
                           {"cashier": cashier, "store": entry.store, "terminal": terminal,
                            "reversals": reversal_count, "tickets": ticket_count,
                            "day": f"{day[8:10]}-{day[5:7]}-{day[:4]}",
                            "limit": rules.reversal_rate_percent, "seq": entry.seq}, entry,
                           window=0)
                return


def evaluate_entry(entry: Entry, rules: settings_mod.AlertSettings, batch: _Batch) -> None:
    """The alerts one entry (typed by the contract) raises; training entries raise none."""
    kind, data = entry.type, entry.data
    key = f"{entry.terminal}:{entry.seq}"
    if entry.training:
        return
    if kind == "sale":
        batch.count(entry, False)
        if _outside_hours(entry.ts, rules.opening()):
            batch.alert(f"after_hours:{key}", "after_hours", {"hours": rules.opening_hours},
                        entry)
    elif kind == "refund" or (kind == "void" and data.scope == "paid"):
        batch.count(entry, True)
    elif kind == "no_sale" and rules.alert_no_sale:
        batch.alert(f"no_sale:{key}", "no_sale",
                    {"cashier": entry.cashier, "approved_by": data.approved_by,
                     "reason": data.reason}, entry)
    elif kind == "price_override" and rules.alert_price_override:
        batch.alert(f"price_override:{key}", "price_override",
                    {"name": data.name, "old": format_money(data.old_unit_price),
                     "new": format_money(data.new_unit_price),
                     "approved_by": data.approved_by}, entry)
    elif kind == "z_close":
        if abs(data.variance) > rules.cash_variance_tolerance:
            batch.alert(f"cash_variance:{key}", "cash_variance",
                        {"variance": format_money(data.variance),
                         "tolerance": format_money(rules.cash_variance_tolerance)}, entry)
        _card_totals(entry, key, batch)


def _card_totals(entry: Entry, key: str, batch: _Batch) -> None:
    """A Z whose card totals per brand differ from the PIN terminal's own (the till put both
    in the z_close entry: firmware/card_close.py): one alert naming each brand's difference."""
    data = entry.data
    if data.terminal_totals is None:
        return
    journal = [{"brand": b.brand, "amount": b.amount} for b in data.card_brands]
    terminal = [{"brand": b.brand, "amount": b.amount} for b in data.terminal_totals]
    differences = figures.card_differences(journal, terminal)
    if differences:
        batch.alert(f"card_difference:{key}", "card_difference",
                    {"difference": format_money(sum(differences.values())),
                     "brands": ", ".join(f"{brand or '?'} {format_money(cents)}"
                                         for brand, cents in differences.items())}, entry)


def journal_order(entries: Iterable[Entry]) -> list[Entry]:
    """Workers take messages as the broker hands them out, not in journal order: the rules
    count in (terminal, seq) order, so a limit is crossed at the entry the journal says."""
    return sorted(entries, key=lambda e: (e.terminal, e.seq))


def evaluate_entries(entries: Iterable[Entry]) -> None:
    """The alerts a batch of stored entries raises; inside the batch's transaction."""
    rules = settings_mod.current().alerts
    batch = _Batch(rules.alert_window_minutes)
    for entry in journal_order(entries):
        evaluate_entry(entry, rules, batch)
    batch.write(rules)


def check_dead_letters(db: peewee.Database) -> int:
    """Chain or signature failures the ingest refused since the last look: possible tampering."""
    raised = 0
    with write_transaction(db):
        cursor, _ = MonitorCursor.get_or_create(name="dead_letter")
        rows = list(DeadLetter.select(DeadLetter.id, DeadLetter.terminal, DeadLetter.seq,
                                      DeadLetter.reason, DeadLetter.detail, DeadLetter.received)
                    .where(DeadLetter.id > cursor.position).order_by(DeadLetter.id).limit(1000))
        for row in rows:
            if row.reason in TAMPER_REASONS:
                raised += raise_alert(
                    f"tamper:{row.terminal}:{row.seq}:{row.reason}", "tamper",
                    {"seq": row.seq, "terminal": row.terminal, "reason": row.reason,
                     "detail": row.detail}, terminal=row.terminal or "", seq=row.seq,
                    ts=row.received or "")
        if rows:
            MonitorCursor.update(position=rows[-1].id).where(
                MonitorCursor.name == "dead_letter").execute()
    return raised


def check_dead_letter_floods(db: peewee.Database) -> int:
    """A terminal whose refused messages grew by `dead_letter_alert_count` since its last
    such alert: a refusal loop, garbage or a flood. Read from the exact per-terminal counts,
    so it fires even when the rows themselves were only counted (capped)."""
    step = settings_mod.current().alerts.dead_letter_alert_count
    raised = 0
    with write_transaction(db):
        due = (DeadLetterTerminal.select()
               .where(DeadLetterTerminal.count - DeadLetterTerminal.alerted >= step)
               .order_by(DeadLetterTerminal.terminal))
        for row in due:
            raised += raise_alert(
                f"dead_letters:{row.terminal}:{row.count}", "dead_letters",
                {"terminal": row.terminal or "?", "count": row.count,
                 "new": row.count - row.alerted, "unkept": row.unkept,
                 "reason": row.last_reason}, terminal=row.terminal, ts=row.last_received)
            DeadLetterTerminal.update(alerted=row.count).where(
                DeadLetterTerminal.terminal == row.terminal).execute()
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
                    {"store": row.store, "terminal": row.terminal, "backlog": backlog,
                     "last_seen": texts.local_time(row.last_seen)}, row.store, row.terminal,
                    ts=row.last_seen or "")
    return raised
