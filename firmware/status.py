"""One snapshot of the till's state for the status bar: cashier, head-office link and backlog,
printer, drawer and scanner, training mode.

The UI reads only this (through firmware.runtime.TillRuntime.status); it runs no SQL and
imports no model. The link state is the fact the uplink process writes to the shared
database (firmware.uplink.outbox), the backlog what head office has not confirmed yet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import peewee

from contract.shop_time import shop_now
from firmware.models import Delivery
from firmware.offers import OFFERS_VERSION
from firmware.ports import Peripherals
from firmware.till import TillService
from firmware.uplink.downstream import (
    CATALOGUE_VERSION,
    CONFIG_VERSION,
    applied_version,
    reject_summary,
)
from firmware.uplink.outbox import LINK_KEY, Outbox

ONLINE_WITHIN = dt.timedelta(minutes=2)

LINK_STATES = ("online", "offline", "local")
"""local: no uplink is configured on this terminal."""

NOT_FITTED = "none"
UNREADABLE = "error"


@dataclass(frozen=True)
class DeviceStatus:
    """A device's state word (firmware.ports *_STATES, or 'none' when not fitted, 'error' when
    it cannot be read) and the data that goes with it: the drawer's `open_too_long` carries
    {"seconds": the alert time}."""

    state: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TillStatus:
    cashier: str  # the logged-in cashier's name, "" when nobody is
    link: str  # one of LINK_STATES
    backlog: int  # journal entries head office has not confirmed
    printer: DeviceStatus
    drawer: DeviceStatus
    scanner: DeviceStatus
    training: bool
    journal_alarm: bool  # selling is blocked until a manager acknowledges it
    at: dt.datetime  # when the snapshot was taken (the status bar's clock)
    downstream: DownstreamStatus = field(default_factory=lambda: DownstreamStatus(0, 0, ""))
    # head office's versions this till holds: catalogue (prices share its sequence), offers,
    # config as the uplink received it, and config_running as the till runs it
    versions: Mapping[str, int] = field(default_factory=dict)
    restart: tuple[str, ...] = ()  # config keys from head office that wait for a restart


@dataclass(frozen=True)
class DownstreamStatus:
    """Head office's catalogue, price, offers and config messages this till did not apply:
    refused (out of bounds, malformed) and ignored (older than the applied version), since
    the database was made, and the newest of them as `kind: reason` ('' when none)."""

    refused: int
    ignored: int
    last: str


def downstream_status() -> DownstreamStatus:
    summary = reject_summary()
    last = summary["last"]
    return DownstreamStatus(summary["refused"], summary["ignored"],
                            f"{last['kind']}: {last['reason']}" if last else "")


def device_status(device: Any, params: Mapping[str, Mapping[str, Any]] | None = None) -> DeviceStatus:
    """The state a device reports; `params` gives the data for some states."""
    if device is None:
        return DeviceStatus(NOT_FITTED)
    try:
        state = str(device.state)
    except Exception:  # a driver's bug must not take the status bar down
        return DeviceStatus(UNREADABLE)
    return DeviceStatus(state, dict((params or {}).get(state, {})))


def journal_backlog(db: peewee.SqliteDatabase) -> int:
    """Journal entries head office has not confirmed yet (last seq - the uplink's ack)."""
    outbox = Outbox(db)
    return max(0, outbox.head() - outbox.acked())


def link_fact() -> tuple[bool, str]:
    """(connected, when) as the uplink last wrote it to the shared database, or (False, '')
    when no uplink has run on this terminal."""
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


def snapshot(till: TillService, peripherals: Peripherals, now: dt.datetime | None = None
             ) -> TillStatus:
    """The status of the till and its peripherals, now."""
    now = now or shop_now()
    connected, updated = link_fact()
    drawer_params = {"open_too_long": {"seconds": till.config.drawer.open_alert_seconds}}
    return TillStatus(
        cashier=till.cashier.name if till.cashier else "",
        link=link_state(till.config.mqtt.enabled, connected, updated, now),
        backlog=journal_backlog(till.db),
        printer=device_status(peripherals.printer),
        drawer=device_status(peripherals.drawer, drawer_params),
        scanner=device_status(peripherals.scanner),
        training=bool(till.training),
        journal_alarm=bool(till.journal_alarm),
        at=now,
        downstream=downstream_status(),
        versions={"catalogue": applied_version(CATALOGUE_VERSION),
                  "offers": applied_version(OFFERS_VERSION),
                  "config": applied_version(CONFIG_VERSION),
                  "config_running": till.remote_config.version},
        restart=till.remote_config.restart,
    )
