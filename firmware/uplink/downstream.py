"""Applies head office's catalogue, price and config messages to the till database.

Each message is checked completely first and then applied in one SQLite transaction, so it
is either fully applied or not at all. Catalogue and price messages of a store share one
version sequence: a full catalogue applies when its version is newer than the applied one,
a delta (price list or partial catalogue) only on top of the version named in its `base`.
Re-delivered (retained) messages with an already applied version are ignored quietly.

  kassa/v1/{store}/catalogue  {"version": 7, "mode": "full"|"delta", "base": 6 (delta),
                               "products": [{gtin|plu, name, price_cents, vat_code, ...}],
                               "remove": ["<gtin or plu>", ...] (delta)}
  kassa/v1/{store}/prices     {"version": 8, "base": 7, "prices": [{gtin|plu, price_cents}]}
  kassa/v1/fleet/config       {"version": 3, "toml": "[ui]\\nlanguage = \\"en\\"\\n"}
  kassa/v1/{store}/offers     customers and personal offers, a full snapshot (firmware/offers.py)
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from typing import Any

import peewee

from contract.config import ConfigError, parse_config
from contract.gtin import BarcodeError, normalize_gtin
from contract.wire import ProtocolError, json_object
from firmware.models import DownstreamReject, Meta, Product
from firmware.offers import OfferMessageError, apply_message

VAT_CODES = ("high", "low", "zero", "exempt")
CATALOGUE_VERSION = "catalogue_version"
CONFIG_VERSION = "remote_config_version"
CONFIG_TOML = "remote_config_toml"
REMOTE_CONFIG_SECTIONS = frozenset({"ui", "tax", "cash"})
_FLAGS = {"stock_tracked": True, "active": True, "sold_by_weight": False, "favourite": False}


class Rejected(ValueError):
    """A downstream message that was refused; nothing of it was applied."""


class OutOfSequence(Rejected):
    """A delta whose base is not the applied version; it may apply after a newer full one."""


@dataclass(frozen=True)
class Outcome:
    applied: bool
    version: int
    detail: str


def applied_version(key: str) -> int:
    row = Meta.get_or_none(Meta.key == key)
    return int(row.value) if row else 0


class Downstream:
    """Validates and applies one downstream message per call."""

    def __init__(self, db: peewee.SqliteDatabase) -> None:
        self.db = db

    def apply(self, kind: str, payload: bytes) -> Outcome:
        """kind is catalogue, prices or config. Raises Rejected (and records it) on bad input."""
        try:
            data = _object(payload)
            handler = {"catalogue": self._catalogue, "prices": self._prices,
                       "config": self._config, "offers": self._offers}[kind]
            return handler(data)
        except Rejected as exc:
            if not isinstance(exc, OutOfSequence):
                self.record_reject(kind, str(exc), payload)
            raise

    def record_reject(self, kind: str, reason: str, payload: bytes) -> None:
        with self.db.atomic("IMMEDIATE"):
            DownstreamReject.create(
                received=dt.datetime.now().astimezone().isoformat(timespec="milliseconds"),
                kind=kind, reason=reason[:500], payload=payload[:4096].decode("utf-8", "replace"),
            )

    def _catalogue(self, data: dict[str, Any]) -> Outcome:
        version = _int(data, "version", minimum=1)
        mode = data.get("mode")
        if mode not in ("full", "delta"):
            raise Rejected(f"catalogue v{version}: 'mode' must be 'full' or 'delta'")
        products = data.get("products")
        if not isinstance(products, list):
            raise Rejected(f"catalogue v{version}: 'products' is not a list")
        rows = [_product(item, f"catalogue v{version} products[{i}]")
                for i, item in enumerate(products)]
        keys = [r["gtin"] or f"plu:{r['plu']}" for r in rows]
        if len(set(keys)) != len(keys):
            raise Rejected(f"catalogue v{version}: a product is listed twice")
        removals = data.get("remove", [])
        if mode == "full" and removals:
            raise Rejected(f"catalogue v{version}: a full catalogue has no 'remove'")
        if not isinstance(removals, list) or not all(isinstance(r, str) for r in removals):
            raise Rejected(f"catalogue v{version}: 'remove' is not a list of codes")
        with self.db.atomic("IMMEDIATE"):
            current = applied_version(CATALOGUE_VERSION)
            if version <= current:
                return Outcome(False, current, f"catalogue v{version} already applied")
            if mode == "delta":
                self._check_base(data, version, current)
            for row in rows:
                _upsert(row)
            if mode == "full":
                listed_gtins = [r["gtin"] for r in rows if r["gtin"]]
                listed_plus = [r["plu"] for r in rows if r["plu"] and not r["gtin"]]
                (Product.update(active=False)
                 .where(Product.gtin.not_in(listed_gtins or [""]) | Product.gtin.is_null(),
                        Product.plu.not_in(listed_plus or [""]) | Product.plu.is_null())
                 .execute())
            for code in removals:
                Product.update(active=False).where(_by_code(code)).execute()
            _set_version(CATALOGUE_VERSION, version)
        return Outcome(True, version, f"catalogue v{version} {mode}: {len(rows)} products")

    def _prices(self, data: dict[str, Any]) -> Outcome:
        version = _int(data, "version", minimum=1)
        prices = data.get("prices")
        if not isinstance(prices, list) or not prices:
            raise Rejected(f"prices v{version}: 'prices' is not a non-empty list")
        changes = []
        for i, item in enumerate(prices):
            where = f"prices v{version} prices[{i}]"
            if not isinstance(item, dict):
                raise Rejected(f"{where}: not an object")
            gtin, plu = _codes(item, where)
            changes.append((gtin, plu, _int(item, "price_cents", minimum=0, where=where)))
        with self.db.atomic("IMMEDIATE"):
            current = applied_version(CATALOGUE_VERSION)
            if version <= current:
                return Outcome(False, current, f"prices v{version} already applied")
            self._check_base(data, version, current)
            for gtin, plu, cents in changes:
                query = Product.gtin == gtin if gtin else Product.plu == plu
                if Product.update(price_cents=cents).where(query).execute() != 1:
                    # raising rolls the whole transaction back: no half-applied price list
                    raise Rejected(f"prices v{version}: unknown product {gtin or plu}")
            _set_version(CATALOGUE_VERSION, version)
        return Outcome(True, version, f"prices v{version}: {len(changes)} prices")

    def _config(self, data: dict[str, Any]) -> Outcome:
        version = _int(data, "version", minimum=1)
        text = data.get("toml")
        if not isinstance(text, str):
            raise Rejected(f"config v{version}: 'toml' is not a string")
        try:
            parse_config(text, source=f"fleet config v{version}")
        except ConfigError as exc:
            raise Rejected(f"config v{version}: {exc}") from None
        sections = set(tomllib.loads(text))
        if not sections <= REMOTE_CONFIG_SECTIONS:
            extra = ", ".join(sorted(sections - REMOTE_CONFIG_SECTIONS))
            raise Rejected(f"config v{version}: section(s) {extra} cannot be set remotely")
        with self.db.atomic("IMMEDIATE"):
            current = applied_version(CONFIG_VERSION)
            if version <= current:
                return Outcome(False, current, f"config v{version} already applied")
            Meta.insert(key=CONFIG_TOML, value=text).on_conflict_replace().execute()
            _set_version(CONFIG_VERSION, version)
        return Outcome(True, version, f"config v{version}: {', '.join(sorted(sections))}")

    def _offers(self, data: dict[str, Any]) -> Outcome:
        """Customers and personal offers of the store (firmware/offers.py), a full snapshot."""
        try:
            applied, version, detail = apply_message(self.db, data, applied_version, _set_version)
        except OfferMessageError as exc:
            raise Rejected(str(exc)) from None
        return Outcome(applied, version, detail)

    @staticmethod
    def _check_base(data: dict[str, Any], version: int, current: int) -> None:
        base = _int(data, "base", minimum=0)
        if base >= version:
            raise Rejected(f"v{version}: base {base} is not older than the version")
        if base != current:
            raise OutOfSequence(f"v{version} builds on v{base} but v{current} is applied")


def _object(payload: bytes) -> dict[str, Any]:
    try:
        return json_object(payload)
    except ProtocolError as exc:
        raise Rejected(str(exc)) from None


def _int(data: dict[str, Any], key: str, minimum: int, where: str = "") -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise Rejected(f"{where + ': ' if where else ''}{key!r} is not an integer >= {minimum}")
    return value


def _codes(item: dict[str, Any], where: str) -> tuple[str | None, str | None]:
    gtin_text, plu = item.get("gtin"), item.get("plu")
    if gtin_text is None and plu is None:
        raise Rejected(f"{where}: needs a 'gtin' or a 'plu'")
    gtin = None
    if gtin_text is not None:
        try:
            gtin = normalize_gtin(str(gtin_text))
        except BarcodeError as exc:
            raise Rejected(f"{where}: gtin: {exc}") from None
    if plu is not None:
        plu = str(plu)
        if not plu.isdigit() or len(plu) > 6:
            raise Rejected(f"{where}: plu {plu!r} is not 1 to 6 digits")
        plu = plu.lstrip("0") or "0"
    return gtin, plu


def _product(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise Rejected(f"{where}: not an object")
    known = {"gtin", "plu", "name", "price_cents", "vat_code", "category", *_FLAGS}
    unknown = set(item) - known
    if unknown:
        raise Rejected(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    gtin, plu = _codes(item, where)
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise Rejected(f"{where}: 'name' is missing")
    vat = item.get("vat_code")
    if vat not in VAT_CODES:
        raise Rejected(f"{where}: vat_code {vat!r} is not one of {', '.join(VAT_CODES)}")
    category = item.get("category", "")
    if not isinstance(category, str):
        raise Rejected(f"{where}: 'category' is not a string")
    row: dict[str, Any] = {
        "gtin": gtin, "plu": plu, "name": name.strip(), "vat_code": vat,
        "price_cents": _int(item, "price_cents", minimum=0, where=where),
        "category": category.strip(), "name_folded": name.strip().casefold(),
    }
    for flag, default in _FLAGS.items():
        value = item.get(flag, default)
        if not isinstance(value, bool):
            raise Rejected(f"{where}: {flag!r} is not true or false")
        row[flag] = value
    return row


def _by_code(code: str) -> Any:
    if len(code) >= 8:
        try:
            return Product.gtin == normalize_gtin(code)
        except BarcodeError:
            pass
    return Product.plu == (code.lstrip("0") or "0")


def _upsert(row: dict[str, Any]) -> None:
    existing = None
    if row["gtin"]:
        existing = Product.get_or_none(Product.gtin == row["gtin"])
    if existing is None and row["plu"]:
        existing = Product.get_or_none(Product.plu == row["plu"])
    if existing is None:
        Product.insert(**row).execute()
    else:
        Product.update(**row).where(Product.id == existing.id).execute()


def _set_version(key: str, version: int) -> None:
    Meta.insert(key=key, value=str(version)).on_conflict_replace().execute()
