"""Checking one product's fields as typed or read from a file, before anything is stored.

The bounds are the catalogue message's (contract/downstream.py), so whatever the master
accepts can be published to every till.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from contract import downstream as bounds
from contract.config import VAT_CODES
from contract.entries import NAME
from contract.gtin import BarcodeError, normalize_gtin
from headoffice.catalogue.errors import BadField

_EUROS = re.compile(r"(?:€\s*)?(\d{1,9})(?:[.,](\d{1,2}))?")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
_TRUE, _FALSE = {"1", "true", "yes", "ja", "y", "j"}, {"0", "false", "no", "nee", "n"}


@dataclass(frozen=True)
class ProductFields:
    gtin: str | None  # GTIN-14
    barcodes: tuple[str, ...]  # further GTIN-14s
    plu: str | None
    name: str
    category: str
    vat_code: str
    unit: str
    age_limit: int
    deposit: str | None  # a deposit type code
    active: bool
    content_amount: int | None = None  # grams or millilitres in the pack (unit prices)
    content_unit: str | None = None  # g | ml


def gtin(value: str, field: str = "gtin") -> str:
    try:
        return normalize_gtin(value)
    except BarcodeError as exc:
        raise BadField(field, value, str(exc)) from None


def plu(value: str) -> str:
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 6:
        raise BadField("plu", value, "not 1 to 6 digits")
    return value.lstrip("0") or "0"


def text(value: str, field: str, max_len: int, required: bool) -> str:
    value = value.strip()
    if required and not value:
        raise BadField(field, value, "is empty")
    if len(value) > max_len:
        raise BadField(field, value[:40], f"longer than {max_len} characters")
    if _CONTROL.search(value):
        raise BadField(field, value[:40], "contains a control character")
    return value


def euros(value: str, field: str, hi: int = bounds.MAX_PRICE_CENTS) -> int:
    """`12,50`, `12.50`, `€ 12` or `12` euros as cents, 0..hi."""
    match = _EUROS.fullmatch(value.strip())
    if match is None:
        raise BadField(field, value, "not an amount in euros like 12,50")
    cents = int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0"))
    if cents > hi:
        raise BadField(field, value, f"more than {hi / 100:.2f} euro")
    return cents


def flag(value: str, field: str, default: bool) -> bool:
    value = value.strip().lower()
    if not value:
        return default
    if value in _TRUE or value in _FALSE:
        return value in _TRUE
    raise BadField(field, value, "not yes/no (1/0, ja/nee, true/false)")


def whole(value: str, field: str, lo: int, hi: int, default: int = 0) -> int:
    value = value.strip()
    if not value:
        return default
    if not value.isascii() or not value.isdigit() or not lo <= int(value) <= hi:
        raise BadField(field, value, f"not a whole number {lo}..{hi}")
    return int(value)


def vat(value: str) -> str:
    value = value.strip().lower()
    if value not in VAT_CODES:
        raise BadField("vat_code", value, f"not one of {', '.join(VAT_CODES)}")
    return value


def unit(value: str) -> str:
    value = value.strip().lower() or "piece"
    if value not in bounds.UNITS:
        raise BadField("unit", value, f"not one of {', '.join(bounds.UNITS)}")
    return value


_CONTENT = re.compile(r"(\d{1,7})(?:[.,](\d{1,3}))?\s*(kg|g|ml|cl|l)", re.IGNORECASE)
_CONTENT_UNITS = {"g": ("g", 1), "kg": ("g", 1000), "ml": ("ml", 1), "cl": ("ml", 10),
                  "l": ("ml", 1000)}
MAX_CONTENT = 1_000_000  # 1000 kg or 1000 l in one pack


def content(value: str) -> tuple[int | None, str | None]:
    """`500 g`, `1,5 l`, `33 cl`, `0.75l` as (amount, `g` or `ml`); empty as (None, None)."""
    value = value.strip()
    if not value:
        return None, None
    match = _CONTENT.fullmatch(value)
    if match is None:
        raise BadField("content", value, "not a pack size like 500 g, 1,5 l or 33 cl")
    unit, factor = _CONTENT_UNITS[match[3].lower()]
    fraction = (match[2] or "").ljust(3, "0")
    amount = int(match[1]) * factor + int(fraction) * factor // 1000
    if not 0 < amount <= MAX_CONTENT:
        raise BadField("content", value, f"not 1..{MAX_CONTENT} {unit}")
    return amount, unit


def content_text(amount: int | None, unit: str | None) -> str:
    """The stored pack size as the CSV and the form show it (`500 g`, `1500 ml`)."""
    return f"{amount} {unit}" if amount and unit else ""


def product_fields(cells: dict[str, str]) -> ProductFields:
    """A product from named text cells (CSV columns or command options); BadField names the
    first cell that is wrong."""
    main = gtin(cells["gtin"]) if cells.get("gtin", "").strip() else None
    more: list[str] = []
    for code in re.split(r"[\s|]+", cells.get("barcodes", "").strip()):
        if code:
            normal = gtin(code, "barcodes")
            if normal == main or normal in more:
                raise BadField("barcodes", code, "listed twice")
            more.append(normal)
    if more and main is None:
        raise BadField("barcodes", cells.get("barcodes", ""), "further barcodes need a gtin")
    code = plu(cells["plu"]) if cells.get("plu", "").strip() else None
    if main is None and code is None:
        raise BadField("gtin", "", "a product needs a gtin or a plu")
    deposit = cells.get("deposit", "").strip().lower() or None
    if deposit is not None and not bounds.DEPOSIT_CODE.fullmatch(deposit):
        raise BadField("deposit", deposit, "not a deposit type code like statiegeld-015")
    return ProductFields(
        gtin=main, barcodes=tuple(more), plu=code,
        name=text(cells.get("name", ""), "name", NAME, True),
        category=text(cells.get("category", ""), "category", bounds.MAX_CATEGORY, False),
        vat_code=vat(cells.get("vat_code", "")), unit=unit(cells.get("unit", "")),
        age_limit=whole(cells.get("age_limit", ""), "age_limit", 0, bounds.MAX_AGE_LIMIT),
        deposit=deposit, active=flag(cells.get("active", ""), "active", True),
        **dict(zip(("content_amount", "content_unit"), content(cells.get("content", "")),
                   strict=True)))
