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

from firmware.money import format_money
from headoffice.aggregates import z_variance
from headoffice.alerts import settings as settings_mod
from headoffice.alerts.models import Alert, CashierCounter
from headoffice.db import write_transaction

TAMPER_REASONS = frozenset({"bad_signature", "bad_hash", "chain_break", "topic_mismatch"})


def now_iso() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="milliseconds")


def raise_alert(key: str, kind: str, message: str, store: str = "", terminal: str = "",
                seq: int | None = None) -> bool:
    """Records an alert unless its cause already has one; True when it is new."""
    cursor = (Alert.insert(key=key[:200], kind=kind, store=store, terminal=terminal, seq=seq,
                           message=message, created=now_iso())
              .on_conflict_ignore().execute())
    return bool(cursor)


def _where(body: dict[str, Any]) -> str:
    return f"{body['store']}/{body['terminal']} #{body['seq']}"


def _outside_hours(ts: str, opening: tuple[dt.time, dt.time]) -> bool:
    when = dt.time.fromisoformat(ts[11:23] if len(ts) >= 23 else ts[11:19])
    start, end = opening
    return not start <= when < end


def _count_cashier(body: dict[str, Any], reversal: bool, rules: settings_mod.AlertSettings) -> None:
    cashier = body.get("cashier") or "?"
    day = body["ts"][:10]
    target = [CashierCounter.terminal, CashierCounter.cashier, CashierCounter.day]
    field = "reversals" if reversal else "tickets"
    column = getattr(CashierCounter, field)
    (CashierCounter.insert(terminal=body["terminal"], cashier=cashier, day=day, **{field: 1})
     .on_conflict(conflict_target=target, update={column: column + 1}).execute())
    if not reversal:
        return
    row = CashierCounter.get((CashierCounter.terminal == body["terminal"])
                             & (CashierCounter.cashier == cashier) & (CashierCounter.day == day))
    if (row.reversals >= rules.reversal_min_count
            and row.reversals * 100 > rules.reversal_rate_percent * max(row.tickets, 1)):
        raise_alert(f"reversal_rate:{body['terminal']}:{cashier}:{day}", "reversal_rate",
                    f"{cashier} on {body['store']}/{body['terminal']} has {row.reversals} voids/"
                    f"refunds against {row.tickets} tickets on {day} (limit "
                    f"{rules.reversal_rate_percent}%)", body["store"], body["terminal"], body["seq"])


def evaluate_entry(body: dict[str, Any], rules: settings_mod.AlertSettings) -> None:
    kind, data = body.get("type"), body.get("data") or {}
    store, terminal, seq = body["store"], body["terminal"], body["seq"]
    key = f"{terminal}:{seq}"
    if body.get("training"):
        return
    if kind == "sale":
        _count_cashier(body, False, rules)
        if _outside_hours(body["ts"], rules.opening()):
            raise_alert(f"after_hours:{key}", "after_hours",
                        f"sale {_where(body)} at {body['ts'][11:16]}, outside opening hours "
                        f"{rules.opening_hours}", store, terminal, seq)
    elif kind in ("refund", "void") and (kind == "refund" or data.get("scope") == "paid"):
        _count_cashier(body, True, rules)
    elif kind == "no_sale" and rules.alert_no_sale:
        raise_alert(f"no_sale:{key}", "no_sale",
                    f"drawer opened without a sale {_where(body)} by {body.get('cashier')}"
                    f" (approved by {data.get('approved_by')}): {data.get('reason', '')}",
                    store, terminal, seq)
    elif kind == "price_override" and rules.alert_price_override:
        raise_alert(f"price_override:{key}", "price_override",
                    f"manual price {_where(body)}: {data.get('name')} "
                    f"{format_money(int(data.get('old_unit_price', 0)))} -> "
                    f"{format_money(int(data.get('new_unit_price', 0)))} approved by "
                    f"{data.get('approved_by')}", store, terminal, seq)
    elif kind == "z_close":
        variance = z_variance(data)
        if variance is not None and abs(variance) > rules.cash_variance_tolerance:
            raise_alert(f"cash_variance:{key}", "cash_variance",
                        f"cash variance {format_money(variance)} at Z {_where(body)} exceeds "
                        f"{format_money(rules.cash_variance_tolerance)}", store, terminal, seq)


def evaluate_entries(bodies: Iterable[dict[str, Any]]) -> None:
    rules = settings_mod.current().alerts
    for body in bodies:
        evaluate_entry(body, rules)


def check_dead_letters(db: peewee.Database) -> int:
    """Chain or signature failures the ingest refused since the last look: possible tampering."""
    from headoffice.alerts.models import MonitorCursor
    from headoffice.models import DeadLetter

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
    from headoffice.models import TerminalState

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
