"""A store's price of a product at a moment, and the changes planned after it.

Rule: the store's own newest entry that has begun wins; without one, the newest begun
entry for every store (ALL_STORES). The planned changes are the moments after `now` at
which that rule gives another price: exactly what the till needs to switch by its clock.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from headoffice.catalogue.models import ALL_STORES, PriceEntry
from headoffice.catalogue.times import stored

Timeline = list[tuple[str, int]]  # (stored valid_from, price_cents), oldest first


def timelines(store: str, products: list[int] | None = None) -> dict[int, tuple[Timeline, Timeline]]:
    """product -> (the store's own entries, the entries for every store)."""
    query = PriceEntry.select(PriceEntry.store, PriceEntry.product, PriceEntry.price_cents,
                              PriceEntry.valid_from).where(
        PriceEntry.store.in_([store, ALL_STORES])).order_by(PriceEntry.valid_from)
    if products is not None:
        query = query.where(PriceEntry.product.in_(products))
    out: dict[int, tuple[Timeline, Timeline]] = defaultdict(lambda: ([], []))
    for row_store, product, price, when in query.tuples():
        out[product][0 if row_store == store else 1].append((when, price))
    return out


def _at(own: Timeline, chain: Timeline, when: str) -> int | None:
    for entries in (own, chain):
        begun = [price for moment, price in entries if moment <= when]
        if begun:
            return begun[-1]
    return None


def schedule(own: Timeline, chain: Timeline, now: dt.datetime) -> tuple[int | None, Timeline]:
    """(price now, [(moment, price) of each later change])."""
    when = stored(now)
    current = _at(own, chain, when)
    planned: Timeline = []
    last = current
    for moment in sorted({m for m, _ in own + chain if m > when}):
        price = _at(own, chain, moment)
        if price is not None and price != last:
            planned.append((moment, price))
            last = price
    return current, planned


def price_at(product: int, store: str, moment: dt.datetime) -> int | None:
    own, chain = timelines(store, [product]).get(product, ([], []))
    return _at(own, chain, stored(moment))
