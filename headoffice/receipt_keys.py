"""The receipt search's index: what a receipt can be found by (its amount, card references,
customer and product codes) and what a refund, void or copy was journaled against, one short
row per value, so a search reads a few index rows instead of a LIKE over every signed body.

Ingest writes a batch's keys in its own transaction (headoffice/ingest/store.py), and
headoffice.schema.create_all fills the table once from the stored journal of a database that
predates it. The keys only narrow: the search still matches the signed body itself
(headoffice.web.receipt_search.matches), so what it finds is what the till journaled.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import peewee

from headoffice import bulk
from headoffice.orm import OfficeModel

RECEIPT_TYPES = ("sale", "refund", "void")
AGAINST_TYPES = ("refund", "void", "receipt_copy")
BACKFILL_CHUNK = 5000


class ReceiptKey(OfficeModel):
    """One value a receipt is found by. kind: amount (|total| or |total_paid| in cents),
    card (a card reference, lower case), customer (the pseudonym), product (a line's code or
    SKU, lower case), against (`<terminal>/<seq>` of the receipt an entry refers to)."""

    kind = peewee.CharField(max_length=16)
    value = peewee.CharField(max_length=200)
    terminal = peewee.CharField(max_length=64)
    seq = peewee.BigIntegerField()
    store = peewee.CharField(max_length=64)
    ts = peewee.CharField(max_length=40)

    class Meta:
        table_name = "receipt_key"
        indexes = ((("kind", "value", "ts"), False), (("terminal", "seq"), False))


class ProductName(OfficeModel):
    """Each product name sold (lower case) with the product key its lines carry, so a
    search by part of a name looks through the few names, then the keys."""

    name = peewee.CharField(max_length=200)
    value = peewee.CharField(max_length=200)

    class Meta:
        table_name = "receipt_product_name"
        indexes = ((("name", "value"), True),)


RECEIPT_KEY_MODELS: list[type[peewee.Model]] = [ReceiptKey, ProductName]
COLUMNS = ("kind", "value", "terminal", "seq", "store", "ts")


def card_refs(data: Mapping[str, Any]) -> Iterator[str]:
    """The card references of a receipt's tenders, as journaled."""
    for tender in data.get("tenders", ()):
        if tender.get("reference"):
            yield tender["reference"]
        card = tender.get("card") or {}
        for key in ("psp_reference", "transaction_ref", "poi_transaction_id"):
            if card.get(key):
                yield card[key]


def keys_of(body: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(kind, value) of one journal body; none for entries that are no receipt and refer to
    none. Values longer than the column are cut: a key narrows, the body decides."""
    kind, data = body.get("type"), body.get("data") or {}
    out: set[tuple[str, str]] = set()
    if kind in AGAINST_TYPES and body.get("ref_seq") is not None:
        out.add(("against", f"{body['terminal']}/{body['ref_seq']}"))
    if kind not in RECEIPT_TYPES:
        return out
    for name in ("total", "total_paid"):
        if isinstance(data.get(name), int):
            out.add(("amount", str(abs(data[name]))))
    out.update(("card", ref.lower()) for ref in card_refs(data))
    if data.get("customer_id"):
        out.add(("customer", data["customer_id"]))
    for line in data.get("lines", ()):
        if not line.get("removed"):
            out.update(("product", value) for value in _product_values(line))
    return {(k, v[:200]) for k, v in out}


def _product_values(line: Mapping[str, Any]) -> list[str]:
    """A line's product keys: its code and SKU (lower case), or `#` and its name when it
    has neither."""
    values = [str(line[name]).lower() for name in ("code", "sku") if line.get(name)]
    return values or ["#" + str(line.get("name") or "").lower()]


def names_of(bodies: Iterable[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """(lower-case name, its first product key) of every receipt line with a name."""
    out = set()
    for body in bodies:
        if body.get("type") not in RECEIPT_TYPES:
            continue
        for line in (body.get("data") or {}).get("lines", ()):
            if not line.get("removed") and line.get("name"):
                out.add((str(line["name"]).lower()[:200], _product_values(line)[0][:200]))
    return out


def product_values(part: str) -> list[str]:
    """The product keys of the names that contain `part` (lower case)."""
    query = (ProductName.select(ProductName.value).distinct()
             .where(ProductName.name.contains(part.lower())).tuples())
    return sorted(value for (value,) in query)


def rows_of(bodies: Iterable[Mapping[str, Any]]) -> list[tuple]:
    return [(kind, value, body["terminal"], body["seq"], body["store"], body["ts"])
            for body in bodies for kind, value in sorted(keys_of(body))]


def record(bodies: Iterable[Mapping[str, Any]]) -> None:
    """Writes the keys of newly stored entries (inside the caller's transaction)."""
    bodies = list(bodies)
    bulk.run_values(f"INSERT INTO receipt_key ({', '.join(COLUMNS)}) VALUES {{values}}",
                    rows_of(bodies))
    record_names(bodies)


def record_names(bodies: Iterable[Mapping[str, Any]]) -> None:
    """Adds the product names not seen before."""
    bulk.run_values("INSERT INTO receipt_product_name (name, value) VALUES {values}"
                    " ON CONFLICT (name, value) DO NOTHING", sorted(names_of(bodies)))


def fill_missing(db: peewee.Database) -> None:
    """The keys of every stored entry, once, when the table is empty and the journal holds
    receipts (a database from before the index: every receipt has an amount key)."""
    from headoffice.models import OfficeEntry

    if ReceiptKey.select().exists() or not OfficeEntry.select().where(
            OfficeEntry.type.in_(RECEIPT_TYPES + AGAINST_TYPES)).exists():
        return
    last = (OfficeEntry.select(OfficeEntry.id)
            .order_by(OfficeEntry.id.desc()).limit(1).scalar()) or 0
    for start in range(0, last + 1, BACKFILL_CHUNK):
        bodies = (OfficeEntry.select(OfficeEntry.body)
                  .where(OfficeEntry.id >= start, OfficeEntry.id < start + BACKFILL_CHUNK,
                         OfficeEntry.type.in_(RECEIPT_TYPES + AGAINST_TYPES)).tuples())
        record(json.loads(text) for (text,) in bodies)
    db.execute_sql("ANALYZE receipt_key")


def forget(terminal: str, seq: int) -> None:
    """Drops the keys of an entry taken out of the journal again (a forked chain)."""
    ReceiptKey.delete().where(ReceiptKey.terminal == terminal, ReceiptKey.seq == seq).execute()
