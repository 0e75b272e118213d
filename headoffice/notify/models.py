"""The dedup table of sent notifications: one row per (customer, restock), never two."""

from __future__ import annotations

import peewee

from headoffice.orm import OfficeModel


class Notification(OfficeModel):
    customer_id = peewee.CharField(max_length=40)
    restock = peewee.BigIntegerField()  # Restock.id
    sku = peewee.CharField(max_length=20)
    location = peewee.CharField(max_length=64)
    state = peewee.CharField(max_length=8)  # sent | failed
    attempts = peewee.IntegerField(default=0)
    at = peewee.CharField(max_length=40)
    detail = peewee.TextField(default="")

    class Meta:
        indexes = ((("customer_id", "restock"), True),)


NOTIFY_MODELS = [Notification]
