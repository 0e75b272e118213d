"""Pre-aggregated sales totals, updated in the same transaction as each ingest batch.

The dashboard and the tax exports read these small tables instead of rescanning the journal:
per shop/terminal/day/hour, per product (day and month buckets), per VAT rate and per tender.
Training entries never count. Amounts are integer cents; refunds and voids of paid tickets
count negative, as they do in the journal.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import peewee

from headoffice.aggregate_models import AGG_MODELS, AggDay, AggHour, AggProduct, AggVat
from headoffice.models import OfficeEntry

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


def body_of(entry: Any) -> dict[str, Any]:
    """The parsed body of an entry given as a dict, a JSON text or a row with `.body`."""
    body = entry.get("body", entry) if isinstance(entry, dict) else getattr(entry, "body", entry)
    if isinstance(body, (str, bytes)):
        body = json.loads(body)
    return body


def _money_entry(totals: BatchTotals, body: dict[str, Any], kind: str) -> None:
    data = body.get("data") or {}
    store, terminal, ts = body["store"], body["terminal"], body["ts"]
    day, hour = ts[:10], int(ts[11:13])
    agg = totals.day[(store, terminal, day)]
    total = int(data.get("total", 0))
    agg["turnover"] += total
    agg["rounding"] += int(data.get("rounding", 0))
    for tender in data.get("tenders", ()):
        if tender.get("kind") in ("cash", "card", "voucher"):
            agg[tender["kind"]] += int(tender.get("amount", 0))
    hour_row = totals.hour[(store, terminal, day, hour)]
    hour_row[1] += total
    if kind == "sale":
        agg["tickets"] += 1
        agg["sales_gross"] += total
        hour_row[0] += 1
    else:
        agg["refunds" if kind == "refund" else "voids"] += 1
    for vat in data.get("vat", ()):
        row = totals.vat[(store, terminal, day, vat["code"], int(vat["rate_bp"]))]
        row[0] += int(vat["gross"])
        row[1] += int(vat["vat"])
    for line in data.get("lines", ()):
        if line.get("removed"):
            continue
        quantity = int(line.get("quantity", 0))
        if kind == "sale":
            agg["items"] += quantity
        product = str(line.get("code") or line.get("product_id") or line.get("name", "?"))[:64]
        for bucket in ("d" + day, "m" + day[:7]):
            row = totals.product[(store, bucket, product)]
            row[0] = str(line.get("name", ""))[:255]
            row[1] += quantity
            row[2] += int(line.get("gross", 0))


def z_variance(data: dict[str, Any]) -> int | None:
    """The cash variance (counted - expected) a Z close states, if it states one."""
    for key in ("cash_variance", "variance"):
        value = data.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    for nested in ("cash", "count", "totals"):
        inner = data.get(nested)
        if isinstance(inner, dict):
            found = z_variance(inner)
            if found is not None:
                return found
    return None


def collect(entries: Iterable[Any]) -> BatchTotals:
    """Adds up a batch of journal entries (bodies) into per-key deltas."""
    totals = BatchTotals()
    for entry in entries:
        body = body_of(entry)
        if body.get("training"):
            continue
        kind = body.get("type")
        data = body.get("data") or {}
        if kind in ("sale", "refund") or (kind == "void" and data.get("scope") == "paid"):
            _money_entry(totals, body, kind)
            continue
        key = (body["store"], body["terminal"], body["ts"][:10])
        if kind == "void":
            totals.day[key]["voided_open"] += 1
        elif kind == "no_sale":
            totals.day[key]["no_sales"] += 1
        elif kind == "price_override":
            totals.day[key]["overrides"] += 1
        elif kind == "z_close":
            variance = z_variance(data)
            if variance:
                totals.day[key]["cash_variance"] += variance
    return totals


def _upsert(model: type[peewee.Model], rows: list[dict[str, Any]], target: list[peewee.Field],
            add: list[str], replace: tuple[str, ...] = ()) -> None:
    if not rows:
        return
    excluded = peewee.EXCLUDED
    update: dict[Any, Any] = {getattr(model, name): getattr(model, name) + getattr(excluded, name)
                              for name in add}
    for name in replace:
        update[getattr(model, name)] = getattr(excluded, name)
    for start in range(0, len(rows), 500):
        (model.insert_many(rows[start:start + 500])
         .on_conflict(conflict_target=target, update=update).execute())


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
    _upsert(AggProduct, product_rows, [AggProduct.store, AggProduct.bucket, AggProduct.product],
            ["quantity", "gross"], replace=("name",))


def rebuild(db: peewee.Database, batch: int = 5000) -> int:
    """Recomputes every aggregate from the stored journal (after a schema change or restore)."""
    with db.atomic():
        for model in AGG_MODELS:
            model.delete().execute()
        count = 0
        chunk: list[str] = []
        query = (OfficeEntry.select(OfficeEntry.body)
                 .where(OfficeEntry.type.in_(("sale", "refund", "void", "no_sale", "price_override",
                                              "z_close")))
                 .order_by(OfficeEntry.terminal, OfficeEntry.seq))
        for row in query.iterator():
            chunk.append(row.body)
            if len(chunk) >= batch:
                apply(collect(chunk))
                count += len(chunk)
                chunk = []
        apply(collect(chunk))
        return count + len(chunk)
