"""Computes personal offers from purchase history, within a campaign's budget.

Two kinds per consenting customer: the item they buy most regularly (on at least
`min_days` different days), and the item most often found in other customers' baskets
together with theirs that they have not bought yet. Each offer's worst-case cost
(percent x shelf price x units x uses) is committed against the campaign budget; when the
budget would be exceeded, no more offers are issued.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass

import peewee

from contract.money import percent_of
from contract.shop_time import shop_today
from headoffice.customers.models import Customer, Purchase
from headoffice.customers.service import now_iso
from headoffice.offers.models import Campaign, Offer
from headoffice.orm import write_transaction
from headoffice.stock.models import OfficeProduct


@dataclass(frozen=True)
class CampaignResult:
    campaign: int
    issued: int
    committed_cents: int
    skipped_budget: int


def create_campaign(name: str, valid_from: dt.date, valid_until: dt.date, percent: int,
                    budget_cents: int, uses: int = 1) -> int:
    if not 1 <= percent <= 100:
        raise ValueError(f"percent {percent} must be 1..100")
    if valid_until < valid_from:
        raise ValueError("the campaign ends before it starts")
    if budget_cents <= 0 or uses < 1:
        raise ValueError("budget must be positive and uses at least 1")
    with write_transaction():
        return Campaign.create(name=name, valid_from=valid_from.isoformat(),
                               valid_until=valid_until.isoformat(), percent=percent, uses=uses,
                               budget_cents=budget_cents, created=now_iso()).id


def _baskets(since: str) -> dict[tuple[str, int], set[str]]:
    baskets: dict[tuple[str, int], set[str]] = defaultdict(set)
    for terminal, seq, sku in (Purchase.select(Purchase.terminal, Purchase.seq, Purchase.sku)
                               .where(Purchase.day >= since).tuples()):
        baskets[(terminal, seq)].add(sku)
    return baskets


def suggestions(customer_id: str, since: str, baskets: dict[tuple[str, int], set[str]],
                min_days: int = 2, min_together: int = 2) -> list[tuple[str, str]]:
    """[(reason, sku)] for one customer: at most one regular and one bought-together item."""
    days: dict[str, set[str]] = defaultdict(set)
    for sku, day in (Purchase.select(Purchase.sku, Purchase.day)
                     .where(Purchase.customer_id == customer_id, Purchase.day >= since).tuples()):
        days[sku].add(day)
    result = []
    regular = sorted(((len(d), sku) for sku, d in days.items() if len(d) >= min_days), reverse=True)
    if regular:
        result.append(("regular", regular[0][1]))
    mine = set(days)
    together: Counter[str] = Counter()
    for basket in baskets.values():
        if basket & mine:
            together.update(basket - mine)
    best = [(n, sku) for sku, n in together.items() if n >= min_together]
    if best:
        result.append(("together", max(best)[1]))
    return result


def compute(campaign_id: int, lookback_days: int = 90, today: dt.date | None = None,
            min_days: int = 2, min_together: int = 2) -> CampaignResult:
    """Issues the campaign's offers to consenting customers (idempotent per customer+SKU)."""
    campaign = Campaign.get_by_id(campaign_id)
    since = ((today or shop_today()) - dt.timedelta(days=lookback_days)).isoformat()
    baskets = _baskets(since)
    issued = skipped = 0
    with write_transaction():
        committed = campaign.committed_cents
        for customer in Customer.select().where(Customer.consent == True).order_by(  # noqa: E712
                Customer.customer_id):
            for reason, sku in suggestions(customer.customer_id, since, baskets, min_days,
                                           min_together):
                if Offer.select().where(Offer.campaign == campaign.id,
                                        Offer.customer_id == customer.customer_id,
                                        Offer.sku == sku).exists():
                    continue
                product = OfficeProduct.get_or_none(OfficeProduct.sku == sku)
                if product is None or not product.price_cents:
                    continue
                cost = percent_of(product.price_cents, campaign.percent * 100) * campaign.uses
                if committed + cost > campaign.budget_cents:
                    skipped += 1
                    continue
                Offer.create(
                    offer_id="of-" + secrets.token_hex(6), campaign=campaign.id,
                    customer_id=customer.customer_id, store=customer.home_store, sku=sku,
                    reason=reason, title=f"{campaign.percent}% {product.name}", kind="percent",
                    value=campaign.percent, max_units=1, uses=campaign.uses,
                    valid_from=campaign.valid_from, valid_until=campaign.valid_until,
                    max_cost_cents=cost)
                committed += cost
                issued += 1
        Campaign.update(committed_cents=committed).where(Campaign.id == campaign.id).execute()
    return CampaignResult(campaign.id, issued, committed, skipped)


def active_offers(today: dt.date | None = None) -> peewee.ModelSelect:
    day = (today or shop_today()).isoformat()
    return Offer.select().where(Offer.valid_until >= day).order_by(Offer.offer_id)
