"""Head office's downstream messages (catalogue, prices, config, offers): their bounds and checks.

Head office checks a message with these functions before it publishes it, the till again
before it applies it, so the two agree on what is acceptable. Every field has a bound:
a number that fits the till's columns and the journal's schema (contract/entries.py), a
string length, a list size and a whole-payload size, so no value can overflow a column or
a retained message keep a till busy for long.

Versions are counters head office increments by one per publish, one sequence per
publisher (the store's catalogue and prices share one; offers and the fleet config each
have their own). A till applies only a version newer than the one it holds and at most
`MAX_VERSION_JUMP` ahead of it: a huge version would otherwise freeze the sequence, since
every later real version would look old.

  kassa/v1/{store}/catalogue  {"version": 7, "mode": "full"|"delta", "base": 6 (delta),
                               "products": [{gtin|plu, name, price_cents, vat_code, ...}],
                               "remove": ["<gtin or plu>", ...] (delta),
                               "scheduled": [{code, price_cents, valid_from}, ...]}
  kassa/v1/{store}/prices     {"version": 8, "base": 7, "prices": [{gtin|plu, price_cents}],
                               "scheduled": [{code, price_cents, valid_from}, ...]}
  kassa/v1/fleet/config       {"version": 3, "toml": "[ui]\\nlanguage = \\"en\\"\\n"}

A product (head office's product master, headoffice/catalogue/) may also carry:
  "barcodes": ["<GTIN>", ...]   further GTINs of the same product (a multipack, an old label)
  "unit": "piece"|"kg"          agrees with `sold_by_weight` when both are given
  "age_limit": 18               the customer's minimum age (0 or absent: none)
  "deposit": {"code": "statiegeld-015", "amount_cents": 15, "vat_code": "exempt"}
                                the deposit (statiegeld) item sold as its own line with each
                                piece, with the VAT code head office chose for that type

Scheduled prices let a till switch prices by its own clock while offline: `valid_from` is an
ISO 8601 date-time with its UTC offset (head office writes Europe/Amsterdam time, e.g.
"2026-12-07T07:00:00+01:00"); `code` is a product's GTIN (8 to 14 digits) or PLU (1 to 6
digits). From `valid_from` on, the entry's price is the product's price; of several entries
that have begun, the latest counts. A full catalogue's `scheduled` is every pending price of
the store; in a delta catalogue or a prices message it replaces the pending prices of each
product the message names (in `products`, `prices` or `scheduled`), so a product listed
without entries has none pending any more, and a removed product's pending prices go too.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from contract.config import VAT_CODES
from contract.entries import NAME
from contract.gtin import BarcodeError, normalize_gtin

MAX_VERSION = 2**53 - 1  # exact in every JSON reader
MAX_VERSION_JUMP = 1_000_000  # ahead of the applied version (or of 0 for the first)
MAX_PRICE_CENTS = 100_000_000  # one million euro per piece or kg; x 1000 is entries.MAX_CENTS
MAX_PRODUCTS = 500_000  # products in one catalogue message
MAX_PRICES = 500_000  # price changes in one prices message
MAX_REMOVALS = 500_000  # codes removed by one delta
MAX_CATEGORY = 100  # characters of a category name
MAX_CODE = 32  # characters of a code in `remove`
MAX_CONFIG_TOML = 64 * 1024  # characters of a remote config
MAX_OFFER_ITEMS = 1_000_000  # customers, and offers, in one offers message
MAX_PAYLOAD = 128 * 1024 * 1024  # bytes of one message (500,000 products fit in ~60 MB)
MAX_BARCODES = 32  # further GTINs of one product
MAX_AGE_LIMIT = 25  # years; the Dutch limits are 16 (once) and 18 (alcohol, tobacco)
MAX_DEPOSIT_CENTS = 10_000  # one deposit (statiegeld) item: EUR 100 (a crate is EUR 3.90)
MAX_DEPOSIT_CODE = 32  # characters of a deposit type's code
MAX_SCHEDULED = 500_000  # scheduled prices in one message
MAX_VALID_FROM = 40  # characters of a scheduled price's date-time
UNITS = ("piece", "kg")
# promotions: sealed and routed like the rest; its body is the product master's (issue 15)
KINDS = ("catalogue", "prices", "config", "offers", "promotions")
CONFIG_SECTIONS = frozenset({"ui", "tax", "cash"})  # what head office's config may set at a till
FLAGS = {"stock_tracked": True, "active": True, "sold_by_weight": False, "favourite": False}
PRODUCT_FIELDS = frozenset({"gtin", "plu", "name", "price_cents", "vat_code", "category", *FLAGS,
                            "barcodes", "unit", "age_limit", "deposit"})
DEPOSIT_FIELDS = frozenset({"code", "amount_cents", "vat_code"})
SCHEDULED_FIELDS = frozenset({"code", "price_cents", "valid_from"})
DEPOSIT_CODE = re.compile(r"[a-z0-9][a-z0-9._-]*")


class DownstreamError(ValueError):
    """A downstream message outside the contract. `where` names the message and field
    (`catalogue v7 products[3]: price_cents`), `reason` what is wrong with it."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}" if where else reason)
        self.where, self.reason = where, reason


@dataclass(frozen=True)
class Deposit:
    """The deposit (statiegeld) item that goes with each piece of a product."""

    code: str  # the deposit type, e.g. statiegeld-015
    amount_cents: int
    vat_code: str


@dataclass(frozen=True)
class ScheduledPrice:
    """A price that takes effect at `valid_from` (aware) for the product with `code`."""

    code: str  # GTIN-14 or PLU without leading zeros, as normalised
    gtin: str | None
    plu: str | None
    price_cents: int
    valid_from: dt.datetime

    @property
    def valid_from_text(self) -> str:
        return self.valid_from.isoformat()


@dataclass(frozen=True)
class ProductRow:
    """One product of a catalogue message, checked and normalised (GTIN-14, PLU without
    leading zeros, name and category stripped). The fields after `favourite` came with head
    office's product master; a message without them gets the defaults."""

    gtin: str | None
    plu: str | None
    name: str
    price_cents: int
    vat_code: str
    category: str
    stock_tracked: bool
    active: bool
    sold_by_weight: bool
    favourite: bool
    barcodes: tuple[str, ...] = ()  # further GTIN-14s
    unit: str = "piece"  # piece | kg (kg exactly when sold_by_weight)
    age_limit: int = 0  # years; 0 = none
    deposit: Deposit | None = None

    @property
    def code(self) -> str:
        """The key a scheduled price or a removal names: the GTIN, else the PLU."""
        return self.gtin or self.plu or ""


@dataclass(frozen=True)
class Catalogue:
    version: int
    mode: str  # full | delta
    base: int | None  # the version a delta builds on
    products: tuple[ProductRow, ...]
    remove: tuple[str, ...]  # codes as sent (a GTIN or a PLU)
    scheduled: tuple[ScheduledPrice, ...] = ()


@dataclass(frozen=True)
class PriceChange:
    gtin: str | None
    plu: str | None
    price_cents: int


@dataclass(frozen=True)
class Prices:
    version: int
    base: int
    prices: tuple[PriceChange, ...]
    scheduled: tuple[ScheduledPrice, ...] = ()


def check_size(kind: str, payload: bytes) -> None:
    if kind not in KINDS:
        raise DownstreamError(kind, f"unknown message kind (one of {', '.join(KINDS)})")
    if len(payload) > MAX_PAYLOAD:
        raise DownstreamError(kind, f"{len(payload)} bytes exceed {MAX_PAYLOAD}")


def integer(data: dict[str, Any], key: str, lo: int, hi: int, where: str = "") -> int:
    """data[key] as an int in lo..hi (a bool or float is not an int), else DownstreamError."""
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise DownstreamError(where, f"{key!r} is not an integer {lo}..{hi}"
                              f" (got {_shown(value)})")
    return value


def version_of(kind: str, data: dict[str, Any]) -> int:
    return integer(data, "version", 1, MAX_VERSION, kind)


def check_version(kind: str, version: int, applied: int) -> None:
    """Refuses a version too far ahead of the applied one (which would freeze the sequence)."""
    if version - applied > MAX_VERSION_JUMP:
        raise DownstreamError(f"{kind} v{version}", f"jumps {version - applied} ahead of the"
                              f" applied v{applied} (at most {MAX_VERSION_JUMP})")


def text(data: dict[str, Any], key: str, where: str, max_len: int, required: bool) -> str:
    """A stripped one-line string of at most max_len characters, without control characters
    or bidirectional overrides (which would garble the receipt and the screen)."""
    value = data.get(key, None if required else "")
    if not isinstance(value, str):
        raise DownstreamError(where, f"{key!r} is {'missing' if value is None else 'not a string'}")
    value = value.strip()
    if required and not value:
        raise DownstreamError(where, f"{key!r} is empty")
    if len(value) > max_len:
        raise DownstreamError(where, f"{key!r} has {len(value)} characters (at most {max_len})")
    bad = _CONTROL.search(value)
    if bad is not None:
        raise DownstreamError(where, f"{key!r} contains control character U+{ord(bad[0]):04X}")
    return value


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def codes(item: dict[str, Any], where: str) -> tuple[str | None, str | None]:
    """(GTIN-14, PLU) of an item; at least one is given."""
    gtin_text, plu = item.get("gtin"), item.get("plu")
    if gtin_text is None and plu is None:
        raise DownstreamError(where, "needs a 'gtin' or a 'plu'")
    gtin = None
    if gtin_text is not None:
        if not isinstance(gtin_text, str | int) or isinstance(gtin_text, bool) \
                or len(str(gtin_text)) > MAX_CODE:
            raise DownstreamError(where, f"gtin {_shown(gtin_text)} is not a barcode")
        try:
            gtin = normalize_gtin(str(gtin_text))
        except BarcodeError as exc:
            raise DownstreamError(where, f"gtin: {exc}") from None
    if plu is not None:
        if not isinstance(plu, str | int) or isinstance(plu, bool):
            raise DownstreamError(where, f"plu {_shown(plu)} is not 1 to 6 digits")
        plu = str(plu)
        if not plu.isascii() or not plu.isdigit() or len(plu) > 6:
            raise DownstreamError(where, f"plu {_shown(plu)} is not 1 to 6 digits")
        plu = plu.lstrip("0") or "0"
    return gtin, plu


def product(item: Any, where: str) -> ProductRow:
    if not isinstance(item, dict):
        raise DownstreamError(where, "not an object")
    unknown = set(item) - PRODUCT_FIELDS
    if unknown:
        raise DownstreamError(where, f"unknown field(s) {', '.join(sorted(map(str, unknown)))[:200]}")
    gtin, plu = codes(item, where)
    vat = item.get("vat_code")
    if vat not in VAT_CODES:
        raise DownstreamError(where, f"vat_code {_shown(vat)} is not one of {', '.join(VAT_CODES)}")
    flags = {}
    for flag, default in FLAGS.items():
        value = item.get(flag, default)
        if not isinstance(value, bool):
            raise DownstreamError(where, f"{flag!r} is not true or false")
        flags[flag] = value
    unit = item.get("unit", "kg" if flags["sold_by_weight"] else "piece")
    if unit not in UNITS:
        raise DownstreamError(where, f"unit {_shown(unit)} is not one of {', '.join(UNITS)}")
    if "sold_by_weight" in item and flags["sold_by_weight"] != (unit == "kg"):
        raise DownstreamError(where, f"unit {unit!r} disagrees with sold_by_weight"
                              f" {flags['sold_by_weight']}")
    flags["sold_by_weight"] = unit == "kg"
    age = integer(item, "age_limit", 0, MAX_AGE_LIMIT, where) if "age_limit" in item else 0
    return ProductRow(gtin=gtin, plu=plu, name=text(item, "name", where, NAME, True),
                      price_cents=integer(item, "price_cents", 0, MAX_PRICE_CENTS, where),
                      vat_code=vat, category=text(item, "category", where, MAX_CATEGORY, False),
                      **flags, barcodes=_barcodes(item, gtin, where), unit=unit, age_limit=age,
                      deposit=deposit(item.get("deposit"), f"{where} deposit"))


def _barcodes(item: dict[str, Any], gtin: str | None, where: str) -> tuple[str, ...]:
    """The further GTINs of a product, normalised; none repeats the main one or another."""
    listed = _list(item, "barcodes", where, MAX_BARCODES, False)
    out: list[str] = []
    for i, code in enumerate(listed):
        if not isinstance(code, str) or len(code) > MAX_CODE:
            raise DownstreamError(where, f"barcodes[{i}] {_shown(code)} is not a barcode")
        try:
            normal = normalize_gtin(code)
        except BarcodeError as exc:
            raise DownstreamError(where, f"barcodes[{i}]: {exc}") from None
        if normal == gtin or normal in out:
            raise DownstreamError(where, f"barcodes[{i}] {code} is listed twice")
        out.append(normal)
    if out and gtin is None:
        raise DownstreamError(where, "has 'barcodes' but no 'gtin'")
    return tuple(out)


def deposit(value: Any, where: str) -> Deposit | None:
    """A product's deposit item, or None when it has none (absent or null)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise DownstreamError(where, "not an object")
    unknown = set(value) - DEPOSIT_FIELDS
    if unknown:
        raise DownstreamError(where, f"unknown field(s) {', '.join(sorted(map(str, unknown)))[:200]}")
    code = text(value, "code", where, MAX_DEPOSIT_CODE, True)
    if not DEPOSIT_CODE.fullmatch(code):
        raise DownstreamError(where, f"code {code!r} is not lower-case letters, digits, '.', '-'"
                              " or '_'")
    vat = value.get("vat_code")
    if vat not in VAT_CODES:
        raise DownstreamError(where, f"vat_code {_shown(vat)} is not one of {', '.join(VAT_CODES)}")
    return Deposit(code, integer(value, "amount_cents", 1, MAX_DEPOSIT_CENTS, where), vat)


def code_key(value: Any, where: str) -> tuple[str, str | None, str | None]:
    """(normalised code, GTIN-14, PLU) of a code naming a product: up to 6 digits is a PLU,
    8 to 14 digits a GTIN (as the till's scanner reads them)."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() \
            or len(value) > MAX_CODE:
        raise DownstreamError(where, f"code {_shown(value)} is not a GTIN or a PLU")
    if len(value) <= 6:
        plu = value.lstrip("0") or "0"
        return plu, None, plu
    try:
        gtin = normalize_gtin(value)
    except BarcodeError as exc:
        raise DownstreamError(where, f"code: {exc}") from None
    return gtin, gtin, None


def valid_from(value: Any, where: str) -> dt.datetime:
    """An ISO 8601 date-time with its UTC offset (a time without one is ambiguous at a till
    in another zone or around the change to summer time)."""
    if not isinstance(value, str) or len(value) > MAX_VALID_FROM:
        raise DownstreamError(where, f"valid_from {_shown(value)} is not a date-time")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise DownstreamError(where, f"valid_from {_shown(value)} is not an ISO 8601"
                              " date-time") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise DownstreamError(where, f"valid_from {value!r} has no UTC offset")
    return moment


def scheduled(data: dict[str, Any], where: str) -> tuple[ScheduledPrice, ...]:
    """A message's `scheduled` list, checked; one entry per product and moment."""
    items = _list(data, "scheduled", where, MAX_SCHEDULED, False)
    out, seen = [], set()
    for i, item in enumerate(items):
        at = f"{where} scheduled[{i}]"
        if not isinstance(item, dict):
            raise DownstreamError(at, "not an object")
        unknown = set(item) - SCHEDULED_FIELDS
        if unknown:
            raise DownstreamError(at, f"unknown field(s) {', '.join(sorted(map(str, unknown)))[:200]}")
        code, gtin, plu = code_key(item.get("code"), at)
        moment = valid_from(item.get("valid_from"), at)
        key = (code, moment)
        if key in seen:
            raise DownstreamError(at, f"{code} has two prices from {moment.isoformat()}")
        seen.add(key)
        out.append(ScheduledPrice(code, gtin, plu,
                                  integer(item, "price_cents", 0, MAX_PRICE_CENTS, at), moment))
    return tuple(out)


def _list(data: dict[str, Any], key: str, where: str, max_items: int, required: bool) -> list:
    value = data.get(key, None if required else [])
    if not isinstance(value, list):
        raise DownstreamError(where, f"{key!r} is not a list")
    if len(value) > max_items:
        raise DownstreamError(where, f"{key!r} has {len(value)} items (at most {max_items})")
    return value


def _unique(keys: list[str | None], where: str, what: str) -> None:
    seen: set[str] = set()
    for key in keys:
        if key is None:
            continue
        if key in seen:
            raise DownstreamError(where, f"{what} {key} is listed twice")
        seen.add(key)


def parse_catalogue(data: dict[str, Any]) -> Catalogue:
    """A whole catalogue message checked, or DownstreamError naming the first bad field."""
    version = version_of("catalogue", data)
    where = f"catalogue v{version}"
    mode = data.get("mode")
    if mode not in ("full", "delta"):
        raise DownstreamError(where, "'mode' must be 'full' or 'delta'")
    base = integer(data, "base", 0, version - 1, where) if mode == "delta" else None
    items = _list(data, "products", where, MAX_PRODUCTS, True)
    rows = tuple(product(item, f"{where} products[{i}]") for i, item in enumerate(items))
    _unique([g for r in rows for g in (r.gtin, *r.barcodes)], where, "gtin")
    _unique([r.plu for r in rows], where, "plu")
    removals = _list(data, "remove", where, MAX_REMOVALS, False)
    if mode == "full" and removals:
        raise DownstreamError(where, "a full catalogue has no 'remove'")
    if not all(isinstance(r, str) and 0 < len(r) <= MAX_CODE for r in removals):
        raise DownstreamError(where, f"'remove' is not a list of codes (1..{MAX_CODE} characters)")
    pending = scheduled(data, where)
    if mode == "full":
        listed = {r.gtin for r in rows} | {r.plu for r in rows}
        for entry in pending:
            if entry.code not in listed:
                raise DownstreamError(where, f"scheduled price for {entry.code}, which the"
                                      " catalogue does not list")
    return Catalogue(version, mode, base, rows, tuple(removals), pending)


def parse_prices(data: dict[str, Any]) -> Prices:
    version = version_of("prices", data)
    where = f"prices v{version}"
    base = integer(data, "base", 0, version - 1, where)
    items = _list(data, "prices", where, MAX_PRICES, True)
    pending = scheduled(data, where)
    if not items and not pending:
        raise DownstreamError(where, "'prices' and 'scheduled' are empty")
    changes = []
    for i, item in enumerate(items):
        at = f"{where} prices[{i}]"
        if not isinstance(item, dict):
            raise DownstreamError(at, "not an object")
        gtin, plu = codes(item, at)
        changes.append(PriceChange(gtin, plu, integer(item, "price_cents", 0, MAX_PRICE_CENTS, at)))
    _unique([c.gtin or f"plu {c.plu}" for c in changes], where, "product")
    return Prices(version, base, tuple(changes), pending)


def parse_config(data: dict[str, Any]) -> tuple[int, str]:
    """(version, TOML text) of a config message; what the TOML says is contract/config's."""
    version = version_of("config", data)
    toml = data.get("toml")
    if not isinstance(toml, str):
        raise DownstreamError(f"config v{version}", "'toml' is not a string")
    if len(toml) > MAX_CONFIG_TOML:
        raise DownstreamError(f"config v{version}", f"'toml' has {len(toml)} characters"
                              f" (at most {MAX_CONFIG_TOML})")
    return version, toml


def check_offers_size(data: dict[str, Any]) -> None:
    """The list sizes of an offers message; its fields are firmware/offers.py's check."""
    where = f"offers v{version_of('offers', data)}"
    for key in ("customers", "offers", "forget"):
        _list(data, key, where, MAX_OFFER_ITEMS, False)


def _shown(value: object) -> str:
    text_ = repr(value)
    return text_ if len(text_) <= 40 else text_[:37] + "..."
