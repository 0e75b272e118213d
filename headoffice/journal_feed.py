"""Applies the journal head office has stored to stock, purchase history, favourites and
offer redemptions: every terminal's entries in seq order, each exactly once. It sits above
stock, customers and offers, the services it feeds.

Only the contiguous part of a terminal's journal (TerminalState.contiguous_seq) is applied,
and the cursor moves in the same transaction as the changes, so running it again, from any
number of processes or after a crash, never counts an entry twice. Run by
`kassa shop sync` (and its loop), or call `apply_journal()`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from contract.product_key import sku_for_code
from headoffice.customers.history import record_purchase
from headoffice.customers.service import add_favourite
from headoffice.models import OfficeEntry, TerminalState
from headoffice.offers import redeem
from headoffice.orm import is_postgres, write_transaction
from headoffice.stock import ledger
from headoffice.stock.models import FeedCursor

CHUNK = 2000
TYPES = ("sale", "refund", "void", "goods_received", "stock_count", "offer_redemption",
         "customer_favourite")


@dataclass
class FeedResult:
    entries: int = 0
    by_type: dict[str, int] = field(default_factory=dict)


def apply_journal() -> FeedResult:
    result = FeedResult()
    for terminal, contiguous in TerminalState.select(
            TerminalState.terminal, TerminalState.contiguous_seq).tuples():
        while _step(terminal, contiguous, result):
            pass
    return result


def _step(terminal: str, contiguous: int, result: FeedResult) -> bool:
    with write_transaction():
        query = FeedCursor.select().where(FeedCursor.terminal == terminal)
        cursor = (query.for_update() if is_postgres() else query).first()
        if cursor is None:
            FeedCursor.insert(terminal=terminal, seq=0).on_conflict_ignore().execute()
            cursor = FeedCursor.get(FeedCursor.terminal == terminal)
        if cursor.seq >= contiguous:
            return False
        rows = list(OfficeEntry.select(OfficeEntry.seq, OfficeEntry.type, OfficeEntry.body)
                    .where(OfficeEntry.terminal == terminal, OfficeEntry.seq > cursor.seq,
                           OfficeEntry.seq <= contiguous)
                    .order_by(OfficeEntry.seq).limit(CHUNK).tuples())
        last = cursor.seq
        for seq, kind, body_text in rows:
            if seq != last + 1:
                break
            last = seq
            if kind in TYPES:
                body = json.loads(body_text)
                if not body.get("training"):
                    apply_entry(body)
                    result.by_type[kind] = result.by_type.get(kind, 0) + 1
            result.entries += 1
        FeedCursor.update(seq=last).where(FeedCursor.terminal == terminal).execute()
        return bool(rows) and last < contiguous and last > cursor.seq


def apply_entry(body: dict[str, Any]) -> None:
    kind, data = body["type"], body.get("data") or {}
    origin = f"{body['terminal']}:{body['seq']}"
    location, at = body["store"], ledger.ts_ms(body["ts"])
    if kind in ("sale", "refund") or (kind == "void" and data.get("scope") == "paid"):
        _ticket(body, data, origin, location, at)
    elif kind == "goods_received":
        for i, line in enumerate(data.get("lines", ())):
            ledger.move(location, line["sku"], int(line["quantity"]), kind, f"{origin}:{i}", at)
            ledger.note_product(line["sku"], line.get("name", ""), None)
    elif kind == "stock_count":
        for i, line in enumerate(data.get("lines", ())):
            ledger.count(location, line["sku"], int(line["counted"]), f"{origin}:{i}", at)
    elif kind == "offer_redemption":
        redeem.record(body)
    elif kind == "customer_favourite":
        add_favourite(str(data.get("customer_id")), str(data.get("sku")), "till")


def _ticket(body: dict[str, Any], data: dict[str, Any], origin: str, location: str,
            at: int) -> None:
    kind = body["type"]
    for line in data.get("lines", ()):
        if line.get("removed"):
            continue
        # Lines carry the product's SKU; entries from before it existed name it by their code.
        sku = line.get("sku") or sku_for_code(str(line.get("code") or ""))
        if sku is None:
            continue
        if line.get("stock_tracked", True):
            ledger.move(location, sku, -int(line["stock_units"]), kind,
                        f"{origin}:{line['line_no']}", at)
        if kind == "sale":
            price = line.get("original_unit_price") or line.get("unit_price")
            ledger.note_product(sku, str(line.get("name", "")),
                                None if line.get("weight_g") or line.get("embedded_price") else price)
            if data.get("customer_id"):
                record_purchase(str(data["customer_id"]), body, line, sku)
