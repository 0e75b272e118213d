"""X and Z reports: the day's figures from the running totals, and their rebuild from the journal.

An X report is an interim look (journaled, nothing reset). A Z close is a journal entry that
carries every figure of the period, the counted cash and the variance, and the perpetual
grand totals; it clears the period counters in the same transaction. Because the figures
come from `firmware.totals.changes`, `rebuild_z(journal, n)` can recompute Z number n from
the journal alone and say whether the stored Z agrees.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from firmware import totals as running
from firmware.journal import Journal

TENDER_ORDER = ("cash", "card", "voucher")
COUNTED_FIGURES = ("sales", "refunds", "voids", "discounts", "price_overrides", "no_sales",
                   "receipt_copies", "float", "cash_in", "cash_out")


class ReportError(ValueError):
    """A report that cannot be made as asked (bad cash count, unknown Z number...)."""


def _pair(t: Mapping[str, int], name: str) -> dict[str, int]:
    return {"count": t.get(f"p:{name}.count", 0), "amount": t.get(f"p:{name}.amount", 0)}


def figures(t: Mapping[str, int], last_seq: int) -> dict[str, Any]:
    """The report figures of the open period from a set of counters (running or rebuilt)."""
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
    result: dict[str, Any] = {name: _pair(t, name) for name in COUNTED_FIGURES}
    result["voids_paid"] = _pair(t, "voids.paid")
    cash_tenders = t.get("p:tender.cash.amount", 0)
    expected = (result["float"]["amount"] + result["cash_in"]["amount"]
                - result["cash_out"]["amount"] + cash_tenders)
    result.update({
        "z_number": t.get(running.Z_COUNT_KEY, 0) + 1,
        "first_seq": t.get(running.LAST_Z_KEY, 0) + 1,
        "last_seq": last_seq,
        "turnover": sum(v["gross"] for v in vat),
        "vat": vat,
        "tenders": tenders,
        "tickets": result["sales"]["count"],
        "rounding": t.get("p:rounding", 0),
        "training_entries": t.get("p:training.count", 0),
        "x_reports": t.get("p:x_reports.count", 0),
        "cash": {"float": result["float"]["amount"], "cash_in": result["cash_in"]["amount"],
                 "cash_out": result["cash_out"]["amount"], "cash_tenders": cash_tenders,
                 "expected": expected},
        "grand_totals": {"sales": t.get("g:sales", 0), "returns": t.get("g:returns", 0)},
    })
    return result


def counted_cash(counts: Mapping[int, int], denominations: tuple[int, ...]) -> dict[str, Any]:
    """A cash count by denomination -> {"by_denomination": [[cents, pieces]...], "total"}."""
    allowed = set(denominations)
    rows = []
    for denomination, pieces in sorted(counts.items(), reverse=True):
        if denomination not in allowed:
            raise ReportError(f"{denomination} cents is not a configured denomination "
                              f"({', '.join(str(d) for d in sorted(allowed, reverse=True))})")
        if isinstance(pieces, bool) or not isinstance(pieces, int) or pieces < 0:
            raise ReportError(f"the count of {denomination}-cent pieces must be a whole number "
                              f">= 0, not {pieces!r}")
        if pieces:
            rows.append([denomination, pieces])
    return {"by_denomination": rows, "total": sum(d * n for d, n in rows)}


def x_data(journal: Journal) -> dict[str, Any]:
    """Figures of the open period as they stand; read inside the writing transaction."""
    last_seq, _ = journal.head()
    return figures(running.load(journal.db), last_seq)


def z_data(journal: Journal, counted: dict[str, Any], approved_by: str | None) -> dict[str, Any]:
    """The body data of a z_close entry: figures, the cash count and the variance."""
    data = x_data(journal)
    data["counted"] = counted
    data["variance"] = counted["total"] - data["cash"]["expected"]
    data["approved_by"] = approved_by
    return data


def _comparable(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ("counted", "variance", "approved_by")}


@dataclass(frozen=True)
class Rebuild:
    """Z number n recomputed from the journal, beside what its z_close entry says."""

    z_number: int
    seq: int
    stored: dict[str, Any]
    rebuilt: dict[str, Any]
    differences: list[str]

    @property
    def ok(self) -> bool:
        return not self.differences


def _diff(stored: Any, rebuilt: Any, path: str = "") -> list[str]:
    if isinstance(stored, dict) and isinstance(rebuilt, dict):
        out = []
        for key in sorted(set(stored) | set(rebuilt)):
            out += _diff(stored.get(key), rebuilt.get(key), f"{path}.{key}" if path else key)
        return out
    if stored != rebuilt:
        return [f"{path}: Z entry says {stored!r}, the journal gives {rebuilt!r}"]
    return []


def rebuild_z(journal: Journal, z_number: int) -> Rebuild:
    """Replays the journal from seq 1 to Z number n with the till's own reduction."""
    t: dict[str, int] = {}
    for entry in journal.entries():
        if entry.type == "z_close" and entry.body["data"].get("z_number") == z_number:
            stored = entry.body["data"]
            rebuilt = figures(t, entry.seq - 1)
            rebuilt["counted"] = stored.get("counted")
            rebuilt["variance"] = stored["counted"]["total"] - rebuilt["cash"]["expected"]
            rebuilt["approved_by"] = stored.get("approved_by")
            differences = _diff(_comparable(stored), _comparable(rebuilt))
            if stored.get("variance") != rebuilt["variance"]:
                differences.append(f"variance: Z entry says {stored.get('variance')!r}, the "
                                   f"journal gives {rebuilt['variance']!r}")
            return Rebuild(z_number, entry.seq, stored, rebuilt, differences)
        running.apply(t, running.changes(entry.body))
    raise ReportError(f"there is no Z report number {z_number} in this journal "
                      f"({t.get(running.Z_COUNT_KEY, 0)} Z closes so far)")


def find_z(journal: Journal, z_number: int) -> Any:
    """The z_close entry with that number (via the type index, no full replay)."""
    for row in (journal.db.execute_sql(
            "SELECT seq FROM journal WHERE type = 'z_close' ORDER BY seq").fetchall()):
        entry = journal.get(row[0])
        if entry is not None and entry.body["data"].get("z_number") == z_number:
            return entry
    raise ReportError(f"there is no Z report number {z_number} in this journal")


def totals_in_sync(journal: Journal) -> bool:
    """True when the running totals were last updated by the journal's head entry."""
    last_seq, _ = journal.head()
    return running.load(journal.db).get(running.SEQ_KEY, 0) == last_seq


def resync_totals(journal: Journal) -> dict[str, int]:
    """Rebuilds the running totals from the journal (a fresh or repaired database)."""
    t = running.replay(entry.body for entry in journal.entries())
    running.replace_all(journal.db, t)
    return t
