"""Writes a receipt document as ESC/POS commands onto any python-escpos printer object.

Styles are only sent when they change, the code page is selected once at the top (after
ESC @ reset it), and every text goes through the profile's TextCleaner first.
"""

from __future__ import annotations

from typing import Any

from escpos.constants import HW_INIT, QR_ECLEVEL_M
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

    def __init__(self, printer: Escpos) -> None:
        self.printer = printer
        self.align, self.bold, self.double = "left", False, False

    def apply(self, align: str, bold: bool, double: bool) -> None:
        kwargs: dict[str, Any] = {}
        if align != self.align:
            kwargs["align"] = align
        if bold != self.bold:
            kwargs["bold"] = bold
        if double != self.double:
            kwargs.update(double_width=double, double_height=double, normal_textsize=not double)
        if kwargs:
            self.printer.set(**kwargs)
            self.align, self.bold, self.double = align, bold, double


def render(printer: Escpos, document: dict[str, Any], *, columns: int, code_page: str,
           cleaner: TextCleaner, qr_native: bool, qr_size: int = 6) -> None:
    """Sends the whole document to `printer` (a Dummy to get the bytes)."""
    blocks = blocks_of(document)
    width = document_columns(document, columns)
    printer._raw(HW_INIT)
    printer.magic.encoding = None  # ESC @ reset the printer's page: select ours again
    printer.magic.write_with_encoding(code_page, None)
    style = _Style(printer)
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
