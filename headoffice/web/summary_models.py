"""Tables of the owner's daily summary mail: who gets it (per user, with an on/off switch),
which day's mail went to whom (one row per user and day, so a restart never sends twice),
and the key that signs the unsubscribe links."""

from __future__ import annotations

import peewee

from headoffice.orm import OfficeModel


class SummaryRecipient(OfficeModel):
    """An owner's setting: the address the daily summary goes to, its language, on or off."""

    user = peewee.CharField(primary_key=True, max_length=64)  # OfficeUser.name
    address = peewee.CharField(max_length=254)
    language = peewee.CharField(max_length=2, default="nl")
    enabled = peewee.BooleanField(default=True)
    changed = peewee.CharField(max_length=40)

    class Meta:
        table_name = "summary_recipient"


class SummaryMail(OfficeModel):
    """One day's summary to one user: sending | sent | failed | gave_up, with the retry clock."""

    user = peewee.CharField(max_length=64)
    day = peewee.CharField(max_length=10)
    state = peewee.CharField(max_length=8)
    attempts = peewee.IntegerField(default=0)
    at = peewee.CharField(max_length=40)
    first_failed = peewee.CharField(max_length=40, default="")
    next_try = peewee.CharField(max_length=40, default="")
    message_id = peewee.CharField(max_length=200, default="")
    detail = peewee.TextField(default="")

    class Meta:
        table_name = "summary_mail"
        indexes = ((("user", "day"), True),)


class SummaryKey(OfficeModel):
    """The installation's secret for the unsubscribe links (made once, on first use)."""

    name = peewee.CharField(primary_key=True, max_length=16)
    secret = peewee.CharField(max_length=64)

    class Meta:
        table_name = "summary_key"


SUMMARY_MODELS = [SummaryRecipient, SummaryMail, SummaryKey]
