"""The product master's cost prices as the margin takes them: the one valid at the end of
a shop day (headoffice/web/margin_queries.py; ingest's kept margin months too), and what a
cost change makes of the margin's kept months."""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections import defaultdict
from typing import Any

from contract.config import NL_RATES
from headoffice import margin_cache
from headoffice.catalogue.models import CostPrice
from headoffice.catalogue.times import SHOP_ZONE, from_stored
from headoffice.margin_months import net_at


def rate_on(vat_code: str, day: dt.date) -> int:
    """The VAT rate of a code on a day (0 before its first)."""
    rates = [r for r in NL_RATES if r.code == vat_code and r.valid_from <= day]
    return max(rates, key=lambda r: r.valid_from).bp if rates else 0


class CostBook:
    """Every cost price of some products, loaded once; `at(product, day)` is the one valid at
    the end of that shop day (what cost_at gives for that moment). A price from moment m is
    the one valid at the end of every shop day from m's own shop date on (until the next),
    so each is kept with that date and a day finds its price by comparing dates as text."""

    def __init__(self, product_ids: list[int]) -> None:
        self.history: dict[int, tuple[list[str], list[int]]] = {}
        rows: dict[int, list[tuple[str, int]]] = defaultdict(list)
        for start in range(0, len(product_ids), 500):
            for row in (CostPrice.select(CostPrice.product, CostPrice.valid_from,
                                         CostPrice.cost_cents)
                        .where(CostPrice.product.in_(product_ids[start:start + 500]))
                        .tuples()):
                rows[row[0]].append((row[1], row[2]))
        for product, found in rows.items():
            found.sort()
            self.history[product] = ([_shop_date(f[0]) for f in found], [f[1] for f in found])

    def at(self, product: int, day: str) -> int | None:
        """The cost on shop day `day` (YYYY-MM-DD), or None."""
        found = self.history.get(product)
        if found is None:
            return None
        days, costs = found
        index = bisect.bisect_right(days, day) - 1  # the last price from that day or before
        return costs[index] if index >= 0 else None


@functools.lru_cache(maxsize=1 << 16)
def _shop_date(stored: str) -> str:
    """The shop date (YYYY-MM-DD) of a stored moment; asked again at each report."""
    return from_stored(stored).astimezone(SHOP_ZONE).date().isoformat()


def cost_deltas(day_rows: list[tuple[str, str, str, int, int]], products: dict[str, Any],
                before: CostBook, after: CostBook, kept: set[tuple[str, str]]
                ) -> margin_cache.Sums:
    """What a cost change makes of kept margin months (headoffice/margin_cache.py): for each
    day row (store, day, code, pieces, gross) of a changed product (`products`: code -> its
    facts) whose cost on its day differs between the books, its share at the old cost taken
    off and at the new one added, per kept (scope, month), kind, key and uncosted; so the
    months stay equal to a recomputation without computing anything else again."""
    sums: margin_cache.Sums = {}
    for store, day, code, quantity, gross in day_rows:
        product = products[code]
        old, new = before.at(product.id, day), after.at(product.id, day)
        if old == new:
            continue
        net = net_at(gross, rate_on(product.vat_code, dt.date.fromisoformat(day)))
        for sign, cost in ((-1, old), (1, new)):
            adds = (quantity, gross, 0, 0) if cost is None else (quantity, gross, net,
                                                                 cost * quantity)
            margin_cache.add_row(sums, kept, store, day, code, cost is None, adds, sign)
    return sums
