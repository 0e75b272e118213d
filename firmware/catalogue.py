"""The product catalogue: lookup by GTIN, PLU or in-store code, search by name, CSV import.

Lookups go through one prepared SQL statement rather than the ORM: the scanner path must
stay in the tens of microseconds with a million products. They read the view `product`, the
current generation of the catalogue (firmware/catalogue_store.py): each statement sees the
whole catalogue before or after a head-office apply, never a mix.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import peewee

from contract.config import ScannerConfig
from contract.gtin import (
    VariableLayout,
    normalize_gtin,
    parse_variable_measure,
)
from firmware import catalogue_store
from firmware.catalogue_csv import CSV_FIELDS, ImportReport, drop_clashes, parse_csv
from firmware.errors import (
    UnknownItemNumber,
    UnknownPlu,
    UnknownProduct,
    WeightCodeForPieceProduct,
)

__all__ = ["CSV_FIELDS", "Catalogue", "ImportReport", "ProductInfo", "Resolved", "UnknownProduct",
           "import_csv"]

_COLUMNS = ("id, gtin, plu, name, price_cents, vat_code, category, stock_tracked, active,"
            " sold_by_weight, favourite"
            ", age_limit, deposit_code, deposit_cents, deposit_vat_code")  # age check, deposit


# the product columns a parsed CSV row starts with (firmware/catalogue_csv.py parse_row)
_CSV_COLUMNS = ("gtin", "plu", "name", "price_cents", "vat_code", "category", "stock_tracked",
                "active", "sold_by_weight", "favourite", "name_folded")


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
    # age check (firmware/age_check.py) and deposit (firmware/deposit.py)
    age_limit: int = 0
    deposit_code: str = ""
    deposit_cents: int = 0
    deposit_vat_code: str = ""

    @classmethod
    def from_row(cls, row: tuple) -> ProductInfo:
        return cls(row[0], row[1], row[2], row[3], row[4], row[5], row[6],
                   bool(row[7]), bool(row[8]), bool(row[9]), bool(row[10]),
                   row[11], row[12], row[13], row[14])


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


# --- CSV import (reading and checking the file: firmware/catalogue_csv.py) ---------------

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
    """Imports products (upsert on GTIN, else PLU). With errors, imports nothing unless partial.
    Every problem is a `line N: column: reason` in the report; OSError for a missing file."""
    parsed = parse_csv(source, progress)  # type: ignore[arg-type]
    report = parsed.report
    if parsed.rows:
        by_gtin = dict(db.execute_sql("SELECT gtin, id FROM product WHERE gtin IS NOT NULL").fetchall())
        by_plu = dict(db.execute_sql("SELECT plu, id FROM product WHERE plu IS NOT NULL").fetchall())
        drop_clashes(parsed, by_gtin, by_plu)
    if not report.errors or partial:
        try:
            _store(db, parsed.rows, report)
        except peewee.IntegrityError as exc:  # the store changed under the import
            report.inserted = report.updated = 0
            report.errors.append(f"database: {exc}; nothing was imported")
    if progress:
        progress(report.rows, report.rows)
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
                inserts.append(values[:len(_CSV_COLUMNS)])
            else:
                updates.append((*values[:len(_CSV_COLUMNS)], existing))
        cursor = db.cursor()
        # written in place in the generation the till sees (firmware/catalogue_store.py)
        first = db.execute_sql(f"SELECT {catalogue_store.NEXT_ID}").fetchone()[0]
        cursor.executemany(catalogue_store.insert_sql(_CSV_COLUMNS),
                           [(first + n, *values) for n, values in enumerate(inserts)])
        db.execute_sql(f"UPDATE {catalogue_store.POINTER} SET next_id = ? WHERE id = 1",
                       (first + len(inserts),))
        cursor.executemany(
            f"UPDATE product_version SET {', '.join(f'{c} = ?' for c in _CSV_COLUMNS)}"
            f" WHERE product_id = ? AND {catalogue_store.visible('product_version')}", updates)
        upsert = (" ON CONFLICT(product_id) DO UPDATE SET quantity = excluded.quantity")
        by_gtin_stock = [(v[11], v[0]) for v in parsed if v[11] is not None and v[0]]
        by_plu_stock = [(v[11], v[1]) for v in parsed if v[11] is not None and not v[0]]
        cursor.executemany("INSERT INTO stock_level (product_id, quantity) SELECT id, ? FROM product"
                           " WHERE gtin = ?" + upsert, by_gtin_stock)
        cursor.executemany("INSERT INTO stock_level (product_id, quantity) SELECT id, ? FROM product"
                           " WHERE plu = ?" + upsert, by_plu_stock)
        report.inserted, report.updated = len(inserts), len(updates)
