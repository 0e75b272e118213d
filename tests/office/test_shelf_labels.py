"""Shelf labels read back as a shop assistant and a scanner would: the text on the PDF and
the barcodes decoded from the rendered page."""

from __future__ import annotations

from datetime import date

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader

from headoffice.shelf_labels import LabelError, LabelItem, changed_on, render_labels, unit_price_text

MONDAY = date(2026, 12, 7)


def _items() -> list[LabelItem]:
    return [
        LabelItem("Hertog Jan pils 6x30cl", 599, "8712000900045", MONDAY, content_amount=1800,
                  content_unit="ml"),
        LabelItem("Goudse kaas jong belegen", 1295, None, MONDAY, unit="kg"),
        LabelItem("Pindakaas 350 g", 289, "87654325", MONDAY, content_amount=350, content_unit="g"),
    ]


def _decoded(pdf_path) -> list[tuple[str, str]]:
    page = pypdfium2.PdfDocument(str(pdf_path))[0]
    image = page.render(scale=300 / 72).to_pil()
    return sorted((r.format.name, r.text) for r in zxingcpp.read_barcodes(image))


def test_labels_carry_name_price_unit_price_and_a_scannable_barcode(tmp_path):
    out = tmp_path / "labels.pdf"
    assert render_labels(_items(), "Winkel Utrecht", out) == 1
    text = PdfReader(out).pages[0].extract_text()
    for expected in ("Hertog Jan pils 6x30cl", "€ 5,99", "€ 3,33 per l",  # 599 / 1.8 l
                     "Goudse kaas jong belegen", "€ 12,95 per kg",
                     "Pindakaas 350 g", "€ 2,89", "€ 8,26 per kg",  # 289 / 0.35 kg = 825.7
                     "geldig vanaf 07-12-2026", "Winkel Utrecht"):
        assert expected in text.replace("\xa0", " "), expected
    assert _decoded(out) == [("EAN13", "8712000900045"), ("EAN8", "87654325")]


def test_many_labels_fill_several_pages(tmp_path):
    items = [LabelItem(f"Artikel {n}", 100 + n, None, MONDAY) for n in range(30)]
    assert render_labels(items, "s1", tmp_path / "many.pdf") == 2  # 24 per A4 sheet
    assert len(PdfReader(tmp_path / "many.pdf").pages) == 2


def test_unit_price_rules():
    loose = LabelItem("Croissant", 95, None, MONDAY)
    assert unit_price_text(loose) is None  # a loose piece needs no unit price
    with pytest.raises(LabelError, match="content unit 'cl'"):
        unit_price_text(LabelItem("Wijn", 699, None, MONDAY, content_amount=75, content_unit="cl"))


def test_a_label_that_would_lie_is_refused(tmp_path):
    bad_check_digit = LabelItem("Melk", 119, "8712000900046", MONDAY)
    with pytest.raises(LabelError, match="Melk.*check digit 6, expected 5"):
        render_labels([bad_check_digit], "s1", tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()  # nothing half-written


def test_one_days_changes_in_name_order():
    items = _items() + [LabelItem("Appels", 249, None, date(2026, 12, 8), unit="kg")]
    assert [i.name for i in changed_on(items, MONDAY)] == [
        "Goudse kaas jong belegen", "Hertog Jan pils 6x30cl", "Pindakaas 350 g"]
