"""`kassa office catalogue import`: products (and their chain-wide price and cost) from CSV.

Like the till's import (firmware/catalogue.py): every problem is one `line N: column:
reason`, and with any error nothing is stored unless the caller asks for the good rows
(`partial`). The whole file goes in one transaction, each row in a savepoint, so a row
refused by the database (a barcode of another product, an unknown deposit type) is reported
like any other and the rest stays consistent.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from headoffice.catalogue.errors import BadField, MasterError
from headoffice.catalogue.fields import euros, product_fields
from headoffice.catalogue.models import ALL_STORES
from headoffice.catalogue.pricing import price_at
from headoffice.catalogue.products import save_product, set_cost, set_price
from headoffice.catalogue.times import now_utc
from headoffice.orm import database_proxy, write_transaction

COLUMNS = ("gtin", "barcodes", "plu", "name", "category", "vat_code", "unit", "age_limit",
           "deposit", "active", "price", "cost")
ALIASES = {"vat": "vat_code", "btw": "vat_code", "naam": "name", "prijs": "price",
           "inkoopprijs": "cost", "categorie": "category", "leeftijd": "age_limit",
           "statiegeld": "deposit"}
REQUIRED = ("name", "vat_code")
PROGRESS_EVERY = 100


@dataclass
class ImportReport:
    """What an import did; `errors` are `line N: field: reason` (the till's report has the
    same first fields, so cli/catalogue.py prints both)."""

    rows: int = 0
    inserted: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)
    prices: int = 0  # price entries made (a row's price differing from the current one)


class _Undo(Exception):
    """Rolls the import's transaction back when it had errors and was not partial."""


def read_rows(source: str | Iterable[str]) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(header problems, [(line, cells)]) of a CSV text or file path (UTF-8, with or without
    BOM; comma, semicolon or tab separated)."""
    if isinstance(source, str):
        with open(source, encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    else:
        text = "".join(source)
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [ALIASES.get(h.strip().lower(), h.strip().lower()) for h in next(reader, [])]
    problems = [f"line 1: column {h!r} is unknown (known: {', '.join(COLUMNS)})"
                for h in header if h not in COLUMNS]
    problems += [f"line 1: column {r!r} is missing" for r in REQUIRED if r not in header]
    if "gtin" not in header and "plu" not in header:
        problems.append("line 1: needs a 'gtin' or a 'plu' column")
    rows = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            rows.append((reader.line_num, {"": f"{len(cells)} cells, the header has {len(header)}"}))
            continue
        rows.append((reader.line_num, dict(zip(header, cells, strict=True))))
    return problems, rows


def import_csv(source: str | Iterable[str], actor: str, partial: bool = False,
               progress: Callable[[int, int], None] | None = None,
               valid_from: dt.datetime | None = None) -> ImportReport:
    """Imports products; `price` and `cost` (euros) apply to every store from `valid_from`
    (default now). OSError for a file that cannot be read."""
    problems, rows = read_rows(source)
    report = ImportReport(rows=len(rows), errors=list(problems))
    if problems:
        return report
    moment = valid_from or now_utc()
    seen: dict[str, int] = {}
    try:
        with write_transaction():
            for done, (line, cells) in enumerate(rows, start=1):
                _one(line, cells, actor, moment, seen, report)
                if progress and done % PROGRESS_EVERY == 0:
                    progress(done, len(rows))
            if report.errors and not partial:
                raise _Undo()
    except _Undo:
        report.inserted = report.updated = 0
    if progress:
        progress(len(rows), len(rows))
    return report


def _one(line: int, cells: dict[str, str], actor: str, moment: dt.datetime,
         seen: dict[str, int], report: ImportReport) -> None:
    if "" in cells:
        report.errors.append(f"line {line}: {cells['']}")
        return
    try:
        fields = product_fields(cells)
        price = euros(cells["price"], "price") if cells.get("price", "").strip() else None
        cost = euros(cells["cost"], "cost") if cells.get("cost", "").strip() else None
        for code in (fields.gtin, *fields.barcodes, fields.plu and f"plu {fields.plu}"):
            if code and code in seen:
                raise BadField("gtin" if not code.startswith("plu") else "plu", code,
                               f"also on line {seen[code]}")
        for code in (fields.gtin, *fields.barcodes, fields.plu and f"plu {fields.plu}"):
            if code:
                seen[code] = line
        with database_proxy.atomic():
            product, created = save_product(fields, actor)
            if price is not None and price != price_at(product.id, ALL_STORES, moment):
                set_price(product, price, moment, actor=actor)
                report.prices += 1
            if cost is not None:
                set_cost(product, cost, moment, actor=actor)
    except MasterError as exc:
        report.errors.append(f"line {line}: {exc}")
        return
    if created:
        report.inserted += 1
    else:
        report.updated += 1
