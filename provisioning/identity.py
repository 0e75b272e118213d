"""The legal identity of a store's company, as enrollment writes it into a terminal's config.

Receipts and Z reports are fiscal documents: they must name the company that sold (legal
name, address, VAT number, KvK number), not the demo shop the till falls back on. The fleet
admin gives the identity per store, in a stores file (TOML, one table per store id) or in
the enrollment CSV's extra columns; it is checked here before any terminal is enrolled.
Only Dutch companies for now: a VAT number NL + 9 digits + B + 2 digits (with its check
digit, python-stdnum's nl.btw) and an 8-digit KvK number.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from stdnum.exceptions import ValidationError
from stdnum.nl import btw

from contract.config import DEMO_VAT_NUMBER, KVK_FORMAT
from provisioning.fleet import FleetError

FIELDS = ("name", "address", "vat_number", "kvk_number")


class IdentityError(FleetError):
    """A store's legal identity that cannot go on a receipt: where, which store, which key."""

    def __init__(self, source: str, store: str, key: str, reason: str) -> None:
        self.source, self.store, self.key, self.reason = source, store, key, reason
        super().__init__(f"{source}: store {store!r}: {key}: {reason}")


@dataclass(frozen=True)
class StoreIdentity:
    name: str
    address: str
    vat_number: str
    kvk_number: str


def check_identity(store: str, values: dict[str, object], source: str) -> StoreIdentity:
    """Validates one store's identity; the VAT number is returned in its compact form."""
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise IdentityError(source, store, unknown[0],
                            f"unknown key (known: {', '.join(FIELDS)})")
    text: dict[str, str] = {}
    for key in FIELDS:
        value = values.get(key)
        if not isinstance(value, str) or not value.strip():
            raise IdentityError(source, store, key, "missing or empty")
        text[key] = " ".join(value.split())
    try:
        vat = "NL" + btw.validate(text["vat_number"])  # compact form, without "NL"
    except ValidationError as exc:
        raise IdentityError(source, store, "vat_number",
                            f"{text['vat_number']!r} is not a valid Dutch VAT number "
                            f"(NL, 9 digits, B, 2 digits): {exc}") from None
    if vat == DEMO_VAT_NUMBER:
        raise IdentityError(source, store, "vat_number", f"{vat} is the demo shop's number")
    if not KVK_FORMAT.fullmatch(text["kvk_number"]):
        raise IdentityError(source, store, "kvk_number",
                            f"{text['kvk_number']!r} is not a KvK number (8 digits)")
    return StoreIdentity(text["name"], text["address"], vat, text["kvk_number"])


def read_stores_file(text: str, source: str) -> dict[str, StoreIdentity]:
    """A TOML file with one table per store id: name, address, vat_number, kvk_number."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FleetError(f"{source}: not valid TOML: {exc}") from None
    stores: dict[str, StoreIdentity] = {}
    for store, table in data.items():
        if not isinstance(table, dict):
            raise IdentityError(source, store, "(table)",
                                "expected a table [store-id] with name, address, vat_number, "
                                "kvk_number")
        stores[store] = check_identity(store, table, source)
    if not stores:
        raise FleetError(f"{source}: no [store-id] tables")
    return stores
