"""The monthly margin roll-up (AggMargin), kept by ingest beside the product day rows.

The margin report (headoffice/web/margin_queries.py) rounds the net of each product day row
on its own, since a day row is the grain at which a cost price applies. A sum of rounded day
nets adds up, so a month's sum is exact for every month in which the product's cost and rate
stay the same. Which rate applies is only known when the report runs (the product master's
VAT code), so the month keeps the sum at each rate of RATES_BP (at 0% the net is the gross).
Ingest adds, for each day row a batch changes, the day row's new net minus its old one; an
older database gets the table summed once from its day rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import peewee

from contract.money import div_round_half_up
from headoffice.aggregate_models import AggMargin, AggProduct

RATES_BP = (2100, 900)  # the non-zero rates a month's nets are kept at
NET_COLUMNS = {2100: "net_2100", 900: "net_900"}


def net_at(gross: int, rate_bp: int) -> int:
    """Gross (VAT included) without its VAT at `rate_bp`, rounded half away from zero."""
    return div_round_half_up(gross * 10000, 10000 + rate_bp)


def net_sql(gross: str, rate: str) -> str:
    """net_at in integer SQL, the same on both engines (their integer division truncates)."""
    return (f"CASE WHEN {gross} >= 0 THEN ({gross} * 20000 + 10000 + {rate})"
            f" / (20000 + 2 * {rate})"
            f" ELSE -((-{gross} * 20000 + 10000 + {rate}) / (20000 + 2 * {rate})) END")


def month_rows(changed: Iterable[tuple[str, str, str, int]],
               deltas: Mapping[tuple[str, str, str], list[Any]]) -> list[dict[str, Any]]:
    """AggMargin deltas from the product rows a batch wrote: `changed` holds each one's
    (store, bucket, product, gross now), `deltas` the batch's [name, quantity, gross] per
    (store, bucket, product); only day buckets count."""
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for store, bucket, product, now in changed:
        if not bucket.startswith("d"):
            continue
        _name, quantity, gross = deltas[(store, bucket, product)]
        after = int(now)
        before = after - gross
        key = (store, product, bucket[1:8])
        row = out.get(key)
        if row is None:
            row = out[key] = {"store": store, "product": product, "month": bucket[1:8],
                              "quantity": 0, "gross": 0,
                              **{column: 0 for column in NET_COLUMNS.values()}}
        row["quantity"] += quantity
        row["gross"] += gross
        for rate, column in NET_COLUMNS.items():
            row[column] += net_at(after, rate) - net_at(before, rate)
    return list(out.values())


def fill_missing(db: peewee.Database) -> None:
    """Sums the month rows once from the product day rows, when the table is empty and
    they are not (a database from before the roll-up)."""
    if AggMargin.select().exists() or not AggProduct.select().exists():
        return
    columns = ", ".join(NET_COLUMNS[rate] for rate in RATES_BP)
    nets = ", ".join(f"SUM({net_sql('gross', str(rate))})" for rate in RATES_BP)
    month = "SUBSTR(bucket, 2, 7)"
    db.execute_sql(
        f"INSERT INTO {AggMargin._meta.table_name} (store, product, month, quantity, gross,"
        f" {columns}) SELECT store, product, {month}, SUM(quantity), SUM(gross), {nets}"
        f" FROM {AggProduct._meta.table_name} WHERE bucket >= 'd' AND bucket < 'e'"
        f" GROUP BY store, product, {month}")
    db.execute_sql(f"ANALYZE {AggMargin._meta.table_name}")  # the planner sees its size
