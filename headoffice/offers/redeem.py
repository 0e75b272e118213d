"""Offer redemptions as they arrive in the journal, and the over-redemption report.

Tills redeem offline (firmware/offers.py, "count and report"): two tills that are offline
at the same time can each grant an offer's last use. Every such case shows up here.
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee

from contract.entries import Entry
from headoffice.offers.models import Offer, Redemption


def record(entry: Entry) -> None:
    """One offer_redemption entry (typed by the contract); a repeat is ignored."""
    data = entry.data
    Redemption.insert(terminal=entry.terminal, seq=entry.seq, store=entry.store,
                      offer_id=data.offer_id[:40], customer_id=data.customer_id,
                      discount=data.discount, ts=entry.ts).on_conflict_ignore().execute()


def counts(offer_ids: list[str] | None = None) -> dict[str, dict[str, int]]:
    """offer id -> {terminal: redemptions}."""
    query = Redemption.select(Redemption.offer_id, Redemption.terminal,
                              peewee.fn.COUNT(Redemption.id)).group_by(Redemption.offer_id,
                                                                        Redemption.terminal)
    if offer_ids is not None:
        query = query.where(Redemption.offer_id.in_(offer_ids or [""]))
    result: dict[str, dict[str, int]] = {}
    for offer_id, terminal, n in query.tuples():
        result.setdefault(offer_id, {})[terminal] = n
    return result


@dataclass(frozen=True)
class OverRedemption:
    offer_id: str
    customer_id: str
    allowed: int
    redeemed: int
    by_terminal: dict[str, int]
    discount_given: int


def over_redemptions() -> list[OverRedemption]:
    result = []
    for offer_id, by_terminal in sorted(counts().items()):
        offer = Offer.get_or_none(Offer.offer_id == offer_id)
        total = sum(by_terminal.values())
        allowed = offer.uses if offer else 0
        if total > allowed:
            given = (Redemption.select(peewee.fn.SUM(Redemption.discount))
                     .where(Redemption.offer_id == offer_id).scalar()) or 0
            result.append(OverRedemption(offer_id, offer.customer_id if offer else "?", allowed,
                                         total, by_terminal, int(given)))
    return result
