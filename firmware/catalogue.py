"""The product catalogue: lookup by GTIN, PLU or in-store code, search by name, CSV import.

Lookups go through one prepared SQL statement rather than the ORM: the scanner path must
stay in the tens of microseconds with a million products.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import peewee

from contract.config import VAT_CODES, ScannerConfig
from contract.gtin import (
    BarcodeError,
    VariableLayout,
    normalize_gtin,
    parse_variable_measure,
)
from contract.money import parse_money
from firmware.errors import (
    UnknownItemNumber,
    UnknownPlu,
    UnknownProduct,
    WeightCodeForPieceProduct,
)

__all__ = ["Catalogue", "ProductInfo", "Resolved", "UnknownProduct", "import_csv"]

_COLUMNS = ("id, gtin, plu, name, price_cents, vat_code, category, stock_tracked, active,"
            " sold_by_weight, favourite")


@dataclass(frozen=True)
class ProductInfo:
    id: int
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

    @classmethod
    def from_row(cls, row: tuple) -> ProductInfo:
        return cls(row[0], row[1], row[2], row[3], row[4], row[5], row[6],
                   bool(row[7]), bool(row[8]), bool(row[9]), bool(row[10]))


@dataclass(frozen=True)
class Resolved:
    """A product plus what the code said about the amount: embedded price or weight."""

    product: ProductInfo
    code: str
    embedded_price: int | None = None
    weight_g: int | None = None


class Catalogue:
    def __init__(self, db: peewee.SqliteDatabase, layouts: tuple[VariableLayout, ...] = ()) -> None:
        self.db = db
        self.layouts = layouts

    @classmethod
    def for_scanner(cls, db: peewee.SqliteDatabase, scanner: ScannerConfig) -> Catalogue:
        """A catalogue reading in-store codes with the terminal's configured layouts."""
        return cls(db, tuple(VariableLayout(v.prefix, v.kind, v.item_digits, v.value_digits)
                             for v in scanner.variable_measure))

    def _one(self, where: str, value: str) -> ProductInfo | None:
        row = self.db.execute_sql(f"SELECT {_COLUMNS} FROM product WHERE {where} = ?", (value,)).fetchone()
        return ProductInfo.from_row(row) if row else None

    def by_id(self, product_id: int) -> ProductInfo | None:
        return self._one("id", product_id)  # type: ignore[arg-type]

    def by_gtin(self, code: str) -> ProductInfo | None:
        return self._one("gtin", normalize_gtin(code))

    def by_plu(self, plu: str) -> ProductInfo | None:
        return self._one("plu", plu.strip().lstrip("0") or "0")

    def resolve(self, code: str) -> Resolved:
        """A scanned or typed code -> product. Raises contract.gtin's BarcodeError for a code
        that is not a GTIN, UnknownProduct or WeightCodeForPieceProduct (firmware/errors.py)."""
        code = code.strip()
        if code.isdigit() and len(code) <= 6:
            product = self.by_plu(code)
            if product is None or not product.active:
                raise UnknownPlu(code)
            return Resolved(product, code)
        gtin = normalize_gtin(code)
        measure = parse_variable_measure(gtin, self.layouts)
        if measure is not None:
            product = self.by_plu(measure.item)
            if product is None or not product.active:
                raise UnknownItemNumber(code, measure.item)
            if measure.kind == "price":
                return Resolved(product, code, embedded_price=measure.value)
            if not product.sold_by_weight:
                raise WeightCodeForPieceProduct(code, product.name)
            return Resolved(product, code, weight_g=measure.value)
        product = self._one("gtin", gtin)
        if product is None or not product.active:
            raise UnknownProduct(code)
        return Resolved(product, code)

    def search(self, text: str, limit: int = 50) -> list[ProductInfo]:
        needle = f"%{text.strip().casefold()}%"
        rows = self.db.execute_sql(
            f"SELECT {_COLUMNS} FROM product WHERE active AND name_folded LIKE ? ORDER BY name LIMIT ?",
            (needle, limit),
        ).fetchall()
        return [ProductInfo.from_row(r) for r in rows]

    def categories(self) -> list[str]:
        rows = self.db.execute_sql(
            "SELECT DISTINCT category FROM product WHERE active ORDER BY category").fetchall()
        return [r[0] for r in rows]

    def in_category(self, category: str, limit: int = 200) -> list[ProductInfo]:
        rows = self.db.execute_sql(
            f"SELECT {_COLUMNS} FROM product WHERE active AND category = ? ORDER BY name LIMIT ?",
            (category, limit)).fetchall()
        return [ProductInfo.from_row(r) for r in rows]

    def favourites(self, limit: int = 60) -> list[ProductInfo]:
        rows = self.db.execute_sql(
            f"SELECT {_COLUMNS} FROM product WHERE active AND favourite ORDER BY name LIMIT ?",
            (limit,)).fetchall()
        return [ProductInfo.from_row(r) for r in rows]


# --- CSV import -------------------------------------------------------------------------

CSV_FIELDS = ("gtin", "plu", "name", "price", "vat", "category", "stock_tracked", "active",
              "sold_by_weight", "favourite", "stock")
REQUIRED_FIELDS = ("name", "price", "vat")
_TRUE = {"1", "true", "yes", "ja", "y", "j"}
_FALSE = {"0", "false", "no", "nee", "n", ""}


@dataclass
class ImportReport:
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    errors: list[str] | None = None

    def __post_init__(self) -> None:
        if self.errors is None:
            self.errors = []


_FLAGS: dict[str, bool | None] = {"": None, **dict.fromkeys(_TRUE, True),
                                   **dict.fromkeys(_FALSE - {""}, False)}
_NOT_A_FLAG = object()


def _flag(value: str, field: str, default: bool) -> bool:
    parsed = _FLAGS.get(value.strip().lower(), _NOT_A_FLAG)
    if parsed is None:
        return default
    if parsed is _NOT_A_FLAG:
        raise ValueError(f"{field}: {value.strip()!r} is not yes/no")
    return parsed  # type: ignore[return-value]


def _parse_row(cells: list[str], ix: dict[str, int]) -> tuple:
    """One CSV row (cells padded so that a missing column reads as '') -> the product tuple."""
    name, price_text, vat = cells[ix["name"]].strip(), cells[ix["price"]].strip(), cells[ix["vat"]]
    for field, value in (("name", name), ("price", price_text), ("vat", vat.strip())):
        if not value:
            raise ValueError(f"{field}: missing")
    gtin_text, plu = cells[ix["gtin"]].strip(), cells[ix["plu"]].strip()
    if not gtin_text and not plu:
        raise ValueError("gtin/plu: a product needs a GTIN or a PLU")
    try:
        gtin = normalize_gtin(gtin_text) if gtin_text else None
    except BarcodeError as exc:
        raise ValueError(f"gtin: {exc}") from None
    if plu:
        if not plu.isdigit() or len(plu) > 6:
            raise ValueError(f"plu: {plu!r} is not 1 to 6 digits")
        plu = plu.lstrip("0") or "0"
    try:
        price = parse_money(price_text)
    except ValueError as exc:
        raise ValueError(f"price: {exc}") from None
    if price < 0:
        raise ValueError("price: negative")
    vat = vat.strip().lower()
    if vat not in VAT_CODES:
        raise ValueError(f"vat: {vat!r} is not one of {', '.join(VAT_CODES)}")
    stock_text = cells[ix["stock"]].strip()
    try:
        stock = int(stock_text) if stock_text else None
    except ValueError:
        raise ValueError(f"stock: {stock_text!r} is not a whole number") from None
    return (
        gtin, plu or None, name, price, vat, cells[ix["category"]].strip(),
        _flag(cells[ix["stock_tracked"]], "stock_tracked", True),
        _flag(cells[ix["active"]], "active", True),
        _flag(cells[ix["sold_by_weight"]], "sold_by_weight", False),
        _flag(cells[ix["favourite"]], "favourite", False),
        name.casefold(), stock,
    )


def progress_bar(done: int, total: int, stream=sys.stderr) -> None:
    width = 30
    filled = width * done // max(total, 1)
    stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done >= total:
        stream.write("\n")
    stream.flush()


def import_csv(
    db: peewee.SqliteDatabase,
    source: str | io.TextIOBase | Iterable[str],
    partial: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Imports products (upsert on GTIN, else PLU). With errors, imports nothing unless partial."""
    if isinstance(source, str):
        with open(source, encoding="utf-8-sig", newline="") as fh:
            return import_csv(db, fh, partial, progress)
    lines = list(source)
    sample = "".join(lines[:5])
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(lines, dialect=dialect)
    report = ImportReport()
    header = [h.strip().lower() for h in next(reader, [])]
    unknown = [h for h in header if h not in CSV_FIELDS]
    missing = [f for f in REQUIRED_FIELDS if f not in header]
    if unknown or missing:
        problems = []
        if unknown:
            problems.append(f"unknown column(s) {', '.join(unknown)}")
        if missing:
            problems.append(f"missing column(s) {', '.join(missing)}")
        report.errors.append(f"line 1: header: {'; '.join(problems)} (columns: {', '.join(CSV_FIELDS)})")
        return report
    width = len(header)
    # Columns left out of the file read the always-empty cell just past the header's width.
    ix = {field: header.index(field) if field in header else width for field in CSV_FIELDS}
    parsed: list[tuple] = []
    seen_gtin: dict[str, int] = {}
    seen_plu: dict[str, int] = {}
    total = max(len(lines) - 1, 0)
    for index, cells in enumerate(reader):
        line_no = reader.line_num
        if not cells:
            continue
        report.rows += 1
        if len(cells) > width:
            report.errors.append(f"line {line_no}: {len(cells)} cells where the header has {width}")
            continue
        cells.extend([""] * (width + 1 - len(cells)))
        try:
            values = _parse_row(cells, ix)
        except ValueError as exc:
            report.errors.append(f"line {line_no}: {exc}")
            continue
        gtin, plu = values[0], values[1]
        if gtin and gtin in seen_gtin:
            report.errors.append(f"line {line_no}: gtin: {gtin} already on line {seen_gtin[gtin]}")
            continue
        if plu and plu in seen_plu:
            report.errors.append(f"line {line_no}: plu: {plu} already on line {seen_plu[plu]}")
            continue
        if gtin:
            seen_gtin[gtin] = line_no
        if plu:
            seen_plu[plu] = line_no
        parsed.append(values)
        if progress and index % 5000 == 0:
            progress(index, total)
    if report.errors and not partial:
        return report
    _store(db, parsed, report)
    if progress:
        progress(total, total)
    return report


def _store(db: peewee.SqliteDatabase, parsed: list[tuple], report: ImportReport) -> None:
    with db.atomic("IMMEDIATE"):
        by_gtin = dict(db.execute_sql("SELECT gtin, id FROM product WHERE gtin IS NOT NULL").fetchall())
        by_plu = dict(db.execute_sql("SELECT plu, id FROM product WHERE plu IS NOT NULL").fetchall())
        inserts, updates = [], []
        for values in parsed:
            gtin, plu = values[0], values[1]
            existing = by_gtin.get(gtin) if gtin else None
            if existing is None and plu:
                existing = by_plu.get(plu)
            if existing is None:
                inserts.append(values[:11])
            else:
                updates.append((*values[:11], existing))
        cursor = db.cursor()
        cursor.executemany(
            "INSERT INTO product (gtin, plu, name, price_cents, vat_code, category, stock_tracked,"
            " active, sold_by_weight, favourite, name_folded) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            inserts,
        )
        cursor.executemany(
            "UPDATE product SET gtin=?, plu=?, name=?, price_cents=?, vat_code=?, category=?,"
            " stock_tracked=?, active=?, sold_by_weight=?, favourite=?, name_folded=? WHERE id=?",
            updates,
        )
        upsert = (" ON CONFLICT(product_id) DO UPDATE SET quantity = excluded.quantity")
        by_gtin_stock = [(v[11], v[0]) for v in parsed if v[11] is not None and v[0]]
        by_plu_stock = [(v[11], v[1]) for v in parsed if v[11] is not None and not v[0]]
        cursor.executemany("INSERT INTO stock_level (product_id, quantity) SELECT id, ? FROM product"
                           " WHERE gtin = ?" + upsert, by_gtin_stock)
        cursor.executemany("INSERT INTO stock_level (product_id, quantity) SELECT id, ? FROM product"
                           " WHERE plu = ?" + upsert, by_plu_stock)
        report.inserted, report.updated = len(inserts), len(updates)
