"""What head office needs from a webshop, as an interface other webshops can implement."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

# Statuses in which the webshop has taken the goods out of its stock (WooCommerce lowers its
# stock when an order is paid or put on hold, and gives it back when it is cancelled or
# refunded); in every other status (pending, failed, cancelled, refunded, ...) nothing is taken.
TAKEN_STATUSES = frozenset({"processing", "on-hold", "completed"})


@dataclass(frozen=True)
class OrderLine:
    line_id: str
    sku: str | None  # None: the webshop's code (`code`) is no SKU head office can use
    quantity: int
    name: str = ""
    refunded: int = 0  # pieces of this line refunded (and put back in stock)
    code: str = ""  # the code as the webshop gave it


@dataclass(frozen=True)
class WebOrder:
    order_id: str
    created: str  # ISO 8601, UTC
    lines: tuple[OrderLine, ...]
    email: str = ""
    status: str = "processing"
    modified: str = ""  # ISO 8601, UTC; the order's version ("" = created)
    refunds_known: bool = True  # False: it has refunds whose lines this copy does not carry

    @property
    def version(self) -> str:
        return self.modified or self.created

    def wanted(self, line: OrderLine) -> int:
        """Pieces of `line` the webshop holds out of stock for this order now."""
        if self.status not in TAKEN_STATUSES:
            return 0
        return max(0, line.quantity - line.refunded)


@dataclass
class PushResult:
    """Per SKU: what was updated, what the shop does not know, what failed and why."""

    updated: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)  # products the shop did not have yet


class WebshopError(Exception):
    """A call that failed for good (after retries); the text says which call and why."""


class Webshop(Protocol):
    name: str

    def push_stock(self, levels: dict[str, int]) -> PushResult:
        """Sets the stock shown online per SKU (never below zero)."""

    def push_prices(self, prices: dict[str, int]) -> PushResult:
        """Sets the price per SKU in cents, VAT included."""

    def stock_levels(self) -> dict[str, int]:
        """The stock the webshop shows now per SKU (products whose stock it manages)."""

    def changed_orders(self, modified_after: str | None) -> list[WebOrder]:
        """Every order (any status) changed after `modified_after` (ISO 8601 UTC), oldest
        change first, each with its refunded quantities."""

    def order(self, order_id: str) -> WebOrder:
        """One order as it is now, with its refunded quantities."""

    def favourites(self) -> list[tuple[str, str]]:
        """(customer e-mail, SKU) pairs customers marked as favourites online."""
