"""Head office's promotions at the till: the stored message and the pricing rule using it.

The uplink stores the checked `promotions` message (contract/promotions.py) as it came, with
its version, in one transaction (`apply_message`, called by firmware/uplink/downstream.py);
the till reads it back when that version changes, so a till offline for a week still gives
the promotions it holds, switching them on and off by its own clock. The rule runs in the
pricing step after every edit of the ticket (firmware/pricing.py) and puts the engine's
result (firmware/promotions.py) on the ticket with Ticket.set_promotions.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import peewee

from contract.product_key import DEFAULT_LAYOUTS, sku_for_code
from contract.promotions import TIMEZONE, Promotions, parse_promotions
from firmware.models import Meta
from firmware.promotions import Item, PromotionIndex, evaluate
from firmware.ticket import Line, Ticket

PROMOTIONS_VERSION = "promotions_version"
PROMOTIONS_BODY = "promotions_body"


def apply_message(db: peewee.Database, data: dict[str, Any],
                  applied_version: Callable[[str], int],
                  set_version: Callable[[str, int, int], None]) -> tuple[bool, int, str]:
    """Stores a full promotions list when its version is newer than the applied one.
    Returns (applied, version, detail); raises contract PromotionError, storing nothing.
    set_version(key, version, count) records the version and the event to journal."""
    message = parse_promotions(data)
    with db.atomic("IMMEDIATE") if not db.in_transaction() else db.atomic():
        current = applied_version(PROMOTIONS_VERSION)
        if message.version <= current:
            return False, current, f"promotions v{message.version} already applied"
        Meta.insert(key=PROMOTIONS_BODY, value=json.dumps(data, sort_keys=True)) \
            .on_conflict_replace().execute()
        set_version(PROMOTIONS_VERSION, message.version, len(message.promotions))
    return True, message.version, (f"promotions v{message.version}:"
                                   f" {len(message.promotions)} promotions")


def stored() -> Promotions | None:
    """The promotions the uplink stored, or None."""
    row = Meta.get_or_none(Meta.key == PROMOTIONS_BODY)
    return None if row is None else parse_promotions(json.loads(row.value))


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class PromotionRule:
    """The pricing rule of head office's promotions (firmware/pricing.py).

    `clock` gives the ticket's time (an aware datetime; tests set it). `category_of` names
    a product's category (the catalogue's), asked once per product and ticket, so a
    category changed by a catalogue update counts from the next ticket."""

    name = "promotions"

    def __init__(self, db: peewee.Database, store: str, category_of: Callable[[int], str],
                 layouts: tuple = DEFAULT_LAYOUTS,
                 clock: Callable[[], dt.datetime] = _utc_now) -> None:
        self.db, self.store, self.category_of = db, store, category_of
        self.layouts, self.clock = layouts, clock
        self._version: str | None = None
        self._promotions: Promotions | None = None
        self._categories: dict[int, str] = {}
        self._categories_of: Ticket | None = None  # the ticket the categories were read for
        self._index: tuple[tuple[str, dt.datetime], PromotionIndex] | None = None

    def reload(self) -> Promotions | None:
        """Reads the stored promotions again when their version changed."""
        # one plain read per edit (a model query costs several times more)
        row = self.db.execute_sql("SELECT value FROM meta WHERE key = ?",
                                  (PROMOTIONS_VERSION,)).fetchone()
        version = row[0] if row is not None else None
        if version != self._version:
            self._promotions = stored() if version is not None else None
            self._version = version
            self._index = None
        return self._promotions

    def active(self, ticket: Ticket) -> bool:
        return not ticket.tenders and (bool(ticket.promotions) or bool(
            (promotions := self.reload()) is not None and promotions.promotions))

    def items(self, ticket: Ticket, uses_categories: bool) -> list[Item]:
        """The lines that can take a promotion (firmware/promotions.py says which)."""
        items = []
        for line in ticket.active_lines:
            if line.discount or line.original_unit_price is not None:
                continue
            item = self._item(line, uses_categories)
            if item.sku:  # a line that is no product (a deposit, say) takes no promotion
                items.append(item)
        return items

    def _item(self, line: Line, uses_categories: bool) -> Item:
        category = ""
        if uses_categories and line.product_id is not None:
            category = self._categories.get(line.product_id)  # type: ignore[assignment]
            if category is None:
                category = self._categories[line.product_id] = self.category_of(line.product_id)
        sku = line.sku or sku_for_code(line.code, self.layouts) or ""
        if line.weight_g is not None or line.embedded_price is not None:
            return Item(line.line_no, sku, category, line.amount, 1, False)
        return Item(line.line_no, sku, category, line.unit_price, line.quantity, True)

    def given(self, ticket: Ticket) -> list[dict[str, Any]]:
        """The promotions this ticket gets now, as Ticket.promotions holds them."""
        promotions = self.reload()
        if promotions is None or ticket.is_empty:
            return []
        index = self.index_at(promotions, self.clock())
        if not index.promotions:
            return []
        uses_categories = bool(index.by_category)
        if ticket is not self._categories_of:
            self._categories.clear()
            self._categories_of = ticket
        return [a.to_dict() for a in evaluate(self.items(ticket, uses_categories), index)]

    def index_at(self, promotions: Promotions, when: dt.datetime) -> PromotionIndex:
        """The active promotions at `when`, indexed; kept for the minute (windows are whole
        minutes), so most scans reuse it."""
        minute = when.astimezone(TIMEZONE).replace(second=0, microsecond=0)
        key = (self._version or "", minute)
        if self._index is None or self._index[0] != key:
            self._index = (key, PromotionIndex(promotions.active(minute, self.store)))
        return self._index[1]

    def apply(self, ticket: Ticket) -> None:
        ticket.set_promotions(self.given(ticket))
