"""Year buckets of the product totals ('y2025' in AggProduct and AggProductAll), summed once
from the month buckets in a database from a version that kept only days and months
(headoffice.schema.create_all runs this). Ingest keeps them current from then on, with the
same deltas as the day and month rows (headoffice/aggregates.py).

A year row's name is that of its latest month (the name last received in the year's newest
month that sold it), where ingest keeps the name last received in the year: the same unless a
till sent an older month's sales after a rename.
"""

from __future__ import annotations

import peewee

from headoffice.aggregate_models import AggProduct, AggProductAll
from headoffice.orm import OfficeModel, is_postgres


def fill_missing(db: peewee.Database) -> None:
    """Each table's year rows from its month rows, when it has months and no year. Two
    processes doing this at once: the second's insert meets the unique key, and create_all
    retries."""
    for table, key in ((AggProduct, "store, "), (AggProductAll, "")):
        if not _has(table, "m") or _has(table, "y"):
            continue
        latest = "SUBSTR(bucket, 2) || ' ' || name"
        if is_postgres(db):
            latest = f'({latest}) COLLATE "C"'
        name = table._meta.table_name
        db.execute_sql(
            f"INSERT INTO {name} ({key}bucket, product, name, quantity, gross)"
            f" SELECT {key}'y' || SUBSTR(bucket, 2, 4), product, SUBSTR(MAX({latest}), 9),"
            f" SUM(quantity), SUM(gross) FROM {name} WHERE bucket BETWEEN 'm' AND 'n'"
            f" GROUP BY {key}SUBSTR(bucket, 2, 4), product")
        db.execute_sql(f"ANALYZE {name}")  # the planner sees its size


def _has(table: type[OfficeModel], kind: str) -> bool:
    """Whether the table holds a bucket of this kind ('d', 'm' or 'y'), through its index."""
    return table.select().where(table.bucket.between(kind, chr(ord(kind) + 1))).exists()
