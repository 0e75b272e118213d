"""Writes a receipt document as ESC/POS commands onto any python-escpos printer object.

Styles are only sent when they change, the code page and the font (ESC M n: the one that
gives the configured columns, drivers/printer/fonts.py) are selected at the top (after ESC @
reset them), and every text goes through the profile's TextCleaner first. escpos sets the
text size with ESC ! n, which also resets the font and emphasis: both are sent again with it.
"""

from __future__ import annotations

from typing import Any

from escpos.constants import HW_INIT, QR_ECLEVEL_M, SET_FONT
from escpos.escpos import Escpos

from drivers.printer.charset import TextCleaner, python_codec
from drivers.printer.document import blocks_of, document_columns, wrap


class _Text:
    """Writes text lines: whole-line codec encoding while the selected page can hold them,
    escpos' per-character code-page switching (MagicEncode) for the rare line that cannot."""

    def __init__(self, printer: Escpos, code_page: str) -> None:
        self.printer = printer
        self.code_page = code_page
        self.codec = python_codec(code_page)

    def write(self, text: str) -> None:
        printer = self.printer
        if self.codec and printer.magic.encoding == self.code_page:
            try:
                printer._raw(text.encode(self.codec))
                return
            except UnicodeEncodeError:
                pass
        printer.text(text)


class _Style:
    """The printer's current text style, to send only the differences."""

    def __init__(self, printer: Escpos, font: int) -> None:
        self.printer = printer
        self.font = font
        self.align, self.bold, self.double = "left", False, False

    def apply(self, align: str, bold: bool, double: bool) -> None:
        kwargs: dict[str, Any] = {}
        if align != self.align:
            kwargs["align"] = align
        if double != self.double:
            kwargs.update(double_width=double, double_height=double, normal_textsize=not double)
            kwargs["font"] = self.font  # ESC ! n just selected font A: select ours again
            if bold or self.bold:  # ... and switched emphasis off
                kwargs["bold"] = bold
        elif bold != self.bold:
            kwargs["bold"] = bold
        if kwargs:
            self.printer.set(**kwargs)
            self.align, self.bold, self.double = align, bold, double


def render(printer: Escpos, document: dict[str, Any], *, columns: int, code_page: str,
           cleaner: TextCleaner, qr_native: bool, qr_size: int = 6, font: int = 0) -> None:
    """Sends the whole document to `printer` (a Dummy to get the bytes); `font` is the ESC M
    number of the font that holds `columns` characters on a line."""
    blocks = blocks_of(document)
    width = document_columns(document, columns)
    printer._raw(HW_INIT)
    printer.magic.encoding = None  # ESC @ reset the printer's page: select ours again
    printer.magic.write_with_encoding(code_page, None)
    printer._raw(SET_FONT(bytes([font])))  # ESC @ also selected font A
    style = _Style(printer, font)
    out = _Text(printer, code_page)
    for block in blocks:
        kind = block["kind"]
        if kind == "text":
            style.apply(block["align"], block["bold"], block["double"])
            line_width = width // 2 if block["double"] else width
            for line in wrap(cleaner.clean(block["text"]), line_width):
                out.write(line + "\n")
        elif kind == "rule":
            style.apply("left", False, False)
            out.write("-" * width + "\n")
        elif kind == "feed":
            if block["lines"]:
                out.write("\n" * block["lines"])
        elif kind == "qr":
            if block["data"]:
                style.apply("center", False, False)
                _qr(printer, block["data"], qr_native, qr_size)
        elif kind == "cut":
            style.apply("left", False, False)
            printer.cut()


def _qr(printer: Escpos, data: str, native: bool, size: int) -> None:
    if native:
        printer.qr(data, ec=QR_ECLEVEL_M, size=size, native=True)  # honours ESC a centring
        printer.text("\n")
    else:
        printer.qr(data, ec=QR_ECLEVEL_M, size=max(1, size // 2), native=False, center=True)
