"""Changing the product master: products, deposit types, cost prices, prices, store ranges.
Every change writes its audit row (headoffice/catalogue/audit.py) in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contract import downstream as bounds
from contract.config import VAT_CODES
from contract.product_key import sku_of
from headoffice import margin_cache
from headoffice.aggregate_models import AggMarginAll, AggProduct
from headoffice.catalogue import audit
from headoffice.catalogue.cost_book import CostBook, cost_deltas
from headoffice.catalogue.errors import BadField, CodeTaken, UnknownDeposit, UnknownProduct
from headoffice.catalogue.fields import ProductFields, content_text, gtin, plu
from headoffice.catalogue.models import (
    ALL_STORES,
    CostPrice,
    DepositType,
    MasterBarcode,
    MasterProduct,
    PriceEntry,
    StoreProduct,
)
from headoffice.catalogue.times import now_utc, stored
from headoffice.orm import is_postgres, write_transaction

DUTCH_DEPOSITS = (  # the Dutch statiegeld amounts (Verpakkingen, 2021 and 2023)
    ("statiegeld-015", "Statiegeld klein (PET tot 1 l, blik)", 15),
    ("statiegeld-025", "Statiegeld groot (PET vanaf 1 l)", 25),
)
DEFAULT_DEPOSIT_VAT = "exempt"  # outside VAT: docs/operations/product-master.md says why


def find(code: str) -> MasterProduct:
    """The product with this main or further GTIN, PLU or SKU; UnknownProduct otherwise."""
    code = code.strip()
    found = None
    if code.startswith("plu:"):
        found = MasterProduct.get_or_none(MasterProduct.sku == code)
    elif code.isdigit() and len(code) <= 6:
        found = MasterProduct.get_or_none(MasterProduct.plu == plu(code))
    elif code.isdigit():
        normal = gtin(code, "code")
        found = MasterProduct.get_or_none(MasterProduct.gtin == normal)
        if found is None:
            extra = MasterBarcode.get_or_none(MasterBarcode.gtin == normal)
            found = MasterProduct.get_or_none(MasterProduct.id == extra.product) if extra else None
    if found is None:
        raise UnknownProduct(code)
    return found


PAGE = 500  # keys per IN list


@dataclass(frozen=True, slots=True)
class ProductFacts:
    """What a report needs of a product: read as plain rows, many at once (find_many)."""

    id: int
    sku: str
    name: str
    category: str
    vat_code: str


_FACTS = "id, sku, name, category, vat_code"


def _rows(sql: str, keys: list[Any]) -> list[tuple]:
    """`sql` with `{keys}` where the IN list goes, in pages; plain rows (a report looks up
    thousands of products: building each IN list and model object through peewee cost more
    than the database's work)."""
    db = MasterProduct._meta.database
    mark = "%s" if is_postgres() else "?"
    out: list[tuple] = []
    for start in range(0, len(keys), PAGE):
        page = keys[start:start + PAGE]
        out += db.execute_sql(sql.format(keys=", ".join(mark for _ in page)), page).fetchall()
    return out


def _facts_by(column: str, keys: set[str]) -> dict[str, ProductFacts]:
    table = MasterProduct._meta.table_name
    found = {}
    for row in _rows(f"SELECT {_FACTS}, {column} FROM {table} WHERE {column} IN ({{keys}})",
                     sorted(keys)):
        found[row[-1]] = ProductFacts(*row[:-1])
    return found


def find_many(codes: list[str]) -> dict[str, ProductFacts | None]:
    """`find` for many codes at once (a report's products): each code's product facts, or
    None where `find` would raise; a few queries in all instead of one or two per code."""
    keys: dict[str, tuple[str, str]] = {}  # code -> (column, normalized key)
    for code in codes:
        text = code.strip()
        if text.startswith("plu:"):
            keys[code] = ("sku", text)
        elif text.isdigit() and len(text) <= 6:
            keys[code] = ("plu", plu(text))
        elif text.isdigit():
            try:
                keys[code] = ("gtin", gtin(text, "code"))
            except BadField:
                keys[code] = ("", "")
        else:
            keys[code] = ("", "")
    found = {column: _facts_by(column, {k for c, k in keys.values() if c == column})
             for column in ("sku", "plu", "gtin")}
    further = sorted({k for c, k in keys.values() if c == "gtin"} - set(found["gtin"]))
    extra = dict(_rows(f"SELECT gtin, product FROM {MasterBarcode._meta.table_name}"
                       " WHERE gtin IN ({keys})", further))
    if extra:
        by_id = {f.id: f for f in (ProductFacts(*row) for row in _rows(
            f"SELECT {_FACTS} FROM {MasterProduct._meta.table_name} WHERE id IN ({{keys}})",
            sorted(set(extra.values()))))}
        for key, product_id in extra.items():
            if product_id in by_id:
                found["gtin"][key] = by_id[product_id]
    return {code: found[column].get(key) if column else None
            for code, (column, key) in keys.items()}


def snapshot(product: MasterProduct) -> dict[str, Any]:
    """The product's fields as the audit trail shows them."""
    return {"gtin": product.gtin, "plu": product.plu, "name": product.name,
            "category": product.category, "vat_code": product.vat_code, "unit": product.unit,
            "age_limit": product.age_limit, "deposit": product.deposit,
            "active": bool(product.active), "barcodes": barcodes_of(product.id),
            "content": content_text(product.content_amount, product.content_unit)}


def barcodes_of(product_id: int) -> list[str]:
    return [b.gtin for b in MasterBarcode.select().where(MasterBarcode.product == product_id)
            .order_by(MasterBarcode.gtin)]


def existing(fields: ProductFields) -> MasterProduct | None:
    """The product a row updates: the one with its GTIN (main or further), else its PLU."""
    if fields.gtin is not None:
        try:
            return find(fields.gtin)
        except UnknownProduct:
            pass
    if fields.plu is not None:
        by_plu = MasterProduct.get_or_none(MasterProduct.plu == fields.plu)
        if by_plu is not None and (fields.gtin is None or by_plu.gtin is None):
            return by_plu  # a PLU product gets its first barcode, or is named by PLU only
    return None


def save_product(fields: ProductFields, actor: str) -> tuple[MasterProduct, bool]:
    """Creates or updates a product; (product, created). CodeTaken when one of its codes is
    another product's, UnknownDeposit for a deposit type not defined."""
    with write_transaction():
        if fields.deposit is not None and DepositType.get_or_none(
                DepositType.code == fields.deposit) is None:
            raise UnknownDeposit(fields.deposit)
        product = existing(fields)
        _check_codes(fields, product.id if product else None)
        values = {"gtin": fields.gtin, "plu": fields.plu, "sku": sku_of(fields.gtin, fields.plu),
                  "name": fields.name, "category": fields.category, "vat_code": fields.vat_code,
                  "unit": fields.unit, "age_limit": fields.age_limit, "deposit": fields.deposit,
                  "active": fields.active, "content_amount": fields.content_amount,
                  "content_unit": fields.content_unit, "updated": stored(now_utc())}
        if product is None:
            product = MasterProduct.create(**values)
            old, action = None, "create"
            margin_cache.changed_from(None)  # a code sold before may be this product's
        else:
            old, action = snapshot(product), "update"
            if (product.vat_code, product.sku, product.gtin, product.plu,
                    sorted(barcodes_of(product.id))) != (
                    values["vat_code"], values["sku"], values["gtin"], values["plu"],
                    sorted(fields.barcodes)):
                margin_cache.changed_from(None)  # another rate, or other codes sold
            MasterProduct.update(**values).where(MasterProduct.id == product.id).execute()
            product = MasterProduct.get_by_id(product.id)
        MasterBarcode.delete().where(MasterBarcode.product == product.id).execute()
        for code in fields.barcodes:
            MasterBarcode.create(gtin=code, product=product.id)
        audit.record(actor, "product", product.sku, action, old, snapshot(product))
    return product, action == "create"


def _check_codes(fields: ProductFields, own: int | None) -> None:
    for code in (fields.gtin, *fields.barcodes):
        if code is None:
            continue
        holder = MasterProduct.get_or_none(MasterProduct.gtin == code)
        extra = MasterBarcode.get_or_none(MasterBarcode.gtin == code)
        holder_id = holder.id if holder else (extra.product if extra else None)
        if holder_id is not None and holder_id != own:
            raise CodeTaken("gtin", code, MasterProduct.get_by_id(holder_id).sku)
    if fields.plu is not None:
        holder = MasterProduct.get_or_none(MasterProduct.plu == fields.plu)
        if holder is not None and holder.id != own:
            raise CodeTaken("plu", fields.plu, holder.sku)


# -- deposit types ----------------------------------------------------------------------------
def save_deposit(code: str, name: str, amount_cents: int, vat_code: str = DEFAULT_DEPOSIT_VAT,
                 actor: str = "") -> DepositType:
    if not bounds.DEPOSIT_CODE.fullmatch(code) or len(code) > bounds.MAX_DEPOSIT_CODE:
        raise BadField("code", code, "not a deposit type code like statiegeld-015")
    if not 1 <= amount_cents <= bounds.MAX_DEPOSIT_CENTS:
        raise BadField("amount", amount_cents, f"not 0,01..{bounds.MAX_DEPOSIT_CENTS / 100:.2f} euro")
    if vat_code not in VAT_CODES:
        raise BadField("vat_code", vat_code, f"not one of {', '.join(VAT_CODES)}")
    with write_transaction():
        row = DepositType.get_or_none(DepositType.code == code)
        new = {"name": name, "amount_cents": amount_cents, "vat_code": vat_code}
        if row is None:
            row = DepositType.create(code=code, **new)
            audit.record(actor, "deposit", code, "create", None, new)
        else:
            old = {"name": row.name, "amount_cents": row.amount_cents, "vat_code": row.vat_code}
            DepositType.update(**new).where(DepositType.code == code).execute()
            audit.record(actor, "deposit", code, "update", old, new)
    return DepositType.get_by_id(code)


def ensure_dutch_deposits(actor: str = "setup") -> None:
    """The two Dutch statiegeld types, with the default VAT code, unless already defined."""
    for code, name, cents in DUTCH_DEPOSITS:
        if DepositType.get_or_none(DepositType.code == code) is None:
            save_deposit(code, name, cents, DEFAULT_DEPOSIT_VAT, actor)


# -- prices, costs, store ranges ----------------------------------------------------------------
def set_price(product: MasterProduct, price_cents: int, valid_from: dt.datetime,
              store: str = ALL_STORES, actor: str = "") -> None:
    """The shelf price from `valid_from` on (now or planned) for one store or all."""
    if not 0 <= price_cents <= bounds.MAX_PRICE_CENTS:
        raise BadField("price", price_cents, "out of range")
    when = stored(valid_from)
    with write_transaction():
        row = PriceEntry.get_or_none(PriceEntry.store == store, PriceEntry.product == product.id,
                                     PriceEntry.valid_from == when)
        old = {"price_cents": row.price_cents} if row else None
        if row is None:
            PriceEntry.create(store=store, product=product.id, price_cents=price_cents,
                              valid_from=when)
        else:
            PriceEntry.update(price_cents=price_cents).where(PriceEntry.id == row.id).execute()
        audit.record(actor, "price", product.sku, "reprice" if old else "schedule",
                     {**old, "store": store, "valid_from": when} if old else None,
                     {"price_cents": price_cents, "store": store, "valid_from": when})


def cancel_price(product: MasterProduct, valid_from: dt.datetime, store: str = ALL_STORES,
                 actor: str = "") -> bool:
    when = stored(valid_from)
    with write_transaction():
        row = PriceEntry.get_or_none(PriceEntry.store == store, PriceEntry.product == product.id,
                                     PriceEntry.valid_from == when)
        if row is None:
            return False
        PriceEntry.delete().where(PriceEntry.id == row.id).execute()
        audit.record(actor, "price", product.sku, "delete",
                     {"price_cents": row.price_cents, "store": store, "valid_from": when}, None)
    return True


def set_cost(product: MasterProduct, cost_cents: int, valid_from: dt.datetime,
             actor: str = "") -> None:
    if not 0 <= cost_cents <= bounds.MAX_PRICE_CENTS:
        raise BadField("cost", cost_cents, "out of range")
    when = stored(valid_from)
    with write_transaction():
        before = cost_at(product.id, valid_from)
        cost_change([product.id], when, lambda: CostPrice.insert(
            product=product.id, cost_cents=cost_cents, valid_from=when).on_conflict(
            conflict_target=[CostPrice.product, CostPrice.valid_from],
            update={CostPrice.cost_cents: cost_cents}).execute())
        audit.record(actor, "cost", product.sku, "update" if before is not None else "create",
                     {"cost_cents": before}, {"cost_cents": cost_cents, "valid_from": when})


def cost_change(product_ids: list[int], when: str, write: Callable[[], Any]) -> None:
    """Runs `write`, which stores cost prices of these products valid from the stored moment
    `when`, and keeps the margin's kept months current with exactly what it changed: only
    these products' day rows from `when`'s month on are costed again (cost_deltas), not
    every product's months. Call inside the write transaction."""
    kept = margin_cache.cost_changed_from(when[:7])  # its UTC month: never after its shop's
    if not kept:
        write()
        return
    before = CostBook(product_ids)
    write()
    after = CostBook(product_ids)
    first = min(month for _scope, month in kept)
    sold = [row[0] for row in AggMarginAll.select(AggMarginAll.product).distinct()
            .where(AggMarginAll.month >= first).tuples()]
    ids = set(product_ids)
    products = {code: facts for code, facts in find_many(sold).items()
                if facts is not None and facts.id in ids}
    if not products:
        return
    rows = [(store, bucket[1:], code, quantity, gross) for store, bucket, code, quantity, gross
            in AggProduct.select(AggProduct.store, AggProduct.bucket, AggProduct.product,
                                 AggProduct.quantity, AggProduct.gross)
            .where(AggProduct.product.in_(sorted(products)), AggProduct.bucket >= "d" + first,
                   AggProduct.bucket < "e").tuples()]
    margin_cache.added(cost_deltas(rows, products, before, after, kept))


def cost_at(product_id: int, moment: dt.datetime) -> int | None:
    """The cost price valid at `moment` (the one of a sale, for its margin), or None."""
    row = (CostPrice.select().where(CostPrice.product == product_id,
                                    CostPrice.valid_from <= stored(moment))
           .order_by(CostPrice.valid_from.desc()).first())
    return row.cost_cents if row else None


def set_store_active(product: MasterProduct, store: str, active: bool, actor: str = "") -> None:
    with write_transaction():
        row = StoreProduct.get_or_none(StoreProduct.store == store,
                                       StoreProduct.product == product.id)
        before = bool(row.active) if row else bool(product.active)
        StoreProduct.insert(store=store, product=product.id, active=active).on_conflict(
            conflict_target=[StoreProduct.store, StoreProduct.product],
            update={StoreProduct.active: active}).execute()
        audit.record(actor, "store", product.sku, "update", {"store": store, "active": before},
                     {"store": store, "active": active})
