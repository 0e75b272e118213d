"""Webshop orders followed through their statuses, the link and pull cursor per webshop, and
the log of every call's outcome.

`webshop_order` holds one row per order and webshop: its last status and version
(modification time), and per line what head office has taken out of stock for it now. Rows
written before orders were followed (no `state`) are adopted as taken `processing` orders.
"""

from __future__ import annotations

import peewee

from headoffice.orm import OfficeModel

TRACKED, PARKED = "tracked", "parked"


class WebshopOrder(OfficeModel):
    shop = peewee.CharField(max_length=64)
    order_id = peewee.CharField(max_length=64)
    created = peewee.CharField(max_length=40)  # the order's own date
    taken = peewee.CharField(max_length=40)  # when head office first saw it
    lines = peewee.TextField()  # JSON [{line_id, sku, location, quantity (taken now), moves}]
    email = peewee.CharField(max_length=254, default="")
    status = peewee.CharField(max_length=32, default="processing")
    modified = peewee.CharField(max_length=40, default="")  # version applied
    state = peewee.CharField(max_length=12, default=TRACKED, index=True)  # tracked | parked
    reason = peewee.TextField(default="")  # why it is parked
    stale = peewee.BooleanField(default=False, index=True)  # changed; fetch it again

    class Meta:
        indexes = ((("shop", "order_id"), True),)


class WebshopLink(OfficeModel):
    """A webshop head office is linked to: since when, and whose stock it sells (the webhook
    takes orders from the same locations as the sync)."""

    shop = peewee.CharField(primary_key=True, max_length=64)
    linked = peewee.CharField(max_length=40)
    fulfil_from = peewee.CharField(max_length=400)  # comma-separated locations
    cursor = peewee.CharField(max_length=40, default="")  # newest order version pulled


class WebshopLog(OfficeModel):
    at = peewee.CharField(max_length=40)
    shop = peewee.CharField(max_length=64)
    action = peewee.CharField(max_length=32)  # push_stock push_prices pull_orders take_order
    target = peewee.CharField(max_length=200, default="")  # ... parked webhook_refused sync
    ok = peewee.BooleanField()
    attempts = peewee.IntegerField(default=1)
    detail = peewee.TextField(default="")


WEBSHOP_MODELS = [WebshopOrder, WebshopLink, WebshopLog]


# Columns added since the first version, with the SQL that adds them to an existing table
# (the same on SQLite and PostgreSQL; rows of the first version were taken `processing`).
ADDED_COLUMNS = {
    "status": "VARCHAR(32) NOT NULL DEFAULT 'processing'",
    "modified": "VARCHAR(40) NOT NULL DEFAULT ''",
    "state": f"VARCHAR(12) NOT NULL DEFAULT '{TRACKED}'",
    "reason": "TEXT NOT NULL DEFAULT ''",
    "stale": "BOOLEAN NOT NULL DEFAULT FALSE",
}


def upgrade(db: peewee.Database) -> None:
    """Adds the columns a `webshop_order` table of an older version lacks; runs before the
    tables' indexes are created (an index on a missing column would be made on a literal)."""
    table = WebshopOrder._meta.table_name
    if not db.table_exists(table):
        return
    have = {c.name for c in db.get_columns(table)}
    for name, ddl in ADDED_COLUMNS.items():
        if name not in have:
            db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "{name}" {ddl}')
