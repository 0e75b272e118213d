"""Shelf labels as a PDF: what the shelf must say so that it and the till agree.

One A4 page holds a grid of labels (3 x 8, 70 x 37 mm, the common self-adhesive sheet).
Each label carries the product's name, its price as the till charges it, the unit price
where Dutch law asks for it, the barcode the till scans, and the date the price holds
from. The unit price follows the Besluit prijsaanduiding producten (art. 2 and 7): a
product sold in a pre-packed quantity shows its price per kilogram or per litre beside the
selling price; a product sold by weight shows its price per kilogram, which is its price.

Drawn with ReportLab, whose EAN-13 and EAN-8 widgets compute the guard bars and human
readable digits themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import createBarcodeDrawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from contract.gtin import BarcodeError, normalize_gtin
from contract.money import div_round_half_up, format_money

COLUMNS, ROWS = 3, 8
LABEL_W, LABEL_H = 70 * mm, 37 * mm
CONTENT_UNITS = {"g": ("kg", 1000), "ml": ("l", 1000)}  # content unit -> (per unit, factor)


class LabelError(ValueError):
    """A label that cannot be printed truthfully; names the product and the reason."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"shelf label {name!r}: {reason}")
        self.name, self.reason = name, reason


@dataclass(frozen=True)
class LabelItem:
    """One product's label. `unit` is how the till sells it ("piece" or "kg": a kg price is
    already a unit price); `content_amount` with `content_unit` ("g" or "ml") is the
    pre-packed quantity a unit price is computed from, absent for a loose piece."""

    name: str
    price_cents: int
    barcode: str | None
    valid_from: date
    unit: str = "piece"
    content_amount: int | None = None
    content_unit: str | None = None


def unit_price_text(item: LabelItem, locale: str = "nl_NL") -> str | None:
    """The unit price line (`€ 2,58 per kg`), or None where the law asks none."""
    if item.unit == "kg":
        return f"{format_money(item.price_cents, locale)} per kg"
    if item.content_amount is None or item.content_unit is None:
        return None
    if item.content_unit not in CONTENT_UNITS:
        raise LabelError(item.name, f"content unit {item.content_unit!r} (g or ml)")
    if item.content_amount <= 0:
        raise LabelError(item.name, f"content amount {item.content_amount} is not positive")
    per, factor = CONTENT_UNITS[item.content_unit]
    cents = div_round_half_up(item.price_cents * factor, item.content_amount)
    return f"{format_money(cents, locale)} per {per}"


def _barcode_kind(code: str) -> tuple[str, str]:
    """ReportLab's symbology and the digits it wants (without check digit) for a GTIN that
    a shelf label can carry: EAN-13 (GTIN-12/13 and GTIN-14 with a leading 0) or EAN-8."""
    gtin14 = normalize_gtin(code)
    if gtin14.startswith("000000"):
        return "EAN8", gtin14[6:13]
    if gtin14.startswith("0"):
        return "EAN13", gtin14[1:13]
    raise LabelError(code, "a GTIN-14 with an indicator digit marks a case, not a shelf item")


def _fit(text: str, font: str, size: float, width: float) -> tuple[str, float]:
    """Shrinks the font down to 7 pt to fit, then shortens with an ellipsis."""
    while size > 7 and stringWidth(text, font, size) > width:
        size -= 0.5
    while stringWidth(text, font, size) > width and len(text) > 1:
        text = text[:-2] + "…"
    return text, size


def _draw_label(canvas: Canvas, x: float, y: float, item: LabelItem, store: str) -> None:
    pad = 3 * mm
    inner = LABEL_W - 2 * pad
    canvas.setLineWidth(0.3)
    canvas.rect(x, y, LABEL_W, LABEL_H)
    name, size = _fit(item.name, "Helvetica-Bold", 11, inner)
    canvas.setFont("Helvetica-Bold", size)
    canvas.drawString(x + pad, y + LABEL_H - pad - 9, name)
    price = format_money(item.price_cents, "nl_NL") + (" per kg" if item.unit == "kg" else "")
    price, size = _fit(price, "Helvetica-Bold", 22, inner * 0.55)
    canvas.setFont("Helvetica-Bold", size)
    canvas.drawString(x + pad, y + LABEL_H / 2 - 6, price)
    per_unit = unit_price_text(item) if item.unit != "kg" else None
    canvas.setFont("Helvetica", 8)
    if per_unit:
        canvas.drawString(x + pad, y + LABEL_H / 2 - 16, per_unit)
    canvas.setFont("Helvetica", 6.5)
    canvas.drawString(x + pad, y + pad, f"{store} · geldig vanaf {item.valid_from:%d-%m-%Y}")
    if item.barcode:
        kind, digits = _barcode_kind(item.barcode)
        drawing = createBarcodeDrawing(kind, value=digits, barHeight=11 * mm, barWidth=0.28 * mm,
                                       fontSize=7, humanReadable=True)
        bx = x + LABEL_W - pad - drawing.width
        renderPDF.draw(drawing, canvas, bx, y + pad + 9)  # above the footer line


def render_labels(items: Sequence[LabelItem], store: str, out: str | Path,
                  title: str = "Schapetiketten") -> int:
    """Writes the labels of `items` (in order) to the PDF `out`; returns the page count."""
    for item in items:
        if item.price_cents < 0:
            raise LabelError(item.name, f"negative price {item.price_cents}")
        if item.barcode:
            try:
                _barcode_kind(item.barcode)
            except BarcodeError as exc:
                raise LabelError(item.name, str(exc)) from None
        unit_price_text(item)
    canvas = Canvas(str(out), pagesize=A4)
    canvas.setTitle(f"{title} {store}")
    page_w, page_h = A4
    left = (page_w - COLUMNS * LABEL_W) / 2
    top = page_h - (page_h - ROWS * LABEL_H) / 2
    pages = 0
    for start in range(0, max(len(items), 1), COLUMNS * ROWS):
        pages += 1
        for index, item in enumerate(items[start:start + COLUMNS * ROWS]):
            column, row = index % COLUMNS, index // COLUMNS
            _draw_label(canvas, left + column * LABEL_W, top - (row + 1) * LABEL_H, item, store)
        canvas.showPage()
    canvas.save()
    return pages


def changed_on(items: Iterable[LabelItem], day: date) -> list[LabelItem]:
    """The labels of prices that take effect on `day`, sorted by name: one day's re-labelling."""
    return sorted((i for i in items if i.valid_from == day), key=lambda i: i.name.casefold())
