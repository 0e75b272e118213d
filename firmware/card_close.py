"""The PIN terminal's part of the day close: card totals per brand from the journaled
approvals of the period, beside the terminal's own totals (nexo GetTotals), and their
difference. A difference is a line on the Z and, at head office, an alert
(headoffice/alerts/rules.py reads the z_close entry's card fields).

The terminal is asked before the Z is committed (its answer goes into the Z entry); a
terminal that cannot be reached does not stop the day close: the Z says so instead. After
the Z is journaled the terminal's period is closed (nexo Reconciliation).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from contract import figures
from firmware.journal import Entry
from firmware.models import JournalEntry
from firmware.ports import PaymentTerminal

log = logging.getLogger(__name__)
CARD_ENTRIES = ("sale", "refund", "void")


def journal_brands(first_seq: int, last_seq: int) -> list[dict[str, Any]]:
    """Per brand, the terminal-paid card tenders of entries first_seq..last_seq: sales add,
    refunds and paid voids subtract (training entries never reach the terminal)."""
    brands: dict[str, dict[str, Any]] = {}
    rows = (JournalEntry.select(JournalEntry.body)
            .where(JournalEntry.seq.between(first_seq, last_seq),
                   JournalEntry.type.in_(CARD_ENTRIES)).order_by(JournalEntry.seq))
    for row in rows:
        body = json.loads(row.body)
        if body.get("training"):
            continue
        for tender in body["data"].get("tenders", ()):
            card = tender.get("card")
            if tender["kind"] != "card" or not card:
                continue
            brand = str(card.get("brand", ""))
            into = brands.setdefault(brand, {"brand": brand, "count": 0, "amount": 0})
            into["count"] += 1
            into["amount"] += tender["amount"]
    return [brands[b] for b in sorted(brands)]


class CardClose:
    """Registered with the report service when a terminal is attached."""

    def __init__(self, terminal: PaymentTerminal) -> None:
        self.terminal = terminal

    def prepare(self) -> Callable[[dict[str, Any]], None]:
        """Asks the terminal for its totals (before the Z's transaction); returns what fills
        the Z's data inside it."""
        totals: list[dict[str, Any]] | None = None
        error = ""
        try:
            answer = self.terminal.totals()
            if answer["result"] == "approved":
                totals = [{"brand": brand[:32], "count": v["count"], "amount": v["amount"]}
                          for brand, v in sorted(answer["brands"].items())]
            else:
                error = f"the terminal refused its totals: {answer.get('reason') or 'failed'}"
        except (OSError, ValueError) as exc:
            error = str(exc)
        except Exception as exc:  # noqa: BLE001 (an unreadable answer must not stop the Z)
            error = f"{type(exc).__name__}: {exc}"
        if error:
            log.warning("day close: no card totals from the terminal: %s", error)

        def fill(data: dict[str, Any]) -> None:
            brands = journal_brands(data["first_seq"], data["last_seq"])
            data["card_brands"] = brands
            if totals is None:
                data["terminal_error"] = error[:500]
                return
            data["terminal_totals"] = totals
            data["card_difference"] = sum(figures.card_differences(brands, totals).values())

        return fill

    def after(self, entry: Entry) -> None:
        """The Z is journaled: the terminal closes its period (a failure is only logged: the
        next GetTotals then includes this period, and the Z shows the difference)."""
        try:
            self.terminal.reconcile()
        except Exception as exc:  # noqa: BLE001
            log.warning("Z %s: the terminal's reconciliation failed: %s", entry.seq, exc)
