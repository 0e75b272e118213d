"""X and Z reports: the day's figures from the running totals, and their rebuild from the journal.

An X report is an interim look (journaled, nothing reset). A Z close is a journal entry that
carries every figure of the period, the counted cash and the variance, and the perpetual
grand totals; it clears the period counters in the same transaction. Every figure, its
definition and its sign come from contract/figures.py (docs/GLOSSARY.md), and the counters
from `contract.figures.changes`, so `rebuild_z(journal, n)` recomputes Z number n from the
journal alone, with the same code head office uses, and says whether the stored Z agrees.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contract import figures
from firmware import totals as running
from firmware.journal import Journal


class ReportError(ValueError):
    """A report that cannot be made as asked (bad cash count, unknown Z number...)."""


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


def _counters(journal: Journal) -> dict[str, int]:
    """The running counters; rebuilt from the journal when an older version wrote them."""
    counters = running.load(journal.db)
    if not figures.counters_current(counters):
        counters = resync_totals(journal)
    return counters


def x_data(journal: Journal) -> dict[str, Any]:
    """Figures of the open period as they stand; read inside the writing transaction."""
    last_seq, _ = journal.head()
    return figures.period_figures(_counters(journal), last_seq)


def z_data(journal: Journal, counted: dict[str, Any], approved_by: str | None) -> dict[str, Any]:
    """The body data of a z_close entry: figures, the cash count and the variance."""
    last_seq, _ = journal.head()
    return figures.close_figures(_counters(journal), last_seq, counted, approved_by)


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


def rebuild_z(journal: Journal, z_number: int) -> Rebuild:
    """Replays the journal from seq 1 to Z number n with the till's own reduction, and lays
    the figures out in the version that Z was written in."""
    t: dict[str, int] = {}
    for entry in journal.entries():
        if entry.type == "z_close" and entry.body["data"].get("z_number") == z_number:
            stored = entry.body["data"]
            rebuilt = figures.rebuilt_z(stored, t, entry.seq - 1, entry.body["v"])
            return Rebuild(z_number, entry.seq, stored, rebuilt,
                           figures.z_differences(stored, rebuilt))
        figures.apply(t, figures.changes(entry.body))
    raise ReportError(f"there is no Z report number {z_number} in this journal "
                      f"({t.get(figures.Z_COUNT_KEY, 0)} Z closes so far)")


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
    t = figures.replay(entry.body for entry in journal.entries())
    with journal.transaction():
        running.replace_all(journal.db, t)
        journal.seal_totals()  # rebuilt from the journal itself: sealed to its head
    return t
