"""Alert rows (the unique `key` is the dedup table: one cause, one alert) and rule counters."""

from __future__ import annotations

import peewee

from headoffice.orm import OfficeModel


class Alert(OfficeModel):
    key = peewee.CharField(max_length=200, unique=True)  # the cause; a second insert is ignored
    kind = peewee.CharField(max_length=32, index=True)
    store = peewee.CharField(max_length=64, default="")
    terminal = peewee.CharField(max_length=64, default="")
    seq = peewee.BigIntegerField(null=True)
    message = peewee.TextField()
    created = peewee.CharField(max_length=40)
    state = peewee.CharField(max_length=12, default="new", index=True)  # new|sending|sent|failed
    delivered = peewee.CharField(max_length=40, default="")
    error = peewee.TextField(default="")


class AlertEvent(OfficeModel):
    """One cause (an entry, a refused message, an outage) counted in an alert: the alert of its
    kind, terminal and window. `event` is unique, so an entry delivered twice counts once;
    `ts` is the entry's own time (the sale's clock), not when head office received it."""

    event = peewee.CharField(max_length=200, unique=True)
    alert = peewee.CharField(max_length=200, index=True)  # Alert.key of its group
    kind = peewee.CharField(max_length=32)
    store = peewee.CharField(max_length=64, default="")
    terminal = peewee.CharField(max_length=64, default="")
    seq = peewee.BigIntegerField(null=True)
    ts = peewee.CharField(max_length=40)
    params = peewee.TextField(default="{}")  # JSON: what the alert text is made of
    recorded = peewee.CharField(max_length=40)

    class Meta:
        table_name = "alert_event"


class AlertAck(OfficeModel):
    """An owner's acknowledgement of an alert: append-only (never updated or deleted), so
    who saw what and when stays on record."""

    alert = peewee.CharField(max_length=200, index=True)  # Alert.key
    user = peewee.CharField(max_length=64)
    at = peewee.CharField(max_length=40)

    class Meta:
        table_name = "alert_ack"


class CashierCounter(OfficeModel):
    """Tickets and voids/refunds per cashier and shift (a terminal's day), for the rate rule."""

    terminal = peewee.CharField(max_length=64)
    cashier = peewee.CharField(max_length=100)
    day = peewee.CharField(max_length=10)
    tickets = peewee.BigIntegerField(default=0)
    reversals = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "alert_cashier_counter"
        indexes = ((("terminal", "cashier", "day"), True),)


class MonitorCursor(OfficeModel):
    """How far the monitor has read the dead-letter table."""

    name = peewee.CharField(primary_key=True, max_length=32)
    position = peewee.BigIntegerField(default=0)


ALERT_MODELS: list[type[OfficeModel]] = [Alert, AlertEvent, AlertAck, CashierCounter,
                                          MonitorCursor]
