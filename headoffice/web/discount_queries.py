"""What every reduction cost and what it sold, over a range: manual line discounts, ticket
discounts, price overrides, promotions and personal offers, per kind, per promotion or
offer, and per cashier. Read from AggDiscount (headoffice/aggregates.py fills it from the
ticket lines at ingest); `discount` is what was given (positive), refunds and paid voids
give some back, `gross` what the lines sold for after every reduction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from peewee import fn

from headoffice.aggregate_models import AggDiscount, AggDiscountAll
from headoffice.exports.periods import Period
from headoffice.web.report_queries import by_cashier

KINDS = ("manual", "ticket", "override", "promotion", "offer")
KIND_NAMES = {"manual": "handmatige korting", "ticket": "bonkorting",
              "override": "prijswijziging", "promotion": "actie", "offer": "persoonlijke aanbieding"}
NUMBERS = ("tickets", "lines", "quantity", "discount", "gross")


@dataclass
class DiscountReport:
    kinds: list[dict[str, Any]]
    promotions: list[dict[str, Any]]
    offers: list[dict[str, Any]]
    cashiers: list[dict[str, Any]] = field(default_factory=list)


def _query(period: Period, store: str | None, *group: str):
    """Sums grouped by the named columns: a shop's AggDiscount rows, or for every shop the
    roll-up (the same sums, one row per day, cashier, kind and reference)."""
    table = AggDiscount if store else AggDiscountAll
    columns = [getattr(table, name) for name in group]
    sums = [fn.SUM(getattr(table, n)).alias(n) for n in NUMBERS]
    query = (table.select(*columns, fn.MAX(table.name).alias("name"), *sums)
             .where(table.day.between(period.first, period.last)).group_by(*columns))
    if store:
        query = query.where(AggDiscount.store == store)
    return query


def _rows(query) -> list[dict[str, Any]]:
    return [{**r, **{n: int(r[n]) for n in NUMBERS}} for r in query.dicts()]


def _grouped(rows: list[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
    """The rows summed again by fewer columns (the sums add up; a name takes the highest)."""
    out: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        ident = tuple(row[k] for k in keys)
        into = out.get(ident)
        if into is None:
            out[ident] = {**{k: row[k] for k in keys}, "name": row["name"],
                          **{n: row[n] for n in NUMBERS}}
            continue
        into["name"] = max(into["name"], row["name"])
        for n in NUMBERS:
            into[n] += row[n]
    return list(out.values())


def discounts(period: Period, store: str | None = None) -> DiscountReport:
    """One grouped query (cashier, kind, reference), summed further here by kind, by
    reference and by cashier."""
    rows = _rows(_query(period, store, "cashier", "kind", "ref"))
    kinds = {r["kind"]: r for r in _grouped(rows, "kind")}
    kind_rows = [kinds.get(k, {"kind": k, "name": "", **dict.fromkeys(NUMBERS, 0)})
                 for k in KINDS]
    refs = [r for r in _grouped(rows, "kind", "ref") if r["kind"] in ("promotion", "offer")]
    ordered = sorted(refs, key=lambda r: (-r["discount"], r["ref"]))
    per_cashier: dict[str, dict[str, Any]] = {}
    for row in _grouped(rows, "cashier", "kind"):
        entry = per_cashier.setdefault(row["cashier"], {"cashier": row["cashier"],
                                                        **dict.fromkeys(KINDS, 0), "total": 0})
        entry[row["kind"]] += row["discount"]
        entry["total"] += row["discount"]
    sales = {r["cashier"]: r for r in by_cashier(period, store)}
    cashiers = []
    for name in sorted(set(per_cashier) | set(sales)):
        entry = per_cashier.get(name) or {"cashier": name, **dict.fromkeys(KINDS, 0), "total": 0}
        entry["turnover"] = sales.get(name, {}).get("turnover", 0)
        entry["tickets"] = sales.get(name, {}).get("tickets", 0)
        cashiers.append(entry)
    return DiscountReport(kind_rows, [r for r in ordered if r["kind"] == "promotion"],
                          [r for r in ordered if r["kind"] == "offer"], cashiers)
