"""The dedup table of sent notifications: one row per (customer, restock), never two."""

from __future__ import annotations

import peewee

from headoffice.orm import OfficeModel


class Notification(OfficeModel):
    customer_id = peewee.CharField(max_length=40)
    restock = peewee.BigIntegerField()  # Restock.id
    sku = peewee.CharField(max_length=20)
    location = peewee.CharField(max_length=64)
    state = peewee.CharField(max_length=8)  # sending | sent | failed | gave_up
    attempts = peewee.IntegerField(default=0)
    at = peewee.CharField(max_length=40)
    detail = peewee.TextField(default="")

    class Meta:
        indexes = ((("customer_id", "restock"), True),)


class MailRetry(OfficeModel):
    """When a failed mail was first refused and when to try it again (backoff for a day)."""

    notification = peewee.BigIntegerField(primary_key=True)  # Notification.id
    first_failed = peewee.CharField(max_length=40)
    next_try = peewee.CharField(max_length=40)


class StoreName(OfficeModel):
    """The name a shop goes by in mails ("Bakkerij Centrum"), instead of its store id."""

    store = peewee.CharField(primary_key=True, max_length=64)
    name = peewee.CharField(max_length=120)


NOTIFY_MODELS = [Notification, MailRetry, StoreName]
