"""The Z-report archive: every Z close rebuilt from the journal and compared with the Z itself.

The rebuild replays the terminal's entries with the till's own reduction (contract/figures.py),
so every figure of the Z, the perpetual grand totals included, is compared
and a till whose Z disagrees with its own journal shows up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from contract import figures


@dataclass
class ZCheck:
    terminal: str
    seq: int
    ts: str
    z_number: int
    from_seq: int
    stated: dict[str, Any]
    rebuilt: dict[str, Any]
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def z_list(store: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    from headoffice.models import OfficeEntry

    query = (OfficeEntry.select(OfficeEntry.store, OfficeEntry.terminal, OfficeEntry.seq,
                                OfficeEntry.ts)
             .where(OfficeEntry.type == "z_close")
             .order_by(OfficeEntry.ts.desc()).limit(limit))
    if store:
        query = query.where(OfficeEntry.store == store)
    return list(query.dicts())


def check_z(terminal: str, seq: int) -> ZCheck:
    """Replays the terminal's entries before the Z with the till's own reduction and compares."""
    from headoffice.models import OfficeEntry

    row = OfficeEntry.get_or_none((OfficeEntry.terminal == terminal) & (OfficeEntry.seq == seq)
                                  & (OfficeEntry.type == "z_close"))
    if row is None:
        raise LookupError(f"terminal {terminal} has no Z close at entry {seq}")
    t: dict[str, int] = {}
    expected = 1
    gaps = []
    query = (OfficeEntry.select(OfficeEntry.seq, OfficeEntry.body)
             .where((OfficeEntry.terminal == terminal) & (OfficeEntry.seq < seq))
             .order_by(OfficeEntry.seq))
    for entry in query.iterator():
        if entry.seq != expected:
            gaps.append(f"entries {expected}..{entry.seq - 1} have not reached head office")
        expected = entry.seq + 1
        figures.apply(t, figures.changes(json.loads(entry.body)))
    if expected != seq:
        gaps.append(f"entries {expected}..{seq - 1} have not reached head office")
    body = json.loads(row.body)
    stated = body.get("data") or {}
    rebuilt = figures.rebuilt_z(stated, t, seq - 1, int(body.get("v", 1)))
    differences = gaps + figures.z_differences(stated, rebuilt)
    return ZCheck(terminal, seq, row.ts, int(stated.get("z_number", 0)),
                  int(rebuilt.get("first_seq", 1)), stated, rebuilt, differences)
