"""Ingest's batch added to the margin months the report keeps (headoffice/margin_cache.py),
with the cost and VAT rate each day row takes in the report: the cost valid at the end of
its shop day and its product's rate that day, the net rounded per day row (the row's net
now minus its net before). A month kept current stays current; one that is not stays as it
is, counted again when the report next needs it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from headoffice import margin_cache
from headoffice.catalogue.cost_book import CostBook, rate_on
from headoffice.catalogue.products import find_many
from headoffice.margin_months import net_at


def add(written: Iterable[tuple[str, str, str, int]],
        deltas: Mapping[tuple[str, str, str], list[Any]]) -> None:
    """`written` holds each product row's (store, bucket, product, gross now), `deltas` the
    batch's [name, quantity, gross] per (store, bucket, product); only day rows count. The
    months' versions are counted first: only the rows of kept months are costed (the
    master and cost prices read for their products alone), nothing when none is kept. Call
    inside the ingest's transaction."""
    rows = [(store, bucket[1:], product, int(now), deltas[(store, bucket, product)])
            for store, bucket, product, now in written if bucket.startswith("d")]
    kept = margin_cache.counted([(scope, row[1][:7]) for row in rows
                                 for scope in (margin_cache.CHAIN, row[0])])
    rows = [row for row in rows if (margin_cache.CHAIN, row[1][:7]) in kept
            or (row[0], row[1][:7]) in kept]
    if not rows:
        return
    master = find_many(sorted({row[2] for row in rows}))
    book = CostBook(sorted({p.id for p in master.values() if p is not None}))
    sums: margin_cache.Sums = {}
    for store, day, code, after, (_name, quantity, gross) in rows:
        product = master.get(code)
        cost = book.at(product.id, day) if product is not None else None
        if cost is None or product is None:
            adds = (quantity, gross, 0, 0)
        else:
            rate = rate_on(product.vat_code, dt.date.fromisoformat(day))
            adds = (quantity, gross, net_at(after, rate) - net_at(after - gross, rate),
                    cost * quantity)
        margin_cache.add_row(sums, kept, store, day, code, cost is None, adds)
    margin_cache.added(sums)
