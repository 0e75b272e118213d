"""Till tables for customers and offers, kept apart from the fiscal models.

Head office sends them in the retained `offers` message (firmware/offers.py); the till only
reads them, except LocalOfferUse, which records this till's own redemptions in the same
transaction as their journal entries. Bound and created by `ensure_tables`.
"""

from __future__ import annotations

import weakref

import peewee

from firmware.models import BaseModel


class LocalCustomer(BaseModel):
    """A loyalty customer as the till knows them: a pseudonymous id, the card, a name."""

    customer_id = peewee.CharField(primary_key=True, max_length=40)  # pseudonym, e.g. c-3f9a...
    card = peewee.CharField(unique=True, max_length=20)
    name = peewee.CharField(default="")
    name_folded = peewee.CharField(default="", index=True)
    language = peewee.CharField(default="nl", max_length=5)


class LocalOffer(BaseModel):
    """One personal offer: a discount on a product for one customer, a few times, for a while."""

    offer_id = peewee.CharField(primary_key=True, max_length=40)
    customer_id = peewee.CharField(index=True, max_length=40)
    sku = peewee.CharField(max_length=20)
    title = peewee.CharField(default="")
    kind = peewee.CharField(max_length=8)  # percent | cents
    value = peewee.IntegerField()  # percent (1..100) or cents off per unit
    max_units = peewee.IntegerField(default=1)  # units discounted per redemption
    uses = peewee.IntegerField(default=1)  # redemptions allowed in all
    valid_from = peewee.CharField(max_length=10)  # YYYY-MM-DD, inclusive
    valid_until = peewee.CharField(max_length=10)  # YYYY-MM-DD, inclusive
    redeemed = peewee.TextField(default="{}")  # JSON {terminal: count} as head office saw it


class LocalOfferUse(BaseModel):
    """A redemption made at this till; written with its `offer_redemption` journal entry."""

    seq = peewee.IntegerField(primary_key=True)  # the redemption's journal seq
    offer_id = peewee.CharField(index=True, max_length=40)


SHOP_MODELS: list[type[BaseModel]] = [LocalCustomer, LocalOffer, LocalOfferUse]
_ready: weakref.WeakSet[peewee.Database] = weakref.WeakSet()


def ensure_tables(db: peewee.Database) -> None:
    """Binds the customer/offer models to `db` and creates their tables once per database."""
    db.bind(SHOP_MODELS, bind_refs=False, bind_backrefs=False)
    if db not in _ready:
        db.create_tables(SHOP_MODELS, safe=True)
        _ready.add(db)
