"""Head-office stock tables: levels per location and SKU, the move ledger, reorder levels."""

from __future__ import annotations

import peewee

from headoffice.orm import OfficeModel

WEBSHOP = "webshop"


class OfficeProduct(OfficeModel):
    """What head office knows of a SKU: name and shelf price, as last seen or set."""

    sku = peewee.CharField(primary_key=True, max_length=20)
    name = peewee.CharField(max_length=255, default="")
    price_cents = peewee.BigIntegerField(null=True)


class Stock(OfficeModel):
    location = peewee.CharField(max_length=64)  # a store id, or "webshop"
    sku = peewee.CharField(max_length=20)
    quantity = peewee.BigIntegerField(default=0)  # pieces, or grams for goods by weight
    counted_ms = peewee.BigIntegerField(default=0)  # time of the last count (epoch ms)

    class Meta:
        table_name = "stock_level_office"
        indexes = ((("location", "sku"), True),)


class StockMove(OfficeModel):
    """Every change, once: `source` names its origin (terminal:seq:line, woo:order:line)."""

    source = peewee.CharField(max_length=120, unique=True)
    location = peewee.CharField(max_length=64, index=True)
    sku = peewee.CharField(max_length=20, index=True)
    kind = peewee.CharField(max_length=20)  # sale refund void goods_received stock_count webshop_order
    delta = peewee.BigIntegerField()
    ts_ms = peewee.BigIntegerField()
    applied = peewee.BooleanField(default=True)  # False: made before a later count, already in it
    level_after = peewee.BigIntegerField(null=True)


class ReorderLevel(OfficeModel):
    location = peewee.CharField(max_length=64)
    sku = peewee.CharField(max_length=20)
    minimum = peewee.BigIntegerField()  # at or below this, reorder
    reorder_to = peewee.BigIntegerField()  # order up to this level

    class Meta:
        indexes = ((("location", "sku"), True),)


class Restock(OfficeModel):
    """A SKU went from none to available at a location: what back-in-stock mails are about."""

    location = peewee.CharField(max_length=64)
    sku = peewee.CharField(max_length=20)
    at_ms = peewee.BigIntegerField()
    source = peewee.CharField(max_length=120, unique=True)
    notified = peewee.BooleanField(default=False, index=True)


class FeedCursor(OfficeModel):
    """How far the journal of a terminal has been applied (contiguous entries only)."""

    terminal = peewee.CharField(primary_key=True, max_length=64)
    seq = peewee.BigIntegerField(default=0)


class Oversold(OfficeModel):
    """A sale or order that took stock that was not there (two channels sold the last one)."""

    location = peewee.CharField(max_length=64)
    sku = peewee.CharField(max_length=20)
    source = peewee.CharField(max_length=120, unique=True)
    level_after = peewee.BigIntegerField()
    at_ms = peewee.BigIntegerField()


STOCK_MODELS = [OfficeProduct, Stock, StockMove, ReorderLevel, Restock, FeedCursor, Oversold]
