"""The one reduction from journal entries to report figures, and the one sign convention.

The till's X and Z reports, `kassa report`, the receipt-printer Z, head office's Z archive,
dashboard and XAF all take their figures from here (docs/GLOSSARY.md lists them).

Sign convention (schema version 2, every figure):
- A count is never negative: how many entries made the figure.
- An amount is signed by the way it moves the shop's takings: sales, money put into the
  drawer and customers' payments are positive; every reversal or reduction is negative:
  refunds, voids (of open or parked tickets, and of paid tickets), discounts, a price
  lowered by an override (new - old), cash taken out of the drawer, money paid back.
- So every figure adds up without sign flips: turnover = sales + refunds + voids_paid;
  expected cash = float + cash_in + cash_out + cash_tenders.
- The one exception is the perpetual grand totals (NF525 practice): absolute values of
  sales and of returns (refunds and voids of paid tickets), never reset.

Definitions (amounts in cents, VAT included, before cash rounding; training entries never
count, they only raise `training_entries`):
- sales: sale entries and the sum of their totals.
- refunds: refund entries and the sum of their (negative) totals.
- voids_open: voids of tickets never paid (scope open or parked) and minus their totals;
  they move no money and are not in turnover.
- voids_paid: voids of paid tickets (counter-entries) and the sum of their negative totals.
  voids_open and voids_paid are kept apart, never added together.
- turnover: sales + refunds + voids_paid (= the sum of gross over the VAT rates).
- tickets: the number of sales; average_ticket = turnover / tickets, rounded half up
  (0 without tickets).
- discounts: sales with a discount (per discounted line, plus one for a ticket discount and
  one per promotion given) and minus the discount given (promotions included).
- price_overrides: overrides and new - old unit price summed.
- float, cash_in, cash_out: movements and their amounts (cash_out negative).
- rounding: the sum of cash rounding deltas (rounded - unrounded) of sales, refunds, voids.
- tenders: per kind, payments and their sum (refunds paid out count negative).
- grand_totals: {sales, returns}, perpetual absolute values.

Version 1 (Z closes written before this module) had `voids` (every void, absolute amounts,
with `voids_paid` a negative part of it), positive discounts, price_overrides (old - new)
and cash_out; `period_figures(..., version=1)` still produces that layout so an old Z can
be rebuilt and compared with what it says.

API (stable names):
- `changes(body) -> Change`: what one journal body adds to the running counters (pure; the
  till stores it in the entry's transaction, a rebuild replays it). Counter keys: `p:` are
  the open period's (cleared by a Z close), `g:` never reset. Counters hold raw journal sums;
  the sign convention is applied by `period_figures`.
- `apply(counters, change)`, `replay(bodies) -> counters`.
- `period_figures(counters, last_seq, version=SCHEMA) -> dict`: the x_report data.
- `close_figures(counters, last_seq, counted, approved_by) -> dict`: the z_close data.
- `rebuilt_z(stored, counters, last_seq, version) -> dict`, `z_differences(stored, rebuilt)
  -> list[str]`, `comparable(data)`, `diff(stored, rebuilt)`: the check of a stored Z.
- `entry_figures(body)`: the signed figures of one entry (for per-day/shift sums);
  `FIGURE_COUNTERS`/`PAIR_FIGURES`: the count-and-amount figures in report order.
- `turnover_of(body)`, `moves_money(body)`, `average_ticket(turnover, tickets)`,
  `counters_current(counters)` (False: counters from before version 2, rebuild them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from contract.chain import SCHEMA
from contract.money import div_round_half_up

PERIOD = "p:"
GRAND = "g:"
SEQ_KEY = "g:seq"
Z_COUNT_KEY = "g:z.count"
LAST_Z_KEY = "g:z.last_seq"
# A counter only version-1 reductions wrote (every void in one figure): its presence means
# the stored counters predate version 2 and must be rebuilt from the journal.
LEGACY_KEYS = ("p:voids.count", "p:voids.amount")

TENDER_ORDER = ("cash", "card", "voucher")
# Figures with a count and an amount, in report order: figure -> (counter, sign). Counters
# hold the journal's own sums; the sign turns them into the convention above.
FIGURE_COUNTERS: dict[str, tuple[str, int]] = {
    "sales": ("sales", 1), "refunds": ("refunds", 1), "voids_open": ("voids.open", -1),
    "voids_paid": ("voids.paid", 1), "discounts": ("discounts", -1),
    "price_overrides": ("price_overrides", -1), "no_sales": ("no_sales", 1),
    "receipt_copies": ("receipt_copies", 1), "float": ("float", 1), "cash_in": ("cash_in", 1),
    "cash_out": ("cash_out", -1),
}
PAIR_FIGURES = tuple(FIGURE_COUNTERS)
# The figures of a z_close that a rebuild from the journal does not recompute.
# Figures a Z carries that the journal's counters do not give (the drawer's count, who
# approved, and the PIN terminal's card totals: firmware/card_close.py).
CLOSE_ONLY = ("counted", "variance", "approved_by", "card_brands", "terminal_totals",
              "terminal_error", "card_difference")


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


def _money(change: Change, data: Mapping[str, Any]) -> None:
    """VAT per rate, tenders and cash rounding of a sale or a counter-entry."""
    for vat in data.get("vat", ()):
        key = f"p:vat.{vat['code']}.{vat['rate_bp']}"
        change.add(key + ".gross", vat["gross"])
        change.add(key + ".vat", vat["vat"])
        change.add(key + ".net", vat["net"])
    for tender in data.get("tenders", ()):
        change.add(f"p:tender.{tender['kind']}.count", 1)
        change.add(f"p:tender.{tender['kind']}.amount", tender["amount"])
    change.add("p:rounding", data.get("rounding", 0))


def moves_money(body: Mapping[str, Any]) -> bool:
    """True for the entries whose total is in turnover: sales, refunds, voids of paid tickets
    (training entries never)."""
    kind = body["type"]
    if body.get("training"):
        return False
    return kind in ("sale", "refund") or (kind == "void" and body["data"].get("scope") == "paid")


def turnover_of(body: Mapping[str, Any]) -> int:
    """What one entry adds to turnover (its signed total, or 0)."""
    return body["data"]["total"] if moves_money(body) else 0


def entry_figures(body: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """The signed figures one entry adds to (only those it touches), e.g. a paid void gives
    {"voids_paid": {"count": 1, "amount": -432}}: for readers that sum per day or shift."""
    adds = changes(body).adds
    out = {}
    for name, (counter, sign) in FIGURE_COUNTERS.items():
        count = adds.get(f"p:{counter}.count", 0)
        if count:
            out[name] = {"count": count, "amount": sign * adds.get(f"p:{counter}.amount", 0)}
    return out


def average_ticket(turnover: int, tickets: int) -> int:
    """turnover / tickets in cents, rounded half up; 0 without tickets."""
    return div_round_half_up(turnover, tickets) if tickets > 0 else 0


def changes(body: Mapping[str, Any]) -> Change:
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
        discounted += len(data.get("promotions", ()))  # one per head-office promotion given
        if data.get("discount_total"):
            change.add("p:discounts.count", discounted)
            change.add("p:discounts.amount", data["discount_total"])
    elif kind == "refund":
        _count(change, "refunds", data["total"])
        change.add("g:returns", abs(data["total"]))
        _money(change, data)
    elif kind == "void":
        if data.get("scope") == "paid":
            _count(change, "voids.paid", data["total"])
            change.add("g:returns", abs(data["total"]))
            _money(change, data)
        else:
            _count(change, "voids.open", data["total"])
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


def apply(counters: dict[str, int], change: Change) -> None:
    """Applies a change to an in-memory set of counters (the rebuild's side)."""
    if change.reset_period:
        for key in [k for k in counters if k.startswith(PERIOD)]:
            del counters[key]
    for key, amount in change.adds.items():
        counters[key] = counters.get(key, 0) + amount
    counters.update(change.sets)


def replay(bodies: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """The counters rebuilt from journal bodies alone."""
    counters: dict[str, int] = {}
    for body in bodies:
        apply(counters, changes(body))
    return counters


def counters_current(counters: Mapping[str, int]) -> bool:
    """False when the counters were written by a version-1 reduction (rebuild them)."""
    return not any(key in counters for key in LEGACY_KEYS)


def _pair(t: Mapping[str, int], name: str, sign: int = 1) -> dict[str, int]:
    return {"count": t.get(f"p:{name}.count", 0), "amount": sign * t.get(f"p:{name}.amount", 0)}


def period_figures(t: Mapping[str, int], last_seq: int, version: int = SCHEMA) -> dict[str, Any]:
    """The report figures of the open period from a set of counters (running or rebuilt),
    in the layout and signs of schema `version`."""
    vat_keys = sorted({k.rsplit(".", 1)[0] for k in t if k.startswith("p:vat.")})
    vat = []
    for key in vat_keys:
        _, code, rate = key.split(".")
        vat.append({"code": code, "rate_bp": int(rate), "net": t.get(key + ".net", 0),
                    "vat": t.get(key + ".vat", 0), "gross": t.get(key + ".gross", 0)})
    kinds = sorted({k.split(".")[1] for k in t if k.startswith("p:tender.")},
                   key=lambda k: (TENDER_ORDER.index(k) if k in TENDER_ORDER else 99, k))
    tenders = [{"kind": k, "count": t.get(f"p:tender.{k}.count", 0),
                "amount": t.get(f"p:tender.{k}.amount", 0)} for k in kinds]
    if version < 2:
        return _figures_v1(t, last_seq, vat, tenders)
    result: dict[str, Any] = {name: _pair(t, counter, sign)
                              for name, (counter, sign) in FIGURE_COUNTERS.items()}
    cash_tenders = t.get("p:tender.cash.amount", 0)
    cash = {"float": result["float"]["amount"], "cash_in": result["cash_in"]["amount"],
            "cash_out": result["cash_out"]["amount"], "cash_tenders": cash_tenders}
    cash["expected"] = sum(cash.values())
    turnover = (result["sales"]["amount"] + result["refunds"]["amount"]
                + result["voids_paid"]["amount"])
    tickets = result["sales"]["count"]
    result.update(_common(t, last_seq, vat, tenders))
    result.update({"turnover": turnover, "tickets": tickets,
                   "average_ticket": average_ticket(turnover, tickets), "cash": cash})
    return result


def _common(t: Mapping[str, int], last_seq: int, vat: list[dict[str, Any]],
            tenders: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "z_number": t.get(Z_COUNT_KEY, 0) + 1,
        "first_seq": t.get(LAST_Z_KEY, 0) + 1,
        "last_seq": last_seq,
        "vat": vat,
        "tenders": tenders,
        "rounding": t.get("p:rounding", 0),
        "training_entries": t.get("p:training.count", 0),
        "x_reports": t.get("p:x_reports.count", 0),
        "grand_totals": {"sales": t.get("g:sales", 0), "returns": t.get("g:returns", 0)},
    }


def _figures_v1(t: Mapping[str, int], last_seq: int, vat: list[dict[str, Any]],
                tenders: list[dict[str, Any]]) -> dict[str, Any]:
    """The version-1 layout (for Z closes written in it): all voids in `voids`, absolute."""
    names = ("sales", "refunds", "discounts", "price_overrides", "no_sales", "receipt_copies",
             "float", "cash_in", "cash_out")
    result: dict[str, Any] = {name: _pair(t, name) for name in names}
    opened, paid = _pair(t, "voids.open"), _pair(t, "voids.paid")
    result["voids"] = {"count": opened["count"] + paid["count"],
                       "amount": opened["amount"] - paid["amount"]}
    result["voids_paid"] = paid
    cash_tenders = t.get("p:tender.cash.amount", 0)
    result.update(_common(t, last_seq, vat, tenders))
    result.update({
        "turnover": sum(v["gross"] for v in vat),
        "tickets": result["sales"]["count"],
        "cash": {"float": result["float"]["amount"], "cash_in": result["cash_in"]["amount"],
                 "cash_out": result["cash_out"]["amount"], "cash_tenders": cash_tenders,
                 "expected": (result["float"]["amount"] + result["cash_in"]["amount"]
                              - result["cash_out"]["amount"] + cash_tenders)},
    })
    return result


def close_figures(t: Mapping[str, int], last_seq: int, counted: Mapping[str, Any],
                  approved_by: str | None) -> dict[str, Any]:
    """The data of a z_close entry: the period's figures, the counted cash and
    variance = counted - expected (negative: cash missing)."""
    data = period_figures(t, last_seq)
    data["counted"] = dict(counted)
    data["variance"] = counted["total"] - data["cash"]["expected"]
    data["approved_by"] = approved_by
    return data


def comparable(data: Mapping[str, Any]) -> dict[str, Any]:
    """The figures of a report that the journal alone determines (not the count or approval)."""
    return {k: v for k, v in data.items() if k not in CLOSE_ONLY}


def diff(stored: Any, rebuilt: Any, path: str = "") -> list[str]:
    """Every figure where a stored report and its rebuild disagree, by dotted path."""
    if isinstance(stored, dict) and isinstance(rebuilt, dict):
        out = []
        for key in sorted(set(stored) | set(rebuilt)):
            out += diff(stored.get(key), rebuilt.get(key), f"{path}.{key}" if path else key)
        return out
    if stored != rebuilt:
        return [f"{path}: Z entry says {stored!r}, the journal gives {rebuilt!r}"]
    return []


def rebuilt_z(stored: Mapping[str, Any], t: Mapping[str, int], last_seq: int,
              version: int) -> dict[str, Any]:
    """A stored Z's data as the counters before it give it, in the stored Z's version, with
    the stored cash count (which only the drawer knows)."""
    rebuilt = period_figures(t, last_seq, version)
    counted = stored.get("counted")
    rebuilt["counted"] = counted
    rebuilt["variance"] = ((counted or {}).get("total", 0) if isinstance(counted, dict) else 0) \
        - rebuilt["cash"]["expected"]
    rebuilt["approved_by"] = stored.get("approved_by")
    return rebuilt


def z_differences(stored: Mapping[str, Any], rebuilt: Mapping[str, Any]) -> list[str]:
    """What a stored Z says differently from its rebuild (empty: the same figures)."""
    differences = diff(comparable(stored), comparable(rebuilt))
    if stored.get("variance") != rebuilt["variance"]:
        differences.append(f"variance: Z entry says {stored.get('variance')!r}, the journal "
                           f"gives {rebuilt['variance']!r}")
    return differences


def card_differences(journal: Iterable[Mapping[str, Any]],
                     terminal: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """A Z's card totals per brand against the terminal's own (z_close `card_brands` and
    `terminal_totals`): brand -> journal amount - terminal amount, only where they differ.
    The till prints these lines; head office raises its alert on the same comparison."""
    ours: dict[str, int] = {}
    theirs: dict[str, int] = {}
    for into, rows in ((ours, journal), (theirs, terminal)):
        for row in rows:
            into[str(row["brand"])] = into.get(str(row["brand"]), 0) + int(row["amount"])
    return {brand: ours.get(brand, 0) - theirs.get(brand, 0)
            for brand in sorted(set(ours) | set(theirs))
            if ours.get(brand, 0) != theirs.get(brand, 0)}
