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


ALERT_MODELS: list[type[OfficeModel]] = [Alert, CashierCounter, MonitorCursor]
