"""The VAT return as the accountant files it: one product of each VAT code (high, low, zero,
exempt) sold on a real till, its journal stored by the ingest's own batch code, then the
boxes read back from the report, the CSV (as Dutch Excel reads it) and the dashboard page.
Exempt supplies (art. 11 Wet OB) appear in no box, only on a line of their own."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from cli import main
from firmware.catalogue import import_csv
from firmware.permissions import Action
from firmware.sim import MANAGER_PIN
from headoffice.exports.periods import parse_period
from headoffice.exports.vat import box_of, vat_csv, vat_report
from headoffice.exports.xaf import build_xaf, validate_xaf
from tests.office.helpers import OfficeWeb, enroll, feed, make_till, payloads

MONTH = dt.date.today().strftime("%Y-%m")
HEADER = "gtin,plu,name,price,vat,category,stock_tracked,active,sold_by_weight,favourite,stock\n"
# price incl. VAT -> (net, vat): high 21%: 1512,50 = 1250,00 + 262,50; low 9%: 10,90 = 10,00
# + 0,90; zero: 5,00; exempt (a course, art. 11): 25,00 and no VAT
PRODUCTS = [",9001,Koffiemachine,1512.50,high,Huishoud,no,yes,no,no,0\n",
            ",9002,Brood,10.90,low,Bakkerij,no,yes,no,no,0\n",
            ",9003,Export doos,5.00,zero,Overig,no,yes,no,no,0\n",
            ",9004,Cursus barista,25.00,exempt,Diensten,no,yes,no,no,0\n"]


@pytest.fixture
def sold(tmp_path, office_db_url):
    """Each of the four products sold once (the exempt one twice) on a till, fed to head office."""
    from headoffice.db import database_proxy

    till = make_till(tmp_path / "t1", "s1", "t1")
    report = import_csv(till.db, [HEADER, *PRODUCTS])
    assert not report.errors, report.errors
    enroll(till)
    till.login("1111")
    for plu in ("9001", "9002", "9003", "9004"):
        till.add_plu(plu)
    till.pay_card(None, "REF-1")
    till.add_plu("9004")
    till.pay_card(None, "REF-2")
    # the day's Z: the auditfile books a day only once a Z closes it
    till.z_close({}, approval=till.approve(MANAGER_PIN, Action.Z_CLOSE))
    till.logout()
    sales = [e.body for e in till.journal.entries() if e.body["type"] == "sale"]
    assert len(sales) == 2
    assert {v["code"] for v in sales[0]["data"]["vat"]} == {"high", "low", "zero", "exempt"}
    feed(database_proxy.obj, payloads(till))
    till.db.close()
    return office_db_url


def test_box_of_each_vat_code():
    assert box_of("high", 2100) == "1a"
    assert box_of("low", 900) == "1b"
    assert box_of("zero", 0) == "1e"
    assert box_of("exempt", 0) is None  # art. 11 Wet OB: not on the return at all
    assert box_of("other", 1300) == "1c"


def test_each_vat_code_lands_in_its_box_and_exempt_in_none(sold):
    report = vat_report(parse_period(MONTH), "s1")
    boxes = {b.box: b for b in report.boxes}
    assert list(boxes) == ["1a", "1b", "1c", "1e"]
    assert (boxes["1a"].net, boxes["1a"].vat) == (125000, 26250)
    assert (boxes["1b"].net, boxes["1b"].vat) == (1000, 90)
    assert (boxes["1c"].net, boxes["1c"].vat) == (0, 0)
    assert (boxes["1e"].net, boxes["1e"].vat) == (500, 0)  # the 0% product only
    assert report.exempt == 5000  # two exempt courses, outside every box
    assert report.vat_total == 26250 + 90
    assert (boxes["1a"].net_euros, boxes["1a"].vat_euros) == (1250, 262)


def test_vat_csv_opens_in_dutch_excel(sold, tmp_path, capsys):
    """Written by `kassa office export vat`, read back as Excel (nl) does: BOM, ';', '1234,56'."""
    out = tmp_path / "btw.csv"
    code = main(["office", "--db", sold, "export", "vat", "--period", MONTH, "--store", "s1",
                 "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8") == vat_csv(vat_report(parse_period(MONTH), "s1"))
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    header = rows[0]
    assert header[:4] == ["periode", "winkel", "rubriek", "omschrijving"]
    assert all(len(row) == len(header) for row in rows)
    totals = {row[2]: row for row in rows[1:] if row[4] == "totaal"}
    col = header.index("omzet_excl_btw"), header.index("btw")
    assert [totals["1a"][col[0]], totals["1a"][col[1]]] == ["1250,00", "262,50"]
    assert [totals["1b"][col[0]], totals["1b"][col[1]]] == ["10,00", "0,90"]
    assert [totals["1e"][col[0]], totals["1e"][col[1]]] == ["5,00", "0,00"]
    assert totals["1a"][header.index("omzet_hele_euros")] == "1250"
    rate_rows = [row for row in rows[1:] if row[2] == "1a" and row[4] != "totaal"]
    assert rate_rows[0][4] == "21,00"
    five_a = next(row for row in rows if row[2] == "5a")
    assert five_a[col[1]] == "263,40"
    exempt = [row for row in rows if "art. 11" in row[3]]
    assert len(exempt) == 1 and exempt[0][2] == "" and exempt[0][col[0]] == "50,00"
    assert not any(re.fullmatch(r"-?\d+\.\d\d", cell) for row in rows for cell in row)


def test_exempt_turnover_is_booked_apart_in_the_auditfile(sold):
    data = build_xaf("s1", parse_period(MONTH))
    assert validate_xaf(data) == []
    text = data.decode()
    assert "<accID>8040</accID>" in text and "Omzet vrijgesteld van btw" in text
    lines = {m[2]: (m[1], m[3]) for m in re.finditer(
        r"<trLine>.*?<accID>(\d+)</accID>.*?<desc>([^<]*)</desc>\s*<amnt>([^<]*)</amnt>",
        text, re.S)}
    assert lines["Omzet vrijgesteld van btw"] == ("8040", "50.00")  # both courses, no VAT
    assert lines["Omzet 0%"] == ("8030", "5.00")
    assert lines["Omzet hoog 21%"] == ("8000", "1250.00")
    assert "<vatDesc>Btw vrijgesteld</vatDesc>" in text and "<vatDesc>Btw 0%</vatDesc>" in text


def test_vat_return_page_shows_each_box_and_the_exempt_line(sold):
    web = OfficeWeb(sold)
    try:
        web.login()
        status, html = web.get(f"/vat?period={MONTH}&store=s1")
        assert status == 200, html
        assert 'href="/vat"' in html and "Btw-aangifte" in html
        nbsp = "\u00a0"

        def row(element_id: str) -> str:
            match = re.search(rf'<tr[^>]*id="{element_id}"[^>]*>(.*?)</tr>', html, re.S)
            assert match, element_id
            return match[1]

        assert f"€{nbsp}1.250,00" in row("box-1a") and f"€{nbsp}262,50" in row("box-1a")
        assert "Leveringen/diensten belast met hoog tarief" in row("box-1a")
        assert f"€{nbsp}10,00" in row("box-1b") and f"€{nbsp}0,90" in row("box-1b")
        assert f"€{nbsp}0,00" in row("box-1c")
        assert f"€{nbsp}5,00" in row("box-1e")
        assert f"€{nbsp}263,40" in row("box-5a")
        assert f"€{nbsp}50,00" in row("exempt") and "art. 11 Wet OB" in row("exempt")
        assert f"€{nbsp}50,00" not in "".join(row(f"box-{b}") for b in ("1a", "1b", "1c", "1e"))
        assert "tarief 21,00%" in html
        # the return's own columns: whole euros, rounded in the taxpayer's favour, Babel-grouped
        assert f">€{nbsp}1.250<" in row("box-1a") and f">€{nbsp}262<" in row("box-1a")
        assert f"<strong>€{nbsp}262</strong>" in row("box-5a")  # 262 + 0 (1b: 0,90 -> 0)
        assert f">€{nbsp}50<" in row("exempt")
        status, bad = web.get("/vat?period=gisteren")
        assert status == 400
        status, csv_text = web.get(f"/export/vat?period={MONTH}&store=s1")
        assert status == 200 and csv_text.startswith("\ufeffperiode;winkel;")
    finally:
        web.stop()
