"""The report benchmark's data is what ingest would have stored (bench/report_data.py writes
it in bulk), and the drill-down that reads only the shop days the aggregates name finds the
same tickets, in the same order, as a scan of every entry."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from bench.report_data import Plan, chains_of, journal, populate, products

PLAN = Plan(sales=1500, shops=2, first=dt.date(2026, 3, 1), last=dt.date(2026, 3, 21),
            products=60, seed=5, refund_share=0.05, void_share=0.03)
SKIP = {"id", "received"}  # a row id, and the time ingest received the entry


def fields(model: Any) -> list[str]:
    return [n for n in model._meta.sorted_field_names if n not in SKIP]


def table_rows(model: Any) -> list[tuple]:
    names = fields(model)
    rows = model.select(*[getattr(model, n) for n in names]).tuples()
    return sorted(tuple(str(v) for v in row) for row in rows)


def snapshot() -> dict[str, list[tuple]]:
    from headoffice.aggregate_models import AGG_MODELS
    from headoffice.cash_records import CashRecord
    from headoffice.models import OfficeEntry
    from headoffice.receipt_keys import ProductName, ReceiptKey

    return {m.__name__: table_rows(m)
            for m in [*AGG_MODELS, OfficeEntry, ReceiptKey, ProductName, CashRecord]}


def ingest(url: str) -> None:
    """The plan's entries as signed messages through the real ingest (check, store_batch)."""
    from contract import wire
    from headoffice import registry
    from headoffice.db import open_office_db
    from headoffice.ingest.store import store_batch
    from headoffice.ingest.validate import KeyCache, Refusal, check_message

    db = open_office_db(url)
    chains = chains_of(PLAN)
    for store, terminal in PLAN.terminals():
        registry.add_terminal(terminal, store, chains[terminal].public_hex())
    signed = [e for day in journal(PLAN, products(PLAN), chains_of(PLAN)) for e in day]
    keys = KeyCache()
    for start in range(0, len(signed), 200):
        candidates = []
        for entry in signed[start:start + 200]:
            body = entry.body
            topic = wire.terminal_topic(body["store"], body["terminal"], "journal")
            payload = wire.encode_journal(entry.text, entry.hash, entry.sig, entry.prev)
            outcome = check_message(topic, payload, str(body["seq"]), keys)
            assert not isinstance(outcome, Refusal), outcome
            candidates.append((topic, payload, outcome))
        store_batch(db, candidates, [], [])


def test_bulk_data_equals_what_ingest_stores(tmp_path, office_db_url) -> None:
    """Ingest into a SQLite file; the bulk writer into the engine under test (COPY on
    PostgreSQL); every aggregate row and journal row the same."""
    from headoffice.aggregate_models import AggDay, AggDiscount
    from headoffice.cash_records import CashRecord
    from headoffice.db import database_proxy, open_office_db
    from headoffice.models import OfficeEntry
    from headoffice.receipt_keys import ReceiptKey

    ingest(f"sqlite:///{tmp_path / 'ingested.sqlite3'}")
    ingested = snapshot()
    database_proxy.obj.close()
    bulk = open_office_db(office_db_url)
    populate([bulk], PLAN, progress=lambda _text: None)
    written = snapshot()
    assert written == ingested
    # a database from before the roll-ups gets them summed from their aggregates, the same
    from headoffice import rollups

    for rollup in rollups.ROLLUPS:
        rollup.delete().execute()
    rollups.fill_missing(bulk)
    assert snapshot() == ingested
    # ... and the product totals' year buckets from their months
    from headoffice import product_years
    from headoffice.aggregate_models import AggProduct, AggProductAll

    for table in (AggProduct, AggProductAll):
        table.delete().where(table.bucket.between("y", "z")).execute()
    product_years.fill_missing(bulk)
    assert snapshot() == ingested
    # the sample has every kind of row the reports read
    assert len(written["OfficeEntry"]) > PLAN.sales
    kinds = {row[fields(AggDiscount).index("kind")] for row in written["AggDiscount"]}
    assert kinds == {"manual", "ticket", "override", "promotion", "offer"}
    day_fields = fields(AggDay)
    assert sum(int(r[day_fields.index("refunds")]) for r in written["AggDay"]) > 0
    assert sum(int(r[day_fields.index("voids")]) for r in written["AggDay"]) > 0
    # ... and every kind the receipt search and the cash page read
    types = {row[fields(OfficeEntry).index("type")] for row in written["OfficeEntry"]}
    assert types == {"sale", "refund", "void", "receipt_copy", "float", "cash_in", "cash_out",
                     "z_close"}
    kinds = {row[fields(ReceiptKey).index("kind")] for row in written["ReceiptKey"]}
    assert kinds == {"amount", "card", "customer", "product", "against", "vat"}
    variances = {int(r[fields(CashRecord).index("variance")]) for r in written["CashRecord"]}
    assert min(variances) < 0 < max(variances)
    # a database from before the search keys and cash rows gets them from its journal
    from headoffice import cash_records, receipt_keys

    ReceiptKey.delete().where(ReceiptKey.kind == "vat").execute()  # from before VAT keys
    receipt_keys.fill_missing(bulk)
    assert snapshot() == ingested
    ReceiptKey.delete().execute()
    CashRecord.delete().execute()
    receipt_keys.fill_missing(bulk)
    cash_records.fill_missing(bulk)
    assert snapshot() == ingested


def scan(period: Any, store: str | None, cut: str, value: str,
         category: dict[str, str]) -> list[tuple]:
    """Every entry read, newest first, matched straight off its body."""
    from headoffice.models import OfficeEntry

    found = []
    for row in OfficeEntry.select():
        body = json.loads(row.body)
        data = body["data"]
        day = dt.date.fromisoformat(body["ts"][:10])
        paid = body["type"] in ("sale", "refund") or (
            body["type"] == "void" and data.get("scope") == "paid")
        if not paid or body.get("training") or not period.start <= day <= period.end:
            continue
        if store and body["store"] != store:
            continue
        keys = [str(ln.get("code") or ln.get("product_id") or ln.get("name"))
                for ln in data["lines"] if not ln["removed"]]
        hit = {"": True,
               "cashier": body.get("cashier") == value,
               "payment": any(t["kind"] == value for t in data["tenders"]),
               "vat": any(f"{v['code']}:{v['rate_bp']}" == value for v in data["vat"]),
               "product": value in keys,
               "category": any(category.get(k, "(geen categorie)") == value for k in keys),
               "heat": f"{day.weekday()}:{int(body['ts'][11:13])}" == value}[cut]
        if hit:
            found.append((body["ts"], body["terminal"], body["seq"]))
    found.sort(key=lambda t: (t[1], -t[2]))
    found.sort(key=lambda t: t[0], reverse=True)
    return found


def test_drill_down_finds_what_a_scan_finds(office_db_url) -> None:
    from headoffice.catalogue.models import MasterProduct
    from headoffice.db import database_proxy
    from headoffice.exports.periods import Period
    from headoffice.web.report_queries import tickets_behind

    populate([database_proxy.obj], PLAN, progress=lambda _text: None)
    category = {p.gtin[1:]: p.category for p in MasterProduct.select()}
    period = Period(dt.date(2026, 3, 4), dt.date(2026, 3, 18), "range")
    items = products(PLAN)
    cases = [("", ""), ("cashier", "Emma"), ("cashier", "Noah"), ("payment", "voucher"),
             ("payment", "card"), ("vat", "zero:0"), ("vat", "high:2100"), ("vat", "high:900"),
             ("product", items[0].code), ("product", items[-1].code),
             ("product", items[len(items) // 2].code), ("category", "Bloemen"),
             ("category", "(geen categorie)"), ("heat", "5:12"), ("heat", "0:8")]
    for store in (None, "winkel02"):
        for cut, value in cases:
            expected = scan(period, store, cut, value, category)
            for limit in (5, 100_000):
                got = [(t.ts, t.terminal, t.seq)
                       for t in tickets_behind(period, store, None, cut, value, limit)]
                assert got == expected[:limit], (store, cut, value, limit)
    assert scan(period, None, "product", items[0].code, category), "the sample sells it"


def test_margin_equals_a_recomputation_per_day_row(office_db_url) -> None:
    """Each day row of a product priced with cost_at at the end of its shop day and its VAT
    rate that day: the margin report's sums, with cost changes inside the range."""
    from headoffice.aggregate_models import AggProduct
    from headoffice.catalogue.errors import MasterError
    from headoffice.catalogue.models import CostPrice
    from headoffice.catalogue.products import cost_at, find
    from headoffice.catalogue.times import SHOP_ZONE
    from headoffice.db import database_proxy
    from headoffice.exports.periods import Period
    from headoffice.margin_months import net_at as net_of
    from headoffice.web.margin_queries import margin

    plan = Plan(sales=2500, shops=2, first=dt.date(2025, 11, 1), last=dt.date(2026, 2, 28),
                products=80, seed=7)
    populate([database_proxy.obj], plan, progress=lambda _text: None)
    rates = {"high": 2100, "low": 900, "zero": 0}
    period = Period(dt.date(2025, 11, 10), dt.date(2026, 2, 20), "range")
    for store in (None, "winkel01"):
        sums: dict[str, list[int]] = {}
        for row in AggProduct.select().where(AggProduct.bucket.between("d" + period.first,
                                                                       "d" + period.last)):
            if store and row.store != store:
                continue
            day = dt.date.fromisoformat(row.bucket[1:])
            end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=SHOP_ZONE)
            try:
                product = find(row.product)
            except (MasterError, ValueError):
                product = None
            cost = cost_at(product.id, end - dt.timedelta(seconds=1)) if product else None
            into = sums.setdefault(row.product, [0, 0, 0, 0])
            if cost is None:
                into[2] += row.quantity
            else:
                into[0] += net_of(row.gross, rates[product.vat_code])
                into[1] += cost * row.quantity
            into[3] += row.gross
        report = margin(period, store)
        got = {r.key: [r.net, r.cost, r.uncosted, r.gross] for r in report.products}
        assert got == sums
        assert any(v[2] for v in sums.values()) and any(v[1] for v in sums.values())
    inside = [c for c in CostPrice.select() if c.valid_from[:10] > period.first]
    assert inside, "the plan changes some cost prices inside the range"
