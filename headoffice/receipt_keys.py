"""The receipt search's index: what a receipt can be found by (its amount, card references,
customer, product codes and VAT rates) and what a refund, void or copy was journaled
against, one short row per value, so a search reads a few index rows instead of a LIKE over
every signed body. The reports' drill-down to a product, category or VAT rate reads the
same keys (headoffice.web.report_queries.tickets_behind).

Ingest writes a batch's keys in its own transaction (headoffice/ingest/store.py), and
headoffice.schema.create_all fills the table once from the stored journal of a database that
predates it (and the VAT keys alone in one whose keys predate those). The keys only narrow:
the search still matches the signed body itself (headoffice.web.receipt_search.matches),
as the drill-down does, so what is found is what the till journaled.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import peewee

from headoffice import bulk
from headoffice.orm import OfficeModel, is_postgres

RECEIPT_TYPES = ("sale", "refund", "void")
AGAINST_TYPES = ("refund", "void", "receipt_copy")
BACKFILL_CHUNK = 5000
PAGE = 400  # rows read per statement


class ReceiptKey(OfficeModel):
    """One value a receipt is found by. kind: amount (|total| or |total_paid| in cents),
    card (a card reference, lower case), customer (the pseudonym), product (a line's code or
    SKU, lower case; for a line without a code its report key, lower case), vat (each rate of
    its VAT amounts, `code:rate_bp`), against (`<terminal>/<seq>` of the receipt an entry
    refers to)."""

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
    out.update(("vat", vat_value(vat)) for vat in data.get("vat", ()))
    out.update(("card", ref.lower()) for ref in card_refs(data))
    if data.get("customer_id"):
        out.add(("customer", data["customer_id"]))
    for line in data.get("lines", ()):
        if not line.get("removed"):
            out.update(("product", value) for value in _product_values(line))
            if not line.get("code"):  # the reports key such a line by its id or name
                out.add(("product", line_key(line).lower()))
    return {(k, v[:200]) for k, v in out}


def vat_value(vat: Mapping[str, Any]) -> str:
    """A ticket's VAT amount as the reports name its rate: `code:rate_bp` (high:2100)."""
    return f"{vat.get('code')}:{vat.get('rate_bp')}"


def line_key(line: Mapping[str, Any]) -> str:
    """A journal line's product key as the reports know it (headoffice/aggregates.py's
    AggProduct.product): its code, else its product id, else its name, cut at 64."""
    return str(line.get("code") or line.get("product_id") or line.get("name") or "?")[:64]


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
    receipts (a database from before the index: every receipt has an amount key); the VAT
    keys alone when the table holds keys but none of those (it predates them)."""
    from headoffice.models import OfficeEntry

    if ReceiptKey.select().exists():
        if not _holds("vat") and _holds("amount"):
            fill_vat(db)
        return
    if not OfficeEntry.select().where(
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


def _holds(kind: str) -> bool:
    return ReceiptKey.select().where(ReceiptKey.kind == kind).exists()


# each receipt's VAT keys (as vat_value names them: a missing part reads None), read by the
# database's own JSON functions: (the value, the rows it is read from)
_VAT_ROWS = {
    "sqlite": ("COALESCE(json_extract(v.value, '$.code'), 'None') || ':' ||"
               " COALESCE(json_extract(v.value, '$.rate_bp'), 'None')",
               "journal_entry j, json_each(j.body, '$.data.vat') v"),
    "postgresql": ("COALESCE(v ->> 'code', 'None') || ':' || COALESCE(v ->> 'rate_bp', 'None')",
                   "journal_entry j, jsonb_array_elements(j.body::jsonb -> 'data' -> 'vat') v"),
}


def fill_vat(db: peewee.Database) -> None:
    """The VAT keys of every stored receipt, in one statement: the database reads the rates
    out of the stored bodies itself (a million receipts in about a minute), where parsing
    them here would take minutes."""
    engine = "postgresql" if is_postgres(db) else "sqlite"
    types = ", ".join(f"'{t}'" for t in RECEIPT_TYPES)
    value, rows = _VAT_ROWS[engine]
    with db.atomic():
        if engine == "postgresql":  # workers starting at once: the second waits here until
            # the first commits, then finds the keys (on SQLite its write fails and
            # create_all retries)
            db.execute_sql("LOCK TABLE receipt_key IN SHARE ROW EXCLUSIVE MODE")
            if _holds("vat"):
                return
        db.execute_sql(f"INSERT INTO receipt_key ({', '.join(COLUMNS)}) SELECT DISTINCT"
                       f" 'vat', {value}, j.terminal, j.seq, j.store, j.ts FROM {rows}"
                       f" WHERE j.type IN ({types})")
    db.execute_sql("ANALYZE receipt_key")


def pages(query: peewee.ModelSelect) -> Iterator[Any]:
    """The rows of an ordered query PAGE at a time (LIMIT/OFFSET): the PostgreSQL driver
    would fetch every row at once, where a reader stops after a few hundred rows."""
    offset = 0
    while True:
        rows = list(query.limit(PAGE).offset(offset))
        yield from rows
        if len(rows) < PAGE:
            return
        offset += PAGE


def _keyed_query(kind: str, values: list[str], since: str | None, until: str | None,
                 scope: Mapping[str, Any]) -> peewee.ModelSelect:
    query = (ReceiptKey.select(ReceiptKey.terminal, ReceiptKey.seq)
             .where(ReceiptKey.kind == kind, ReceiptKey.value.in_(values))
             .order_by(ReceiptKey.ts.desc(), ReceiptKey.terminal, ReceiptKey.seq.desc()))
    if scope.get("shops") is not None:
        query = query.where(ReceiptKey.store.in_(sorted(scope["shops"])))
    for name in ("store", "terminal"):
        if scope.get(name):
            query = query.where(getattr(ReceiptKey, name) == scope[name])
    if since:
        query = query.where(ReceiptKey.ts >= since)
    if until:
        query = query.where(ReceiptKey.ts < until)
    return query.tuples()


def newest_first(kind: str, values: list[str], since: str | None = None,
                 until: str | None = None, **scope: Any) -> Iterator[tuple[str, int]]:
    """(terminal, seq) of the entries with one of the key's values and since <= ts < until,
    in the journal's newest-first order (ts descending, terminal, seq descending); `scope`
    may narrow to `shops` (a set), a `store` and a `terminal`. An entry with two of the
    values comes twice. Several values are read 1, 2, 4... days at a time back from the
    newest entry: each window is a few index ranges, where one query over all time would
    sort every entry of every value to give the newest."""
    if len(values) == 1:
        yield from pages(_keyed_query(kind, values, since, until, scope))
        return
    from headoffice.models import OfficeEntry

    # one aggregate per statement: SQLite reads MIN or MAX alone off the ts index, but both
    # in one statement by scanning all of it
    newest = OfficeEntry.select(peewee.fn.MAX(OfficeEntry.ts)).scalar()
    oldest = OfficeEntry.select(peewee.fn.MIN(OfficeEntry.ts)).scalar()
    if newest is None or oldest is None:
        return
    end = min(until or "9999", (dt.date.fromisoformat(newest[:10])
                                + dt.timedelta(days=2)).isoformat())
    bottom = max(since or "", oldest[:10])
    days = 1
    while end > bottom:
        start = max(bottom, (dt.date.fromisoformat(end[:10]) - dt.timedelta(days=days))
                    .isoformat())
        yield from pages(_keyed_query(kind, values, start, end, scope))
        end, days = start, days * 2


def entries_newest_first(kind: str, values: list[str], since: str | None = None,
                         until: str | None = None, columns: tuple[str, ...] = ("body",),
                         **scope: Any) -> Iterator[tuple]:
    """`columns` of the journal entries `newest_first` names, in its order, each once, read
    PAGE at a time by (terminal, seq)."""
    from headoffice.models import OfficeEntry

    seen: set[tuple[str, int]] = set()  # an entry with two of the values comes twice
    pairs = (p for p in newest_first(kind, values, since, until, **scope)
             if not (p in seen or seen.add(p)))
    while True:
        page = list(itertools.islice(pairs, PAGE))
        if not page:
            return
        stored = {(t, s): rest for t, s, *rest in bulk.select_pairs(
            OfficeEntry._meta.table_name, ("terminal", "seq", *columns), page)}
        yield from (tuple(stored[pair]) for pair in page if pair in stored)


def forget(terminal: str, seq: int) -> None:
    """Drops the keys of an entry taken out of the journal again (a forked chain)."""
    ReceiptKey.delete().where(ReceiptKey.terminal == terminal, ReceiptKey.seq == seq).execute()
