"""Promotions: the schema head office publishes and the till applies, with its bounds.

Delivered as their own downstream kind on the retained topic `kassa/v1/{store}/promotions`,
one full list per message (a promotion left out is withdrawn), with their own version
sequence (not the catalogue's: a promotion change never waits for, or holds back, a price
delta):

  {"version": 4,
   "promotions": [
     {"id": "p-3for5", "name": "3 voor € 5,00", "version": 2,
      "type": "n_for_price", "n": 3, "price_cents": 500,
      "products": ["08712345678906", "plu:42"], "categories": ["Zuivel"],
      "valid_from": "2026-12-01", "valid_until": "2026-12-31",
      "time_from": "08:00", "time_until": "12:00", "weekdays": [1, 2, 3, 4, 5],
      "stores": ["shopA"]}]}

Types (every one needs `products` and/or `categories`: the goods it covers, a product by its
SKU: GTIN or `plu:N`, contract/product_key.py; a category by its exact catalogue name):
- `n_for_price`: any `n` covered pieces together for `price_cents` (mix & match);
- `buy_get`: buy `buy` covered pieces, `get` more are free (the cheapest of each group);
- `nth_percent`: every `n`-th covered piece at `percent` % off ("2nd at half price": n=2,
  percent=50);
- `percent`: `percent` % off every covered line (also goods sold by weight).

Time window, all optional, in the shop's time zone (TIMEZONE): dates `valid_from` ..
`valid_until` inclusive, hours `time_from` (inclusive) .. `time_until` (exclusive, same day),
ISO `weekdays` (1 = Monday). `stores`: the stores it applies in; empty or absent = every store
that receives it. `name` is what the receipt prints; `version` is the promotion's own edit
counter, journaled with every discount it gave so head office knows which terms applied.

How the till computes the discounts is firmware/promotions.py's business; this module only
says what a valid message is. Errors are contract/downstream.py's DownstreamError (a
PromotionError is one), naming the message, the promotion and the field.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from contract.downstream import MAX_CATEGORY as _MAX_CATEGORY_LEN
from contract.downstream import MAX_PRICE_CENTS, MAX_VERSION, DownstreamError, integer, text
from contract.product_key import parse_sku
from contract.shop_time import SHOP_ZONE

KIND = "promotions"
TIMEZONE = SHOP_ZONE
TYPES = ("n_for_price", "buy_get", "nth_percent", "percent")
MAX_PROMOTIONS = 10_000  # in one message
MAX_PRODUCTS = 10_000  # SKUs one promotion covers
MAX_CATEGORIES = 100  # categories one promotion covers
MAX_ID = 64  # characters of an id (entries.ID)
MAX_NAME = 40  # characters of the receipt text (fits a 58 mm line beside the amount)
MAX_GROUP = 100  # n, buy, get
MAX_STORES = 1000
MAX_PAYLOAD = 16 * 1024 * 1024
FIELDS = frozenset({"id", "name", "version", "type", "n", "price_cents", "buy", "get", "percent",
                    "products", "categories", "valid_from", "valid_until", "time_from",
                    "time_until", "weekdays", "stores"})
TYPE_FIELDS = {"n_for_price": frozenset({"n", "price_cents"}), "buy_get": frozenset({"buy", "get"}),
               "nth_percent": frozenset({"n", "percent"}), "percent": frozenset({"percent"})}
_ID = re.compile(r"[A-Za-z0-9_.:-]{1," + str(MAX_ID) + "}")
_DATE = re.compile(r"\d{4}-\d\d-\d\d")
_TIME = re.compile(r"\d\d:\d\d")


class PromotionError(DownstreamError):
    """A promotions message outside the contract; `where` names message, promotion and field
    (`promotions v4 promotions[2] p-3for5: n`), `reason` what is wrong."""


@dataclass(frozen=True)
class Promotion:
    """One promotion, checked. Unused parameters of its type are 0."""

    id: str
    name: str
    version: int
    type: str
    n: int
    price_cents: int
    buy: int
    get: int
    percent: int
    products: frozenset[str]
    categories: frozenset[str]
    valid_from: dt.date | None
    valid_until: dt.date | None
    time_from: dt.time | None
    time_until: dt.time | None
    weekdays: frozenset[int]
    stores: frozenset[str]

    def covers(self, sku: str, category: str) -> bool:
        return sku in self.products or (bool(category) and category in self.categories)

    def active_at(self, when: dt.datetime, store: str) -> bool:
        """Whether it applies in `store` at `when` (an aware time; read in TIMEZONE)."""
        if self.stores and store not in self.stores:
            return False
        local = when.astimezone(TIMEZONE)
        day, clock = local.date(), local.time().replace(tzinfo=None)
        if self.valid_from is not None and day < self.valid_from:
            return False
        if self.valid_until is not None and day > self.valid_until:
            return False
        if self.weekdays and day.isoweekday() not in self.weekdays:
            return False
        if self.time_from is not None and clock < self.time_from:
            return False
        return self.time_until is None or clock < self.time_until


@dataclass(frozen=True)
class Promotions:
    version: int
    promotions: tuple[Promotion, ...]  # sorted by id

    def active(self, when: dt.datetime, store: str) -> tuple[Promotion, ...]:
        return tuple(p for p in self.promotions if p.active_at(when, store))


def parse_promotions(data: Any) -> Promotions:
    """A whole promotions message checked, or PromotionError naming the first bad field."""
    if not isinstance(data, dict):
        raise PromotionError(KIND, "not an object")
    try:
        version = integer(data, "version", 1, MAX_VERSION, KIND)
    except DownstreamError as exc:
        raise PromotionError(exc.where, exc.reason) from None
    where = f"{KIND} v{version}"
    unknown = set(data) - {"version", "promotions"}
    if unknown:
        raise PromotionError(where, f"unknown field(s) {', '.join(sorted(map(str, unknown)))[:200]}")
    items = data.get("promotions")
    if not isinstance(items, list):
        raise PromotionError(where, "'promotions' is not a list")
    if len(items) > MAX_PROMOTIONS:
        raise PromotionError(where, f"'promotions' has {len(items)} items"
                                    f" (at most {MAX_PROMOTIONS})")
    promotions = [promotion(item, f"{where} promotions[{i}]") for i, item in enumerate(items)]
    seen: set[str] = set()
    for p in promotions:
        if p.id in seen:
            raise PromotionError(where, f"promotion id {p.id} is listed twice")
        seen.add(p.id)
    return Promotions(version, tuple(sorted(promotions, key=lambda p: p.id)))


def promotion(item: Any, where: str) -> Promotion:
    """One promotion of a message, checked."""
    if not isinstance(item, dict):
        raise PromotionError(where, "not an object")
    pid = item.get("id")
    if not isinstance(pid, str) or not _ID.fullmatch(pid):
        raise PromotionError(where, f"'id' is not 1..{MAX_ID} of A-Z a-z 0-9 _ . : -")
    where = f"{where} {pid}"
    try:
        return _promotion(item, pid, where)
    except PromotionError:
        raise
    except DownstreamError as exc:
        raise PromotionError(exc.where, exc.reason) from None


def _promotion(item: dict[str, Any], pid: str, where: str) -> Promotion:
    unknown = set(item) - FIELDS
    if unknown:
        raise PromotionError(where, f"unknown field(s) {', '.join(sorted(map(str, unknown)))[:200]}")
    kind = item.get("type")
    if kind not in TYPES:
        raise PromotionError(where, f"'type' is not one of {', '.join(TYPES)}")
    params = TYPE_FIELDS[kind]
    foreign = (set(item) & set().union(*TYPE_FIELDS.values())) - params
    if foreign:
        raise PromotionError(where, f"{', '.join(sorted(foreign))} not used by type {kind}")
    values = {"n": 0, "price_cents": 0, "buy": 0, "get": 0, "percent": 0}
    bounds = {"n": (2, MAX_GROUP), "price_cents": (0, MAX_PRICE_CENTS), "buy": (1, MAX_GROUP),
              "get": (1, MAX_GROUP), "percent": (1, 100)}
    for key in sorted(params):
        values[key] = integer(item, key, *bounds[key], where)
    products = _strings(item, "products", where, MAX_PRODUCTS, MAX_ID)
    try:
        skus = frozenset(parse_sku(p) for p in products)
    except ValueError as exc:
        raise PromotionError(where, f"products: {exc}") from None
    categories = frozenset(_strings(item, "categories", where, MAX_CATEGORIES, _MAX_CATEGORY_LEN))
    if not skus and not categories:
        raise PromotionError(where, "covers nothing: give 'products' and/or 'categories'")
    valid_from, valid_until = _date(item, "valid_from", where), _date(item, "valid_until", where)
    if valid_from and valid_until and valid_until < valid_from:
        raise PromotionError(where, f"valid_until {valid_until} is before valid_from {valid_from}")
    time_from, time_until = _time(item, "time_from", where), _time(item, "time_until", where)
    if time_from and time_until and time_until <= time_from:
        raise PromotionError(where, f"time_until {time_until:%H:%M} is not after"
                                    f" time_from {time_from:%H:%M}")
    weekdays = item.get("weekdays", [])
    if not isinstance(weekdays, list) or len(weekdays) > 7 or not all(
            isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 7 for d in weekdays):
        raise PromotionError(where, "'weekdays' is not a list of ISO weekdays 1..7 (1 = Monday)")
    stores = _strings(item, "stores", where, MAX_STORES, MAX_ID)
    return Promotion(
        id=pid, name=text(item, "name", where, MAX_NAME, True),
        version=integer(item, "version", 1, MAX_VERSION, where), type=kind,
        products=skus, categories=categories, valid_from=valid_from, valid_until=valid_until,
        time_from=time_from, time_until=time_until, weekdays=frozenset(weekdays),
        stores=frozenset(stores), **values)


def _strings(item: dict[str, Any], key: str, where: str, max_items: int, max_len: int) -> list[str]:
    value = item.get(key, [])
    if not isinstance(value, list):
        raise PromotionError(where, f"{key!r} is not a list")
    if len(value) > max_items:
        raise PromotionError(where, f"{key!r} has {len(value)} items (at most {max_items})")
    for i, entry in enumerate(value):
        if not isinstance(entry, str) or not 0 < len(entry.strip()) <= max_len:
            raise PromotionError(where, f"{key}[{i}] is not text of 1..{max_len} characters")
    return [entry.strip() for entry in value]


def _date(item: dict[str, Any], key: str, where: str) -> dt.date | None:
    value = item.get(key)
    if value is None:
        return None
    try:
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise PromotionError(where, f"{key!r} is not a date YYYY-MM-DD") from None


def _time(item: dict[str, Any], key: str, where: str) -> dt.time | None:
    value = item.get(key)
    if value is None:
        return None
    try:
        if not isinstance(value, str) or not _TIME.fullmatch(value):
            raise ValueError
        return dt.time.fromisoformat(value)
    except ValueError:
        raise PromotionError(where, f"{key!r} is not a time HH:MM (00:00..23:59)") from None
