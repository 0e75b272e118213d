"""What each promotion cost and sold, over days and stores, from the aggregate table that
ingest fills (headoffice/aggregates.py AggPromotion). Amounts are integer cents: `discount`
is what the promotion cost (refunds and paid voids give some back), `gross` what the lines
it covered sold for after every discount, `quantity` their pieces, `tickets` the sales."""

from __future__ import annotations

from dataclasses import dataclass

import peewee

from headoffice.aggregate_models import AggPromotion


@dataclass(frozen=True)
class PromotionFigure:
    promotion: str
    name: str
    version: int
    tickets: int
    discount: int
    quantity: int
    gross: int


def promotion_figures(first_day: str | None = None, last_day: str | None = None,
                      store: str | None = None) -> list[PromotionFigure]:
    """One figure per promotion over the days first_day..last_day (YYYY-MM-DD, inclusive),
    of one store or all, most costly first (ties by id)."""
    fn = peewee.fn
    query = (AggPromotion.select(AggPromotion.promotion, fn.MAX(AggPromotion.version),
                                 fn.SUM(AggPromotion.tickets), fn.SUM(AggPromotion.discount),
                                 fn.SUM(AggPromotion.quantity), fn.SUM(AggPromotion.gross))
             .group_by(AggPromotion.promotion))
    if first_day:
        query = query.where(AggPromotion.day >= first_day)
    if last_day:
        query = query.where(AggPromotion.day <= last_day)
    if store:
        query = query.where(AggPromotion.store == store)
    sums = list(query.tuples())
    names = _latest_names([row[0] for row in sums])
    figures = [PromotionFigure(pid, names.get(pid, ""), int(version), int(tickets),
                               int(discount), int(quantity), int(gross))
               for pid, version, tickets, discount, quantity, gross in sums]
    return sorted(figures, key=lambda f: (-f.discount, f.promotion))


def _latest_names(ids: list[str]) -> dict[str, str]:
    """Each promotion's name as received last (on its latest day)."""
    names: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        rows = (AggPromotion.select(AggPromotion.promotion, AggPromotion.name)
                .where(AggPromotion.promotion.in_(ids[start:start + 500]))
                .order_by(AggPromotion.day, AggPromotion.id).tuples())
        for pid, name in rows:
            names[pid] = name
    return names
