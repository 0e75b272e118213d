"""The owner's reports as PDF: the Excel file's tables (headoffice.web.report_sheets) on A4
landscape pages, so the page, the xlsx and the PDF show one set of figures.

Titles and labels are in the reader's language (the dashboard's Dutch message ids, translated
as the pages translate them); money is written as the pages write it (Babel, nl_NL), and the
hour x weekday table in whole euros as on screen, so that a wide table stays readable."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from contract.money import format_money
from headoffice.exports.periods import Period
from headoffice.exports.report_xlsx import Sheet
from headoffice.web import report_sheets
from headoffice.web.i18n import translator
from headoffice.web.templating import whole_euros

PDF = "application/pdf"
PAGE = landscape(A4)
MARGIN = 12 * mm
FONT, BOLD = "Helvetica", "Helvetica-Bold"
WIDE = 12  # tables with more columns than this (the heat map) are set smaller, money whole

TITLES = {"sales": "Verkoop", "margin": "Marge", "discounts": "Kortingen en acties"}
# Sheet titles and column heads of report_sheets that the pages do not use as such.
EN_EXTRA = {
    "Overzicht": "Overview", "Categorieen": "Categories", "Kassieres": "Cashiers",
    "Zonder kostprijs": "Without a cost price", "Vorige periode": "Previous period",
    "Jaar eerder": "A year earlier", "Tarief %": "Rate %", "Regels": "Lines",
    "Verkocht (stuks)": "Sold (pieces)", "Zonder kostprijs (stuks)": "Without cost (pieces)",
    "Zonder kostprijs (omzet)": "Without cost (turnover)", "totaal": "total",
    "Pagina": "Page", "alle winkels": "all shops", "Weekdag": "Weekday",
}
NL_EXTRA = {"Categorieen": "Categorieën"}  # the sheet name of report_sheets, spelled as on the page
_LABEL = re.compile(r"(vorige periode |jaar eerder |)(\d{4}-\d\d-\d\d) t/m (\d{4}-\d\d-\d\d)")
# the keys the sheets hold where the pages show a word (Betaalwijzen, Btw: the first column)
CODES = {"cash": "contant", "card": "pin", "voucher": "waardebon", "high": "hoog",
         "low": "laag", "zero": "nul", "exempt": "vrijgesteld"}
_DIFF = {"verschil met vorige periode": "change vs previous period",
         "verschil met jaar eerder": "change vs a year earlier"}


def reader(lang: str) -> Callable[[str], str]:
    """The text of a sheet title, column head or label in `lang` (Dutch stays as it is)."""
    base = translator(lang)
    if lang != "en":
        return lambda text: NL_EXTRA.get(text) or base(text)

    def tr(text: str) -> str:
        if text in EN_EXTRA:
            return EN_EXTRA[text]
        if text in _DIFF:
            return _DIFF[text]
        if found := _LABEL.fullmatch(text):
            prefix = {"vorige periode ": "previous period ", "jaar eerder ": "a year earlier "}
            return f"{prefix.get(found[1], '')}{found[2]} to {found[3]}"
        return base(text)
    return tr


def _cell(value: Any, money: bool, wide: bool, tr: Callable[[str], str]) -> str:
    if value is None:
        return ""
    if money and isinstance(value, int):
        if wide:  # the heat map, as on screen: whole euros, empty where nothing was sold
            return whole_euros(value // 100) if value else ""
        return format_money(value)
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return tr(value) if isinstance(value, str) else str(value)


_FIGURE = re.compile(r"[+-]?[\d.,]+%|-|nieuw|n\.v\.t\.")


def _numeric(column: Sequence[Any]) -> bool:
    """A column of numbers, or of percentages (`12,5%`, `-`): set flush right."""
    return any(isinstance(v, int | float) for v in column) or bool(column) and all(
        isinstance(v, str) and _FIGURE.fullmatch(v) for v in column)


def _widths(rows: Sequence[Sequence[str]], size: float, room: float) -> list[float]:
    """Each column as wide as its widest text, scaled down to the room there is."""
    widths = [max(stringWidth(row[c], BOLD if r == 0 else FONT, size) for r, row in enumerate(rows))
              + 6 for c in range(len(rows[0]))]
    total = sum(widths)
    return widths if total <= room else [w * room / total for w in widths]


def _table(sheet: Sheet, tr: Callable[[str], str]) -> Table:
    wide = len(sheet.header) > WIDE
    size = 6.5 if wide else 8.5
    rows = [[tr(h) for h in sheet.header]]
    coded = sheet.title in ("Betaalwijzen", "Btw")
    rows += [[_cell(CODES.get(v, v) if coded and i == 0 else v, i in sheet.money, wide, tr)
              for i, v in enumerate(row)] for row in sheet.rows]
    table = Table(rows, colWidths=_widths(rows, size, PAGE[0] - 2 * MARGIN), repeatRows=1,
                  hAlign="LEFT")
    numeric = [c for c in range(len(sheet.header)) if _numeric([row[c] for row in sheet.rows])]
    style = [("FONT", (0, 0), (-1, -1), FONT, size), ("FONT", (0, 0), (-1, 0), BOLD, size),
             ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
             *[("ALIGN", (c, 0), (c, -1), "RIGHT") for c in numeric],
             ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
             ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3)]
    style += [("BACKGROUND", (0, r), (-1, r), colors.HexColor("#eef2f5"))
              for r in range(2, len(rows), 2)]
    table.setStyle(TableStyle(style))
    return table


def sheets_pdf(sheets: Sequence[Sheet], title: str, heading: str, lang: str = "nl") -> bytes:
    """The sheets as one PDF: a title and the range on top, then one table per sheet."""
    tr = reader(lang)
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN,
                            topMargin=MARGIN, bottomMargin=MARGIN, title=f"{title} - {heading}",
                            author="Kassa")

    def footer(canvas: Any, _doc: Any) -> None:
        canvas.setFont(FONT, 7)
        canvas.drawRightString(PAGE[0] - MARGIN, MARGIN / 2,
                               f"{heading} - {tr('Pagina')} {canvas.getPageNumber()}")

    story: list[Any] = [Paragraph(title, styles["Title"]), Paragraph(heading, styles["Normal"]),
                        Spacer(1, 4 * mm)]
    for sheet in sheets:
        head = Paragraph(tr(sheet.title), styles["Heading3"])
        if not sheet.rows:
            story += [head, Paragraph("-", styles["Normal"])]
            continue
        table = _table(sheet, tr)  # a short table stays on one page with its heading
        story += [KeepTogether([head, table])] if len(sheet.rows) < 25 else [head, table]
        story.append(Spacer(1, 3 * mm))
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def pdf_heading(period: Period, store: str | None, lang: str = "nl") -> str:
    tr = reader(lang)
    return f"Kassa - {period.first} {tr('t/m')} {period.last} - {store or tr('alle winkels')}"


def pdf(kind: str, period: Period, store: str | None = None, lang: str = "nl",
        found: Sequence[Sheet] | None = None) -> bytes:
    """Report `kind` (report_sheets.REPORTS) as PDF bytes, from `found` when the caller read
    its sheets already; UnknownReport for another name."""
    if found is None:
        found = report_sheets.sheets(kind, period, store)
    return sheets_pdf(found, reader(lang)(TITLES[kind]), pdf_heading(period, store, lang), lang)
