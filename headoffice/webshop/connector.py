"""What head office needs from a webshop, as an interface other webshops can implement."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class OrderLine:
    line_id: str
    sku: str
    quantity: int
    name: str = ""


@dataclass(frozen=True)
class WebOrder:
    order_id: str
    created: str  # ISO 8601, UTC
    lines: tuple[OrderLine, ...]
    email: str = ""


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

    def new_orders(self, after: str | None) -> list[WebOrder]:
        """Paid orders ready to ship, created after `after` (ISO 8601), oldest first."""

    def favourites(self) -> list[tuple[str, str]]:
        """(customer e-mail, SKU) pairs customers marked as favourites online."""
