"""Finding one receipt (number, QR data, amount, time, card reference, product, customer card),
showing it as printed with its signature check, refunds and copies, and the cash page's
figures, each checked against what the till journaled (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections import defaultdict
from typing import Any

import pytest

from tests.office.owner_trading import BEFORE, DAY, YEAR_EARLIER
from tests.office.receipt_trading import CARD_REF, trade_with_receipts

COMPANY = {"name": "Bakkerij De Korenaar", "address": "Dorpsstraat 1, Utrecht",
           "vat_number": "NL123456789B01"}


def _body(bodies: list[dict[str, Any]], seq: int) -> dict[str, Any]:
    return next(b for b in bodies if b["seq"] == seq)


def _euro(cents: int) -> str:
    """€ 1.234,56 written out by hand (not through the renderer's Babel)."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"€ {sign}{euros:,}".replace(",", ".") + f",{rest:02d}"


def test_find_a_receipt_every_way(tmp_path, office_db_url) -> None:
    from contract.receipt import qr_payload
    from headoffice.db import database_proxy
    from headoffice.models import OfficeEntry
    from headoffice.web import receipt_search as search

    marked = trade_with_receipts(tmp_path, database_proxy.obj)
    sale = _body(marked.bodies, marked.sale)
    stored = OfficeEntry.get(OfficeEntry.terminal == "t1", OfficeEntry.seq == marked.sale)

    def find(**fields: str) -> list[tuple[str, int]]:
        return [(f.terminal, f.seq) for f in search.find(search.parse_search(fields))]

    # the QR data as a phone camera reads it, and the footer line printed under it
    qr = qr_payload("s1", "t1", marked.sale, stored.hash)
    [hit] = search.find(search.parse_search({"nummer": qr}))
    assert (hit.terminal, hit.seq, hit.total, hit.qr_matches) == ("t1", marked.sale,
                                                                  sale["data"]["total"], True)
    [bad] = search.find(search.parse_search({"nummer": qr[:-4] + "0000"}))
    assert bad.qr_matches is False  # a code whose hash is not the journal's is flagged
    assert find(nummer=f"s1/t1/{marked.sale} {stored.hash[:16]}") == [("t1", marked.sale)]
    assert find(nummer=f"t1-{marked.sale}") == [("t1", marked.sale)]
    # card reference (any case), customer card, product, amount, time
    assert find(kaartref=CARD_REF.lower()) == [("t1", marked.sale)]
    assert ("t1", marked.sale) in find(klant=marked.card)
    want_customer = {("t1", b["seq"]) for b in marked.bodies if b["type"] in ("sale", "refund", "void")
                     and b["data"].get("customer_id") == sale["data"]["customer_id"]}
    assert set(find(klant=marked.card)) == want_customer
    code = sale["data"]["lines"][0]["code"]
    want_product = {("t1", b["seq"]) for b in marked.bodies if b["type"] in ("sale", "refund", "void")
                    and any(ln["code"] == code and not ln["removed"] for ln in b["data"]["lines"])}
    assert set(find(product=code)) == want_product and ("t1", marked.sale) in want_product
    name = sale["data"]["lines"][0]["name"]  # a name: any case, any part of it
    want_name = {("t1", b["seq"]) for b in marked.bodies if b["type"] in ("sale", "refund", "void")
                 and any(name.lower() in ln["name"].lower() and not ln["removed"]
                         for ln in b["data"]["lines"])}
    by_name = find(product=name.upper())
    assert set(by_name) == want_name >= want_product and len(by_name) == len(want_name)
    assert by_name == sorted(by_name, key=lambda hit: -hit[1])  # newest first
    amount = sale["data"]["total"]
    want_amount = {("t1", b["seq"]) for b in marked.bodies if b["type"] in ("sale", "refund", "void")
                   and amount in (abs(b["data"]["total"]), abs(b["data"].get("total_paid") or 0))}
    assert set(find(bedrag=f"{amount // 100},{amount % 100:02d}")) == want_amount
    at = sale["ts"][:16]  # 2026-03-10T09:04, the minute of the sale
    in_minute = {("t1", b["seq"]) for b in marked.bodies if b["ts"][:16] == at
                 and b["type"] in ("sale", "refund", "void")}
    assert set(find(van=at, tot=at + ":59")) == in_minute == {("t1", marked.sale)}
    assert find(van=at, kaartref=CARD_REF, bedrag="0,01") == []
    # newest first, and a whole day by its date
    day = find(van=DAY.isoformat(), tot=DAY.isoformat())
    assert len(day) == sum(1 for b in marked.bodies if b["ts"].startswith(DAY.isoformat())
                           and b["type"] in ("sale", "refund", "void"))
    assert [seq for _, seq in day] == sorted((seq for _, seq in day), reverse=True)
    # a shop one may not see finds nothing
    assert search.find(search.parse_search({"nummer": qr}), frozenset({"s2"})) == []
    for field, value in (("nummer", "KASSA1|s1|t1|x|y"), ("bedrag", "twaalf"),
                         ("bedrag", "1,234"), ("van", "gisteren")):
        with pytest.raises(search.SearchError) as error:
            search.parse_search({field: value})
        assert error.value.field in (field, "bonnummer", "bedrag")


def test_a_receipt_as_printed_with_its_proof_refunds_and_copies(tmp_path, office_db_url) -> None:
    from headoffice.db import database_proxy
    from headoffice.models import OfficeEntry
    from headoffice.web import receipt_view as view

    marked = trade_with_receipts(tmp_path, database_proxy.obj)
    sale = _body(marked.bodies, marked.sale)
    shown = view.receipt("t1", marked.sale, COMPANY)
    text = shown.printed
    assert "Bakkerij De Korenaar" in text and "NL123456789B01" in text
    assert f"Bon t1-{marked.sale}" in text and "10-03-2026 09:" in text
    for line in sale["data"]["lines"]:
        assert line["name"] in text and _euro(line["amount"]) in text
    assert f"TOTAAL{_euro(sale['data']['total']).rjust(42 - 6)}" in text.splitlines()
    assert CARD_REF in text
    assert f"KASSA1|s1|t1|{marked.sale}|{shown.hash[:16]}" in text
    assert "KOPIE" not in text and "KOPIE" in view.receipt("t1", marked.sale, COMPANY,
                                                           copy=True).printed
    assert max(len(ln) for ln in view.receipt("t1", marked.sale, COMPANY,
                                              columns=32).printed.splitlines()) <= 32
    # the refund and the copy journaled against it
    assert [(r.seq, r.type, r.total) for r in shown.refunds] == \
        [(marked.refund, "refund", _body(marked.bodies, marked.refund)["data"]["total"])]
    assert [c.seq for c in shown.copies] == [marked.copy]
    refund = view.receipt("t1", marked.refund, COMPANY)
    assert refund.body["ref_seq"] == marked.sale and "RETOUR" in refund.printed
    # the proof: sound as stored; an edited body, or a broken link, is named
    assert shown.check.ok and shown.check.key_status == "active" and not shown.check.notes
    row = OfficeEntry.get(OfficeEntry.terminal == "t1", OfficeEntry.seq == marked.sale)
    original = row.body
    edited = json.loads(original)
    edited["data"]["total"] += 100
    OfficeEntry.update(body=json.dumps(edited, sort_keys=True, separators=(",", ":"),
                                       ensure_ascii=False)).where(OfficeEntry.id == row.id).execute()
    problems = view.receipt("t1", marked.sale, COMPANY).check.problems
    assert problems and "hash does not match" in problems[0]
    OfficeEntry.update(body=original).where(OfficeEntry.id == row.id).execute()
    OfficeEntry.update(prev="ab" * 32).where(OfficeEntry.terminal == "t1",
                                             OfficeEntry.seq == marked.sale + 1).execute()
    assert view.receipt("t1", marked.sale, COMPANY).check.problems == \
        [f"entry {marked.sale + 1} does not follow from this entry's hash"]
    with pytest.raises(view.NoReceipt):
        view.receipt("t1", marked.copy, COMPANY)  # a copy entry is not a receipt of its own


def recompute_cash(bodies: list[dict[str, Any]], first: dt.date, last: dt.date) -> dict[str, Any]:
    """Each Z's drawer rebuilt from the journal alone: the floats, cash in and out and cash
    tenders since the terminal's previous Z, the counted pieces, and counted - expected."""
    out: dict[str, Any] = {"zs": [], "cashier": defaultdict(int), "moves": [],
                           "days": defaultdict(int)}
    since = {"float": 0, "cash_in": 0, "cash_out": 0, "cash": 0}
    for body in sorted(bodies, key=lambda b: b["seq"]):
        if body.get("training"):
            continue
        kind, data = body["type"], body["data"]
        in_range = first <= dt.date.fromisoformat(body["ts"][:10]) <= last
        if kind in ("float", "cash_in", "cash_out"):
            amount = -data["amount"] if kind == "cash_out" else data["amount"]
            since[kind] += amount
            if in_range:
                out["moves"].append((body["seq"], kind, amount, data["reason"]))
        elif kind in ("sale", "refund") or (kind == "void" and data.get("scope") == "paid"):
            since["cash"] += sum(t["amount"] for t in data["tenders"] if t["kind"] == "cash")
        elif kind == "z_close":
            expected = sum(since.values())
            counted = sum(value * pieces for value, pieces in data["counted"]["by_denomination"])
            if in_range:
                out["zs"].append((body["seq"], expected, counted, counted - expected))
                out["cashier"][body["cashier"]] += counted - expected
                out["days"][body["ts"][:10]] += counted - expected
            since = dict.fromkeys(since, 0)
    return out


def test_cash_variance_and_movements_match_the_journal(tmp_path, office_db_url) -> None:
    from openpyxl import load_workbook

    from headoffice.db import database_proxy
    from headoffice.exports.periods import Period
    from headoffice.exports.report_xlsx import workbook
    from headoffice.web import cash_queries as cash
    from headoffice.web.cash_pages import cash_sheets

    marked = trade_with_receipts(tmp_path, database_proxy.obj)
    for first, last in ((DAY, DAY), (BEFORE, DAY), (YEAR_EARLIER, DAY)):
        want = recompute_cash(marked.bodies, first, last)
        got = cash.cash_report(Period(first, last, "range"))
        assert [(z.seq, z.expected, z.counted, z.variance) for z in got["zs"]] == want["zs"]
        assert {r["cashier"]: r["variance"] for r in got["cashiers"]} == dict(want["cashier"])
        assert [(m.seq, m.type, m.amount, m.reason) for m in got["moves"]] == want["moves"]
        assert got["totals"]["variance"] == sum(z[3] for z in want["zs"])
    assert len(want["zs"]) == 3 and all(z[3] == -750 for z in want["zs"])
    day = cash.cash_report(Period(DAY, DAY, "day"))
    assert (day["totals"]["float"], day["totals"]["cash_in"], day["totals"]["cash_out"]) == \
        (15000, 2500, -1234)
    assert cash.cash_report(Period(DAY, DAY, "day"), frozenset({"s2"}))["zs"] == []
    book = load_workbook(io.BytesIO(workbook(cash_sheets(day), "Kasgeld")))
    rows = list(book["Per Z"].iter_rows(min_row=4, values_only=True))
    assert [(r[3], round(r[-1] * 100)) for r in rows] == [(z.z_number, z.variance)
                                                          for z in day["zs"]]
    moves = list(book["Kasbewegingen"].iter_rows(min_row=4, values_only=True))
    assert [round(r[7] * 100) for r in moves] == [15000, 2500, -1234]


def test_an_older_database_gets_its_search_keys_and_cash_rows_at_start(tmp_path,
                                                                      office_db_url) -> None:
    """A database from before the receipt_key and cash_record tables: the next start fills
    them from the stored journal with the rows ingest writes, and every search and cash
    figure comes out the same."""
    from headoffice.cash_records import CashRecord
    from headoffice.db import database_proxy
    from headoffice.exports.periods import Period
    from headoffice.receipt_keys import ReceiptKey
    from headoffice.schema import create_all
    from headoffice.web import cash_queries as cash
    from headoffice.web import receipt_search as search
    from headoffice.web import receipt_view as view

    db = database_proxy.obj
    marked = trade_with_receipts(tmp_path, db)
    sale = _body(marked.bodies, marked.sale)
    line = sale["data"]["lines"][0]
    fields = [{"kaartref": CARD_REF}, {"klant": marked.card}, {"product": line["code"]},
              {"product": line["name"][2:].upper()},
              {"bedrag": f"{sale['data']['total'] / 100:.2f}"}, {"nummer": str(marked.sale)}]

    def state() -> tuple:
        keys = sorted(ReceiptKey.select(ReceiptKey.kind, ReceiptKey.value, ReceiptKey.terminal,
                                        ReceiptKey.seq, ReceiptKey.store, ReceiptKey.ts).tuples())
        rows = sorted(tuple(r[1:]) for r in CashRecord.select().tuples())
        found = [search.find(search.parse_search(f)) for f in fields]
        shown = view.receipt("t1", marked.sale, COMPANY)
        return keys, rows, found, shown.refunds, shown.copies, cash.cash_report(
            Period(YEAR_EARLIER, DAY, "range"))

    ingested = state()
    assert ingested[0] and ingested[1] and all(ingested[2]) and ingested[3] and ingested[4]
    db.execute_sql("DROP TABLE receipt_key")
    db.execute_sql("DROP TABLE receipt_product_name")
    db.execute_sql("DROP TABLE cash_record")
    create_all(db)
    assert state() == ingested
