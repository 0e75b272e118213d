"""Filling the roll-up aggregate tables that a database from an older version lacks, once,
from the aggregates they sum (and the margin's month table from the product day rows;
headoffice.schema.create_all runs this after creating the tables).

Ingest keeps the roll-ups current from then on (headoffice/aggregates.py); a rebuild
recomputes them with every other aggregate.
"""

from __future__ import annotations

import peewee

from headoffice import margin_months
from headoffice.aggregate_models import ROLLUPS, rollup_columns


def fill_missing(db: peewee.Database) -> None:
    """Each roll-up from its aggregate, when it is empty and that one is not. Two processes
    doing this at once: the second's insert meets the unique key, and create_all retries."""
    margin_months.fill_missing(db)
    for rollup, source in ROLLUPS.items():
        if rollup.select().exists() or not source.select().exists():
            continue
        key, sums, text = rollup_columns(rollup)
        columns = [*key, *sums, *text]
        values = [*key, *[f"SUM({c})" for c in sums], *[f"MAX({c})" for c in text]]
        db.execute_sql(
            f"INSERT INTO {rollup._meta.table_name} ({', '.join(columns)})"
            f" SELECT {', '.join(values)} FROM {source._meta.table_name}"
            f" GROUP BY {', '.join(key)}")
        db.execute_sql(f"ANALYZE {rollup._meta.table_name}")  # the planner sees its size
