"""Running report totals: what each journal entry adds to the X/Z figures.

`changes(body)` is the one reduction from a journal entry to counter changes. The till
applies it to the `running_total` table inside the transaction that appends the entry
(so a Z costs the same at 1,000 or 100,000 tickets), and `kassa report z --rebuild`
applies the very same function to the journal alone; the two must agree.

Keys: `p:` counters belong to the open period and are cleared by a Z close; `g:` counters
never reset (perpetual grand totals of sales and returns, Z count, last applied seq).
Training-mode entries only count as training entries: they never reach turnover.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import peewee

PERIOD = "p:"
GRAND = "g:"
SEQ_KEY = "g:seq"
Z_COUNT_KEY = "g:z.count"
LAST_Z_KEY = "g:z.last_seq"

# Entries whose lines, VAT and tenders move money (a void of a paid ticket is a counter-entry).
_MONEY_TYPES = ("sale", "refund")


@dataclass
class Change:
    """What one entry does to the counters: additions, absolute sets, and a period reset."""

    adds: dict[str, int] = field(default_factory=dict)
    sets: dict[str, int] = field(default_factory=dict)
    reset_period: bool = False

    def add(self, key: str, amount: int) -> None:
        self.adds[key] = self.adds.get(key, 0) + amount


def _count(change: Change, name: str, amount: int) -> None:
    change.add(f"p:{name}.count", 1)
    change.add(f"p:{name}.amount", amount)


def _money(change: Change, data: dict[str, Any]) -> None:
    """VAT per rate, tenders and cash rounding of a sale or a counter-entry."""
    for vat in data.get("vat", []):
        key = f"p:vat.{vat['code']}.{vat['rate_bp']}"
        change.add(key + ".gross", vat["gross"])
        change.add(key + ".vat", vat["vat"])
        change.add(key + ".net", vat["net"])
    for tender in data.get("tenders", []):
        change.add(f"p:tender.{tender['kind']}.count", 1)
        change.add(f"p:tender.{tender['kind']}.amount", tender["amount"])
    change.add("p:rounding", data.get("rounding", 0))


def changes(body: dict[str, Any]) -> Change:
    """The counter changes of one journal entry body (pure: same for till and rebuild)."""
    change = Change(sets={SEQ_KEY: body["seq"]})
    kind, data = body["type"], body.get("data", {})
    if kind == "z_close":
        change.reset_period = True
        change.add(Z_COUNT_KEY, 1)
        change.sets[LAST_Z_KEY] = body["seq"]
        return change
    if body.get("training"):
        change.add("p:training.count", 1)
        return change
    if kind == "sale":
        _count(change, "sales", data["total"])
        change.add("g:sales", abs(data["total"]))
        _money(change, data)
        discounted = sum(1 for line in data["lines"]
                         if not line.get("removed") and line.get("discount"))
        if data.get("ticket_discount"):
            discounted += 1
        if data.get("discount_total"):
            change.add("p:discounts.count", discounted)
            change.add("p:discounts.amount", data["discount_total"])
    elif kind == "refund":
        _count(change, "refunds", data["total"])
        change.add("g:returns", abs(data["total"]))
        _money(change, data)
    elif kind == "void":
        _count(change, "voids", abs(data["total"]))
        if data.get("scope") == "paid":
            change.add("p:voids.paid.count", 1)
            change.add("p:voids.paid.amount", data["total"])
            change.add("g:returns", abs(data["total"]))
            _money(change, data)
    elif kind == "no_sale":
        _count(change, "no_sales", 0)
    elif kind == "price_override":
        _count(change, "price_overrides", data["old_unit_price"] - data["new_unit_price"])
    elif kind in ("float", "cash_in", "cash_out"):
        _count(change, kind, data["amount"])
    elif kind == "receipt_copy":
        _count(change, "receipt_copies", 0)
    elif kind == "x_report":
        change.add("p:x_reports.count", 1)
    return change


def apply(totals: dict[str, int], change: Change) -> None:
    """Applies a change to an in-memory set of counters (the rebuild's side)."""
    if change.reset_period:
        for key in [k for k in totals if k.startswith(PERIOD)]:
            del totals[key]
    for key, amount in change.adds.items():
        totals[key] = totals.get(key, 0) + amount
    totals.update(change.sets)


_UPSERT = ("INSERT INTO running_total (key, value) VALUES (?, ?) "
           "ON CONFLICT(key) DO UPDATE SET value = value + excluded.value")
_SET = ("INSERT INTO running_total (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value")


def store(db: peewee.SqliteDatabase, change: Change) -> None:
    """Applies a change to the running_total table; call inside the entry's transaction."""
    cursor = db.cursor()
    if change.reset_period:
        cursor.execute("DELETE FROM running_total WHERE key >= 'p:' AND key < 'p;'")
    if change.adds:
        cursor.executemany(_UPSERT, list(change.adds.items()))
    cursor.executemany(_SET, list(change.sets.items()))


def load(db: peewee.SqliteDatabase) -> dict[str, int]:
    """All counters as stored (a few dozen rows, whatever the journal's length)."""
    return dict(db.execute_sql("SELECT key, value FROM running_total").fetchall())


def replay(bodies: Iterable[dict[str, Any]]) -> dict[str, int]:
    """The counters rebuilt from journal bodies alone."""
    totals: dict[str, int] = {}
    for body in bodies:
        apply(totals, changes(body))
    return totals


def replace_all(db: peewee.SqliteDatabase, totals: Mapping[str, int]) -> None:
    """Overwrites the table with rebuilt counters (after an acknowledged journal alarm)."""
    with db.atomic():
        db.execute_sql("DELETE FROM running_total")
        if totals:
            db.cursor().executemany("INSERT INTO running_total (key, value) VALUES (?, ?)",
                                    list(totals.items()))
