"""What the status bar shows, computed without Kivy so it can be tested on its own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from firmware.models import Delivery

LINK_KEY = "link"  # firmware.uplink.outbox.LINK_KEY (the UI does not import the uplink)

ONLINE_WITHIN = dt.timedelta(minutes=2)

# Device states as drivers report them (firmware/ports.py), for the catalog.
STATE_WORDS = ("ready", "printing", "paper_out", "cover_open", "offline", "error", "open",
               "closed", "unknown", "connected", "disconnected", "none", "open_too_long")


@dataclass(frozen=True)
class Status:
    cashier: str
    link: str  # online | offline | local (no uplink configured)
    backlog: int  # journal entries head office has not confirmed
    printer: str
    drawer: str
    scanner: str
    training: bool
    clock: str


def device_state(device: Any) -> str:
    if device is None:
        return "none"
    try:
        return str(device.state)
    except Exception:
        return "error"


def journal_backlog(till: Any) -> int:
    """Journal entries head office has not confirmed yet (last seq - the uplink's ack)."""
    row = till.db.execute_sql("SELECT MAX(seq) FROM journal").fetchone()
    last = row[0] or 0
    ack = Delivery.get_or_none(Delivery.key == "ack")
    return max(0, last - (ack.acked_seq if ack else 0))


def link_fact(till: Any) -> tuple[bool, str]:
    """(connected, when) as the uplink last wrote it to the shared database (Delivery 'link'),
    or (False, '') when no uplink has run on this terminal."""
    row = Delivery.get_or_none(Delivery.key == LINK_KEY)
    return (bool(row.acked_seq), row.updated) if row else (False, "")


def link_state(enabled: bool, connected: bool, updated: str, now: dt.datetime) -> str:
    """Online only when the uplink says it is connected and said so recently (it refreshes
    the fact every 30 s while connected, so a killed uplink turns offline within 2 min)."""
    if not enabled:
        return "local"
    if not connected or not updated:
        return "offline"
    try:
        last = dt.datetime.fromisoformat(updated)
    except ValueError:
        return "offline"
    if last.tzinfo is None:
        last = last.astimezone()
    return "online" if now - last <= ONLINE_WITHIN else "offline"


def snapshot(till: Any, hardware: Any, now: dt.datetime | None = None) -> Status:
    now = now or dt.datetime.now().astimezone()
    connected, updated = link_fact(till)
    return Status(
        cashier=till.cashier.name if till.cashier else "",
        link=link_state(till.config.mqtt.enabled, connected, updated, now),
        backlog=journal_backlog(till),
        printer=device_state(getattr(hardware, "printer", None)),
        drawer=device_state(getattr(hardware, "drawer", None)),
        scanner=device_state(getattr(hardware, "scanner", None)),
        training=till.training,
        clock=now.strftime("%H:%M"),
    )
