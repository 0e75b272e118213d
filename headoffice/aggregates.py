"""Pre-aggregated sales totals, updated in the same transaction as each ingest batch.

The dashboard and the tax exports read these small tables instead of rescanning the journal:
per shop/terminal/day/hour, per product (day, month and year buckets, and per month the
sums the margin report reads: headoffice/margin_months.py), per VAT rate and per tender.
Entries are read through the contract (headoffice.received: contract.entries' typed
entries) and summed with contract.figures' reduction, so every figure has the definition and
sign the till's reports give it: refunds and voids of paid tickets count negative. Training
entries never count. Amounts are integer cents.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import peewee

from contract import figures
from contract.entries import Entry, EntrySchemaError, TicketLine
from headoffice import bulk, margin_cache, margin_deltas, margin_months
from headoffice.aggregate_models import (
    AGG_MODELS,
    ROLLUPS,
    AggCashier,
    AggDay,
    AggDiscount,
    AggHour,
    AggMargin,
    AggProduct,
    AggPromotion,
    AggVat,
    rollup_columns,
)
from headoffice.models import OfficeEntry
from headoffice.received import Received, read

log = logging.getLogger("kassa.office.aggregates")

_DAY_FIELDS = [f for f in AggDay._meta.sorted_field_names
               if f not in ("id", "store", "terminal", "day")]


@dataclass
class BatchTotals:
    """Deltas of one batch, keyed like the unique indexes, so each row is upserted once."""

    day: dict[tuple[str, str, str], dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    hour: dict[tuple[str, str, str, int], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0]))
    vat: dict[tuple[str, str, str, str, int], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0]))
    product: dict[tuple[str, str, str], list[Any]] = field(
        default_factory=lambda: defaultdict(lambda: ["", 0, 0]))
    # (store, day, promotion) -> [name, version, tickets, discount, quantity, gross]
    promotion: dict[tuple[str, str, str], list[Any]] = field(
        default_factory=lambda: defaultdict(lambda: ["", 0, 0, 0, 0, 0]))
    # (store, terminal, day, cashier) -> [tickets, turnover]
    cashier: dict[tuple[str, str, str, str], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0]))
    # (store, terminal, day, cashier, kind, ref) -> [name, *DISCOUNT_FIELDS]
    discount: dict[tuple[str, str, str, str, str, str], list[Any]] = field(
        default_factory=lambda: defaultdict(lambda: ["", 0, 0, 0, 0, 0]))


DISCOUNT_FIELDS = ("tickets", "lines", "quantity", "gross", "discount")
OFFER_PREFIX = "offer:"  # a personal offer's line discount (firmware/offers.py discount_by)


# AggDay columns that are contract.figures' figures: column -> (figure, "count" | "amount"),
# summed from figures.entry_figures(body) (its definitions and signs; docs/GLOSSARY.md).
# turnover is figures.turnover_of; cash_variance the typed z_close's variance; VAT, tenders
# and cash rounding are the typed entry's own amounts; items counts the units sold.
DAY_FIGURES = {
    "tickets": ("sales", "count"),
    "sales_gross": ("sales", "amount"),
    "refunds": ("refunds", "count"),
    "voids": ("voids_paid", "count"),
    "voided_open": ("voids_open", "count"),
    "no_sales": ("no_sales", "count"),
    "overrides": ("price_overrides", "count"),
}
TENDER_COLUMNS = frozenset({"cash", "card", "voucher"})


def _add_figures(totals: BatchTotals, received: Received) -> None:
    body, entry = received.body, received.entry
    found = figures.entry_figures(body)
    moves_money = figures.moves_money(body)
    if not found and not moves_money:
        return
    day, hour = entry.ts[:10], int(entry.ts[11:13])
    agg = totals.day[(entry.store, entry.terminal, day)]
    for column, (figure, part) in DAY_FIGURES.items():
        if figure in found:
            agg[column] += found[figure][part]
    _add_cashier(totals, received, found, day)
    if not moves_money:
        return
    data = entry.data
    turnover = figures.turnover_of(body)
    agg["turnover"] += turnover
    agg["rounding"] += data.rounding
    for tender in data.tenders:
        if tender.kind in TENDER_COLUMNS:
            agg[tender.kind] += tender.amount
    hour_row = totals.hour[(entry.store, entry.terminal, day, hour)]
    hour_row[0] += found.get("sales", {}).get("count", 0)
    hour_row[1] += turnover
    for vat in data.vat:
        row = totals.vat[(entry.store, entry.terminal, day, vat.code, vat.rate_bp)]
        row[0] += vat.gross
        row[1] += vat.vat
    _add_products(totals, entry, day)
    _add_promotions(totals, entry, day)


def _add_cashier(totals: BatchTotals, received: Received, found: dict[str, dict[str, int]],
                 day: str) -> None:
    """Per cashier: sales and turnover (contract.figures), and every reduction on the lines
    of a sale or counter-entry (AggDiscount)."""
    if not figures.moves_money(received.body):
        return
    entry = received.entry
    cashier = (entry.cashier or "")[:255]
    row = totals.cashier[(entry.store, entry.terminal, day, cashier)]
    row[0] += found.get("sales", {}).get("count", 0)
    row[1] += figures.turnover_of(received.body)
    seen: set[tuple[str, str]] = set()

    def add(kind: str, ref: str, name: str, line: TicketLine | None, given: int) -> None:
        agg = totals.discount[(entry.store, entry.terminal, day, cashier, kind, ref)]
        agg[0] = name[:255]
        if (kind, ref) not in seen and entry.type == "sale":
            agg[1] += 1
        seen.add((kind, ref))
        agg[5] += given
        if line is not None:
            agg[2] += 1
            agg[3] += line.quantity
            agg[4] += line.gross

    lines = {line.line_no: line for line in entry.data.lines if not line.removed}
    for line in lines.values():
        by = line.discount_by or ""
        if line.discount:
            if by.startswith(OFFER_PREFIX):
                add("offer", by[len(OFFER_PREFIX):][:64], "", line, line.discount)
            else:
                add("manual", "", "", line, line.discount)
        if line.ticket_discount:
            add("ticket", "", "", line, line.ticket_discount)
        if line.override_by and line.original_unit_price is not None:
            add("override", "", "", line,
                (line.original_unit_price - line.unit_price) * line.quantity)
    for promotion in getattr(entry.data, "promotions", ()):
        covered = [lines[s.line_no] for s in promotion.lines if s.line_no in lines]
        add("promotion", promotion.id[:64], promotion.name, None, promotion.discount)
        for line in covered:
            add("promotion", promotion.id[:64], promotion.name, line, 0)


def _add_promotions(totals: BatchTotals, entry: Entry, day: str) -> None:
    """Per promotion of a sale or counter-entry: its discount (as journaled: positive on a
    sale, negative on a refund or paid void), and the pieces and gross of the lines it
    covered; a sale also counts one ticket. A line in two promotions counts in both."""
    promotions = getattr(entry.data, "promotions", ())
    if not promotions:
        return
    lines = {line.line_no: line for line in entry.data.lines if not line.removed}
    for promotion in promotions:
        row = totals.promotion[(entry.store, day, promotion.id)]
        row[0] = promotion.name[:255]
        row[1] = max(row[1], promotion.version)
        row[2] += 1 if entry.type == "sale" else 0
        row[3] += promotion.discount
        for share in promotion.lines:
            line = lines.get(share.line_no)
            if line is not None:
                row[4] += line.quantity
                row[5] += line.gross


def _add_products(totals: BatchTotals, entry: Entry, day: str) -> None:
    """Units and gross per product, from the typed lines of a sale or counter-entry."""
    for line in entry.data.lines:
        if line.removed:
            continue
        if entry.type == "sale":
            totals.day[(entry.store, entry.terminal, day)]["items"] += line.quantity
        product = str(line.code or line.product_id or line.name or "?")[:64]
        for bucket in ("d" + day, "m" + day[:7], "y" + day[:4]):
            row = totals.product[(entry.store, bucket, product)]
            row[0] = line.name[:255]
            row[1] += line.quantity
            row[2] += line.gross


def collect(received: Iterable[Received]) -> BatchTotals:
    """Adds up a batch of journal entries, read through the contract, into per-key deltas.
    Training entries never count."""
    totals = BatchTotals()
    for item in received:
        entry = item.entry
        if entry.training:
            continue
        if entry.type == "z_close":
            if entry.data.variance:
                totals.day[(entry.store, entry.terminal, entry.ts[:10])]["cash_variance"] += \
                    entry.data.variance
            continue
        _add_figures(totals, item)
    return totals


def _rolled_up(model: type[peewee.Model], rows: list[dict[str, Any]]) -> None:
    """Adds the same deltas to each of the model's roll-ups (over every shop and terminal,
    or a shop's terminals: aggregate_models.ROLLUPS)."""
    for rollup, source in ROLLUPS.items():
        if source is model:
            _roll_up(rollup, rows)


def _roll_up(rollup: type[peewee.Model], rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    key, sums, text = rollup_columns(rollup)
    summed: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        ident = tuple(row[k] for k in key)
        into = summed.get(ident)
        if into is None:
            summed[ident] = {**{k: row[k] for k in key}, **{c: row[c] for c in sums},
                             **{c: row[c] for c in text}}
            continue
        for column in sums:
            into[column] += row[column]
        for column in text:
            into[column] = row[column]
    _upsert(rollup, list(summed.values()), [rollup._meta.fields[k] for k in key], sums,
            tuple(text))


def _upsert(model: type[peewee.Model], rows: list[dict[str, Any]], target: list[peewee.Field],
            add: list[str], replace: tuple[str, ...] = (),
            returning: tuple[str, ...] = ()) -> list[tuple]:
    """One multi-row upsert per page, through the driver (peewee's statement building cost
    more than the database's work here), in key order: one lock order for every worker.
    The same deltas go to the model's roll-up. Returns the `returning` columns of the rows
    written, as they are after it."""
    if not rows:
        return []
    _rolled_up(model, rows)
    names = list(rows[0])
    key = [f.name for f in target]
    rows = sorted(rows, key=lambda r: tuple(r[k] for k in key))
    fields = model._meta.fields
    return bulk.upsert(model._meta.table_name, [fields[n].column_name for n in names],
                       [f.column_name for f in target], [tuple(r[n] for n in names) for r in rows],
                       add=[fields[n].column_name for n in add],
                       replace=[fields[n].column_name for n in replace],
                       returning=[fields[n].column_name for n in returning])


def apply(totals: BatchTotals) -> None:
    """Writes the deltas; call inside the ingest's write transaction."""
    day_rows = [{"store": s, "terminal": t, "day": d, **{f: v.get(f, 0) for f in _DAY_FIELDS}}
                for (s, t, d), v in totals.day.items()]
    _upsert(AggDay, day_rows, [AggDay.store, AggDay.terminal, AggDay.day], _DAY_FIELDS)
    hour_rows = [{"store": s, "terminal": t, "day": d, "hour": h, "tickets": v[0], "turnover": v[1]}
                 for (s, t, d, h), v in totals.hour.items()]
    _upsert(AggHour, hour_rows, [AggHour.store, AggHour.terminal, AggHour.day, AggHour.hour],
            ["tickets", "turnover"])
    vat_rows = [{"store": s, "terminal": t, "day": d, "code": c, "rate_bp": r, "gross": v[0],
                 "vat": v[1]} for (s, t, d, c, r), v in totals.vat.items()]
    _upsert(AggVat, vat_rows, [AggVat.store, AggVat.terminal, AggVat.day, AggVat.code,
                               AggVat.rate_bp], ["gross", "vat"])
    product_rows = [{"store": s, "bucket": b, "product": p, "name": v[0], "quantity": v[1],
                     "gross": v[2]} for (s, b, p), v in totals.product.items()]
    written = _upsert(AggProduct, product_rows,
                      [AggProduct.store, AggProduct.bucket, AggProduct.product],
                      ["quantity", "gross"], replace=("name",),
                      returning=("store", "bucket", "product", "gross"))
    # the month roll-up of the day rows' nets, from each day row's gross before and after
    _upsert(AggMargin, margin_months.month_rows(written, totals.product),
            [AggMargin.store, AggMargin.product, AggMargin.month],
            ["quantity", "gross", *margin_months.NET_COLUMNS.values()])
    margin_deltas.add(written, totals.product)
    _apply_promotions(totals)
    cashier_rows = [{"store": s, "terminal": t, "day": d, "cashier": c, "tickets": v[0],
                     "turnover": v[1]} for (s, t, d, c), v in totals.cashier.items()]
    _upsert(AggCashier, cashier_rows, [AggCashier.store, AggCashier.terminal, AggCashier.day,
                                       AggCashier.cashier], ["tickets", "turnover"])
    discount_rows = [{"store": s, "terminal": t, "day": d, "cashier": c, "kind": k, "ref": r,
                      "name": v[0], **dict(zip(DISCOUNT_FIELDS, v[1:], strict=True))}
                     for (s, t, d, c, k, r), v in totals.discount.items()]
    _upsert(AggDiscount, discount_rows, [AggDiscount.store, AggDiscount.terminal, AggDiscount.day,
                                         AggDiscount.cashier, AggDiscount.kind, AggDiscount.ref],
            list(DISCOUNT_FIELDS), replace=("name",))


def _apply_promotions(totals: BatchTotals) -> None:
    rows = [{"store": s, "day": d, "promotion": p, "name": v[0], "version": v[1], "tickets": v[2],
             "discount": v[3], "quantity": v[4], "gross": v[5]}
            for (s, d, p), v in totals.promotion.items()]
    _upsert(AggPromotion, rows, [AggPromotion.store, AggPromotion.day, AggPromotion.promotion],
            ["tickets", "discount", "quantity", "gross"], replace=("name",))
    if rows:  # the highest version seen, whatever order the batches came in
        for (s, d, p), v in totals.promotion.items():
            (AggPromotion.update(version=v[1])
             .where(AggPromotion.store == s, AggPromotion.day == d, AggPromotion.promotion == p,
                    AggPromotion.version < v[1]).execute())


def rebuild(db: peewee.Database, batch: int = 5000) -> int:
    """Recomputes every aggregate from the stored journal (after a schema change or restore).
    A stored body the contract cannot read any more is left out and logged."""
    with db.atomic():
        for model in AGG_MODELS:
            model.delete().execute()
        margin_cache.changed_from(None)
        count = 0
        chunk: list[Received] = []
        query = (OfficeEntry.select(OfficeEntry.terminal, OfficeEntry.seq, OfficeEntry.body)
                 .where(OfficeEntry.type.in_(("sale", "refund", "void", "no_sale", "price_override",
                                              "z_close")))
                 .order_by(OfficeEntry.terminal, OfficeEntry.seq))
        for row in query.iterator():
            try:
                chunk.append(read(row.body, strict=False))
            except (EntrySchemaError, ValueError) as exc:
                log.warning("entry %s of %s left out of the aggregates: %s", row.seq,
                            row.terminal, exc)
                continue
            if len(chunk) >= batch:
                apply(collect(chunk))
                count += len(chunk)
                chunk = []
        apply(collect(chunk))
        return count + len(chunk)
