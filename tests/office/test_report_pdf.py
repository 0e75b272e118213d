"""Every owner's report as PDF (web route's builder and `kassa office report KIND --pdf`): its
text, extracted with pypdf, holds the same figures as the report's data and its Excel sheets,
in Dutch and in English; the first page is rendered to PNG (pypdfium2) for a person to look at
(test-artifacts/report-pdf/*.png)."""

from __future__ import annotations

import io
import re
import subprocess
import sys

from contract.money import format_money
from tests.office.owner_trading import DAY, trade
from tests.office.test_owner_discounts import discounted_sale
from tests.uplink.harness import ROOT

ARTIFACTS = ROOT / "test-artifacts" / "report-pdf"


def pdf_text(body: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def flat(text: str) -> str:
    """The text with every kind of space as one plain space (Babel writes a no-break space)."""
    return re.sub(r"\s+", " ", text.replace("\u00a0", " "))


def render(body: bytes, name: str) -> None:
    import pypdfium2

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    document = pypdfium2.PdfDocument(body)
    try:
        document[0].render(scale=1.6).to_pil().save(ARTIFACTS / f"{name}.png")
    finally:
        document.close()


def test_every_report_as_pdf_holds_the_sheet_figures(tmp_path, office_db_url) -> None:
    from headoffice.db import database_proxy
    from headoffice.exports.periods import Period
    from headoffice.web import report_queries as reports
    from headoffice.web.report_pdf import pdf
    from headoffice.web.report_sheets import REPORTS, UnknownReport, sheets

    trade(tmp_path, database_proxy.obj, sales=12, before_feed=discounted_sale)
    period = Period(DAY, DAY, "day")
    now = reports.overview(period).now
    for kind in REPORTS:
        for lang in ("nl", "en"):
            body = pdf(kind, period, lang=lang)
            assert body.startswith(b"%PDF-")
            text = flat(pdf_text(body))
            render(body, f"{kind}-{lang}")
            # every money figure of every sheet (the heat map in whole euros) is in the text
            for sheet in sheets(kind, period):
                wide = len(sheet.header) > 12
                for row in sheet.rows:
                    for col in sheet.money:
                        value = row[col]
                        if isinstance(value, int) and value and not wide:
                            assert flat(format_money(value)) in text, (kind, sheet.title, row)
            assert ("Kassa - 2026-03-10 t/m 2026-03-10 - alle winkels" in text) is (lang == "nl")
            assert ("Kassa - 2026-03-10 to 2026-03-10 - all shops" in text) is (lang == "en")
    sales_nl, sales_en = (flat(pdf_text(pdf("sales", period, lang=lang))) for lang in ("nl", "en"))
    assert flat(format_money(now["turnover"])) in sales_nl and now["tickets"] > 0
    for dutch, english in (("Kassieres", "Cashiers"), ("Betaalwijze", "Payment method"),
                           ("Uur x weekdag", "Hour x weekday"), ("Verkoop", "Sales"),
                           ("contant", "cash"), ("hoog", "high")):
        assert dutch in sales_nl and dutch not in sales_en, dutch
        assert english in sales_en, english
    discounts_en = flat(pdf_text(pdf("discounts", period, lang="en")))
    assert "manual discount" in discounts_en and "handmatige korting" not in discounts_en
    try:
        pdf("weather", period)
    except UnknownReport as exc:
        assert "weather" in str(exc)
    else:
        raise AssertionError("an unknown report made a PDF")


def test_cli_report_pdf(tmp_path, office_db_url) -> None:
    from headoffice import db as office_db
    from headoffice.exports.periods import Period
    from headoffice.web import margin_queries as margins

    trade(tmp_path, office_db.database_proxy.obj, sales=8)
    period = Period(DAY, DAY, "day")
    total = margins.margin(period).total
    base = [sys.executable, "-m", "cli", "office", "--db", office_db_url, "report"]
    out = tmp_path / "marge.pdf"
    made = subprocess.run([*base, "margin", "--period", DAY.isoformat(), "--pdf", str(out),
                           "--lang", "en"], cwd=ROOT, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert f"{out}: 5 table(s)" in made.stdout
    text = flat(pdf_text(out.read_bytes()))
    assert "Margin" in text and "Without a cost price" in text
    assert flat(format_money(total.gross)) in text and total.gross > 0
    both = subprocess.run([*base, "sales", "--period", DAY.isoformat(), "--pdf",
                           str(tmp_path / "v.pdf"), "--xlsx", str(tmp_path / "v.xlsx")],
                          cwd=ROOT, capture_output=True, text=True)
    assert both.returncode == 0, both.stderr
    assert (tmp_path / "v.pdf").read_bytes().startswith(b"%PDF-")
    assert (tmp_path / "v.xlsx").stat().st_size > 0
    bad = subprocess.run([*base, "sales", "--pdf", str(tmp_path / "x.pdf"), "--lang", "fr"],
                         cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and "fr" in bad.stderr


def test_pdf_route_speaks_the_readers_language(tmp_path, office_db_url) -> None:
    from headoffice.db import database_proxy
    from tests.office.helpers import OfficeWeb

    trade(tmp_path, database_proxy.obj, sales=6)
    web = OfficeWeb(office_db_url)
    try:
        web.login()
        query = f"?preset=custom&from={DAY}&to={DAY}"
        with web.opener.open(web.base + "/rapport/pdf/sales" + query, timeout=20) as response:
            assert response.headers["Content-Type"] == "application/pdf"
            assert 'filename="verkoop-alle-2026-03-10-2026-03-10.pdf"' in \
                response.headers["Content-Disposition"]
            dutch = flat(pdf_text(response.read()))
        web.get("/taal/en")
        with web.opener.open(web.base + "/rapport/pdf/sales" + query, timeout=20) as response:
            english = flat(pdf_text(response.read()))
        assert "Kassieres" in dutch and "Cashiers" in english and "Kassieres" not in english
        status, body = web.get("/rapport/pdf/weather" + query)
        assert status == 400 and "weather" in body
        status, body = web.get("/rapport/pdf/sales?preset=custom&from=2026-03-10&to=2026-03-01")
        assert status == 400
    finally:
        web.stop()
