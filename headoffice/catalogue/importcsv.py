"""`kassa office catalogue import`: products (and their chain-wide price and cost) from CSV.

Like the till's import (firmware/catalogue.py): every problem is one `line N: column:
reason`, also the ones only the database knows (a barcode of another product, an unknown
deposit type), and with any error nothing is stored unless the caller asks for the good
rows (`partial`). The file is checked against the master read once into memory, then
written in bulk in one transaction (products, barcodes, prices, costs, audit rows), so a
large file costs a handful of statements per few hundred rows, not a dozen per row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import peewee

from contract.product_key import sku_of
from headoffice import margin_cache
from headoffice.catalogue import audit
from headoffice.catalogue.errors import BadField, CodeTaken, MasterError, UnknownDeposit
from headoffice.catalogue.fields import ProductFields, euros, product_fields
from headoffice.catalogue.models import (
    ALL_STORES,
    AuditEntry,
    CostPrice,
    DepositType,
    MasterBarcode,
    MasterProduct,
    PriceEntry,
)
from headoffice.catalogue.products import cost_change
from headoffice.catalogue.times import now_utc, stored
from headoffice.orm import write_transaction

COLUMNS = ("gtin", "barcodes", "plu", "name", "category", "vat_code", "unit", "age_limit",
           "deposit", "active", "price", "cost", "content")
ALIASES = {"vat": "vat_code", "btw": "vat_code", "naam": "name", "prijs": "price",
           "inkoopprijs": "cost", "categorie": "category", "leeftijd": "age_limit",
           "statiegeld": "deposit", "inhoud": "content"}
REQUIRED = ("name", "vat_code")
PROGRESS_EVERY = 1000
CHUNK = 500  # rows per bulk statement (12 columns: far below either engine's bound)
FIELDS = ("gtin", "plu", "name", "category", "vat_code", "unit", "age_limit", "deposit",
          "active", "content_amount", "content_unit")


@dataclass
class ImportReport:
    """What an import did; `errors` are `line N: field: reason` (the till's report has the
    same first fields, so cli/catalogue.py prints both)."""

    rows: int = 0
    inserted: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)
    prices: int = 0  # price entries made (a row's price differing from the current one)


@dataclass
class _Row:
    line: int
    fields: ProductFields
    price: int | None
    cost: int | None
    own: int | None = None  # the product it updates


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
    parsed = _parse(rows, report, progress)
    when = stored(valid_from or now_utc())
    try:
        with write_transaction():
            master = _Master.load()
            good = [row for row in parsed if _resolve(row, master, report)]
            if report.errors and not partial:
                raise _Undo()
            _write(good, master, actor, when, report)
    except _Undo:
        report.inserted = report.updated = report.prices = 0
    except peewee.IntegrityError as exc:  # the master changed under the import
        report.inserted = report.updated = report.prices = 0
        report.errors.append(f"database: {exc}; nothing was imported")
    if progress:
        progress(len(rows), len(rows))
    return report


def _parse(rows: list[tuple[int, dict[str, str]]], report: ImportReport,
           progress: Callable[[int, int], None] | None) -> list[_Row]:
    """Each row's fields checked on their own and against the rows before it."""
    out, seen = [], {}
    for done, (line, cells) in enumerate(rows, start=1):
        if progress and done % PROGRESS_EVERY == 0:
            progress(done, len(rows))
        if "" in cells:
            report.errors.append(f"line {line}: {cells['']}")
            continue
        try:
            fields = product_fields(cells)
            price = euros(cells["price"], "price") if cells.get("price", "").strip() else None
            cost = euros(cells["cost"], "cost") if cells.get("cost", "").strip() else None
            codes = [c for c in (fields.gtin, *fields.barcodes) if c]
            codes += [f"plu {fields.plu}"] if fields.plu else []
            for code in codes:
                if code in seen:
                    raise BadField("plu" if code.startswith("plu") else "gtin", code,
                                   f"also on line {seen[code]}")
        except MasterError as exc:
            report.errors.append(f"line {line}: {exc}")
            continue
        seen.update(dict.fromkeys(codes, line))
        out.append(_Row(line, fields, price, cost))
    return out


@dataclass
class _Master:
    """The master as the import needs it, read once."""

    products: dict[int, MasterProduct]
    by_gtin: dict[str, int]  # main and further GTINs
    by_plu: dict[str, int]
    barcodes: dict[int, list[str]]
    deposits: set[str]

    @classmethod
    def load(cls) -> _Master:
        products = {p.id: p for p in MasterProduct.select()}
        barcodes: dict[int, list[str]] = {}
        for code, product in MasterBarcode.select(MasterBarcode.gtin, MasterBarcode.product).order_by(
                MasterBarcode.gtin).tuples():
            barcodes.setdefault(product, []).append(code)
        by_gtin = {p.gtin: p.id for p in products.values() if p.gtin}
        by_gtin.update({code: p for p, codes in barcodes.items() for code in codes})
        return cls(products, by_gtin, {p.plu: p.id for p in products.values() if p.plu},
                   barcodes, {c for (c,) in DepositType.select(DepositType.code).tuples()})

    def snapshot(self, pid: int) -> dict:
        p = self.products[pid]
        return {**{k: getattr(p, k) for k in FIELDS}, "active": bool(p.active),
                "barcodes": self.barcodes.get(pid, [])}


def _resolve(row: _Row, master: _Master, report: ImportReport) -> bool:
    """Finds the product the row updates and checks its codes and deposit type."""
    f = row.fields
    try:
        if f.deposit is not None and f.deposit not in master.deposits:
            raise UnknownDeposit(f.deposit)
        own = master.by_gtin.get(f.gtin) if f.gtin else None
        by_plu = master.by_plu.get(f.plu) if f.plu else None
        if own is None and by_plu is not None and (
                f.gtin is None or master.products[by_plu].gtin is None):
            own = by_plu  # a PLU product gets its first barcode, or is named by PLU only
        for code in (f.gtin, *f.barcodes):
            holder = master.by_gtin.get(code) if code else None
            if holder is not None and holder != own:
                raise CodeTaken("gtin", code, master.products[holder].sku)
        if by_plu is not None and by_plu != own:
            raise CodeTaken("plu", f.plu, master.products[by_plu].sku)
    except MasterError as exc:
        report.errors.append(f"line {row.line}: {exc}")
        return False
    row.own = own
    return True


def _values(f: ProductFields, updated: str) -> dict:
    return {"sku": sku_of(f.gtin, f.plu), "gtin": f.gtin, "plu": f.plu, "name": f.name,
            "category": f.category, "vat_code": f.vat_code, "unit": f.unit,
            "age_limit": f.age_limit, "deposit": f.deposit, "active": f.active,
            "content_amount": f.content_amount, "content_unit": f.content_unit,
            "updated": updated}


def _write(rows: list[_Row], master: _Master, actor: str, when: str,
           report: ImportReport) -> None:
    now = stored(now_utc())
    trail: list[dict | None] = []
    fresh = [r for r in rows if r.own is None]
    for start in range(0, len(fresh), CHUNK):
        chunk = fresh[start:start + CHUNK]
        MasterProduct.insert_many([_values(r.fields, now) for r in chunk]).execute()
        ids = dict(MasterProduct.select(MasterProduct.sku, MasterProduct.id).where(
            MasterProduct.sku.in_([sku_of(r.fields.gtin, r.fields.plu) for r in chunk])).tuples())
        for r in chunk:
            r.own = ids[sku_of(r.fields.gtin, r.fields.plu)]
    report.inserted = len(fresh)
    created = {id(r) for r in fresh}
    changed_codes: list[int] = []
    margin_changed = bool(fresh)  # codes sold before may be the new products'
    for r in rows:
        new = {**{k: getattr(r.fields, k) for k in FIELDS}, "barcodes": list(r.fields.barcodes)}
        values = _values(r.fields, now)
        if id(r) in created:
            trail.append(audit.entry(actor, "product", values["sku"], "create", None, new, now))
            changed_codes.append(r.own)
            continue
        old = master.snapshot(r.own)
        report.updated += 1
        if old == new:
            continue
        MasterProduct.update(**values).where(MasterProduct.id == r.own).execute()
        # another rate or other codes: what the margin's months are worth changes
        margin_changed |= any(old[k] != new[k] for k in ("vat_code", "gtin", "plu", "barcodes"))
        trail.append(audit.entry(actor, "product", values["sku"], "update", old, new, now))
        if old["barcodes"] != new["barcodes"]:
            changed_codes.append(r.own)
    if margin_changed:
        margin_cache.changed_from(None)
    for start in range(0, len(changed_codes), CHUNK):
        MasterBarcode.delete().where(MasterBarcode.product.in_(
            changed_codes[start:start + CHUNK])).execute()
    recoded = set(changed_codes)
    _bulk(MasterBarcode, [{"gtin": code, "product": r.own} for r in rows
                          if r.own in recoded for code in r.fields.barcodes])
    trail += _prices(rows, actor, when, now, report)
    trail += _costs(rows, actor, when, now)
    _bulk(AuditEntry, [t for t in trail if t is not None])


def _latest(model, value, product_ids: list[int], when: str, **where) -> dict[int, int]:
    """product -> the newest value that has begun by `when` (prices: of every store)."""
    out: dict[int, tuple[str, int]] = {}
    for start in range(0, len(product_ids), CHUNK):
        query = model.select(model.product, model.valid_from, value).where(
            model.product.in_(product_ids[start:start + CHUNK]), model.valid_from <= when,
            *[getattr(model, k) == v for k, v in where.items()])
        for product, moment, amount in query.tuples():
            if product not in out or moment > out[product][0]:
                out[product] = (moment, amount)
    return {p: amount for p, (_, amount) in out.items()}


def _prices(rows: list[_Row], actor: str, when: str, now: str,
            report: ImportReport) -> list[dict | None]:
    priced = [r for r in rows if r.price is not None]
    current = _latest(PriceEntry, PriceEntry.price_cents, [r.own for r in priced], when,
                      store=ALL_STORES)
    changes = [r for r in priced if current.get(r.own) != r.price]
    for start in range(0, len(changes), CHUNK):
        PriceEntry.insert_many([{"store": ALL_STORES, "product": r.own, "price_cents": r.price,
                                 "valid_from": when} for r in changes[start:start + CHUNK]]
                               ).on_conflict(
            conflict_target=[PriceEntry.store, PriceEntry.product, PriceEntry.valid_from],
            update={PriceEntry.price_cents: peewee.EXCLUDED.price_cents}).execute()
    report.prices = len(changes)
    return [audit.entry(actor, "price", sku_of(r.fields.gtin, r.fields.plu), "schedule", None,
                        {"price_cents": r.price, "store": ALL_STORES, "valid_from": when}, now)
            for r in changes]


def _costs(rows: list[_Row], actor: str, when: str, now: str) -> list[dict | None]:
    costed = [r for r in rows if r.cost is not None]
    current = _latest(CostPrice, CostPrice.cost_cents, [r.own for r in costed], when)
    changes = [r for r in costed if current.get(r.own) != r.cost]

    def write() -> None:
        for start in range(0, len(changes), CHUNK):
            CostPrice.insert_many([{"product": r.own, "cost_cents": r.cost, "valid_from": when}
                                   for r in changes[start:start + CHUNK]]).on_conflict(
                conflict_target=[CostPrice.product, CostPrice.valid_from],
                update={CostPrice.cost_cents: peewee.EXCLUDED.cost_cents}).execute()
    if changes:  # the margin's kept months: only these products' figures change
        cost_change(sorted({r.own for r in changes}), when, write)
    return [audit.entry(actor, "cost", sku_of(r.fields.gtin, r.fields.plu),
                        "update" if r.own in current else "create",
                        {"cost_cents": current.get(r.own)},
                        {"cost_cents": r.cost, "valid_from": when}, now) for r in changes]


def _bulk(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        model.insert_many(rows[start:start + CHUNK]).execute()
