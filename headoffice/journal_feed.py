"""Applies the journal head office has stored to stock, purchase history, favourites and
offer redemptions: every terminal's entries in seq order, each exactly once. It sits above
stock, customers and offers, the services it feeds.

Only the contiguous part of a terminal's journal (TerminalState.contiguous_seq) is applied,
and the cursor moves in the same transaction as the changes, so running it again, from any
number of processes or after a crash, never counts an entry twice. Run by
`kassa shop sync` (and its loop), or call `apply_journal()`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from contract.entries import Entry, EntrySchemaError
from contract.product_key import sku_for_code
from headoffice.customers.history import record_purchase
from headoffice.customers.service import add_favourite
from headoffice.models import OfficeEntry, TerminalState
from headoffice.offers import redeem
from headoffice.orm import is_postgres, write_transaction
from headoffice.received import read
from headoffice.stock import ledger
from headoffice.stock.models import FeedCursor

log = logging.getLogger("kassa.office.feed")

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
                entry = _read(terminal, seq, body_text)
                if entry is not None and not entry.training:
                    apply_entry(entry)
                    result.by_type[kind] = result.by_type.get(kind, 0) + 1
            result.entries += 1
        FeedCursor.update(seq=last).where(FeedCursor.terminal == terminal).execute()
        return bool(rows) and last < contiguous and last > cursor.seq


def _read(terminal: str, seq: int, body_text: str) -> Entry | None:
    """A stored body through the contract; one it cannot read is logged and passed over
    (ingest refuses such bodies, so only a database from before the contract has them)."""
    try:
        return read(body_text, strict=False).entry
    except (EntrySchemaError, ValueError) as exc:
        log.warning("entry %s of %s not applied: %s", seq, terminal, exc)
        return None


def apply_entry(entry: Entry) -> None:
    """Applies one journal entry (typed by the contract) to stock, history, favourites and
    redemptions."""
    kind, data = entry.type, entry.data
    origin = f"{entry.terminal}:{entry.seq}"
    location, at = entry.store, ledger.ts_ms(entry.ts)
    if kind in ("sale", "refund") or (kind == "void" and data.scope == "paid"):
        _ticket(entry, origin, location, at)
    elif kind == "goods_received":
        for i, goods in enumerate(data.lines):
            ledger.move(location, goods.sku, goods.quantity, kind, f"{origin}:{i}", at)
            ledger.note_product(goods.sku, goods.name, None)
    elif kind == "stock_count":
        for i, counted in enumerate(data.lines):
            ledger.count(location, counted.sku, counted.counted, f"{origin}:{i}", at)
    elif kind == "offer_redemption":
        redeem.record(entry)
    elif kind == "customer_favourite":
        add_favourite(data.customer_id, data.sku, "till")


def _ticket(entry: Entry, origin: str, location: str, at: int) -> None:
    kind, data = entry.type, entry.data
    for line in data.lines:
        if line.removed:
            continue
        # Lines carry the product's SKU; entries from before it existed name it by their code.
        sku = line.sku or sku_for_code(line.code or "")
        if sku is None:
            continue
        if line.stock_tracked:
            ledger.move(location, sku, -line.stock_units, kind, f"{origin}:{line.line_no}", at)
        if kind == "sale":
            price = line.original_unit_price or line.unit_price
            ledger.note_product(sku, line.name,
                                None if line.weight_g or line.embedded_price else price)
            if data.customer_id:
                record_purchase(data.customer_id, entry, line, sku)
