"""Head-office tables for offer campaigns, offers, redemptions and what was published."""

from __future__ import annotations

import peewee

from headoffice.orm import OfficeModel


class Campaign(OfficeModel):
    name = peewee.CharField(max_length=120)
    valid_from = peewee.CharField(max_length=10)
    valid_until = peewee.CharField(max_length=10)
    percent = peewee.IntegerField()  # discount per offer
    uses = peewee.IntegerField(default=1)  # redemptions per offer
    budget_cents = peewee.BigIntegerField()  # the most all its offers together may cost
    committed_cents = peewee.BigIntegerField(default=0)  # worst-case cost of issued offers
    created = peewee.CharField(max_length=40)


class Offer(OfficeModel):
    offer_id = peewee.CharField(primary_key=True, max_length=40)
    campaign = peewee.IntegerField(index=True)
    customer_id = peewee.CharField(max_length=40, index=True)
    store = peewee.CharField(max_length=64, index=True)  # the customer's home store
    sku = peewee.CharField(max_length=20)
    reason = peewee.CharField(max_length=16)  # regular | together
    title = peewee.CharField(max_length=200)
    kind = peewee.CharField(max_length=8, default="percent")
    value = peewee.IntegerField()
    max_units = peewee.IntegerField(default=1)
    uses = peewee.IntegerField()
    valid_from = peewee.CharField(max_length=10)
    valid_until = peewee.CharField(max_length=10)
    max_cost_cents = peewee.BigIntegerField()
    emailed = peewee.CharField(max_length=40, null=True)


class Redemption(OfficeModel):
    """An offer_redemption journal entry as received from a till."""

    terminal = peewee.CharField(max_length=64)
    seq = peewee.BigIntegerField()
    store = peewee.CharField(max_length=64)
    offer_id = peewee.CharField(max_length=40, index=True)
    customer_id = peewee.CharField(max_length=40, null=True)
    discount = peewee.BigIntegerField()
    ts = peewee.CharField(max_length=40)

    class Meta:
        indexes = ((("terminal", "seq"), True),)


class Published(OfficeModel):
    """The version of the retained offers message last published per store."""

    store = peewee.CharField(primary_key=True, max_length=64)
    version = peewee.BigIntegerField(default=0)
    digest = peewee.CharField(max_length=64, default="")


OFFER_MODELS = [Campaign, Offer, Redemption, Published]
