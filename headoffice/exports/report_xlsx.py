"""The owner's reports as an Excel workbook (openpyxl): one sheet per cut, money as euros
with two decimals (the integer cents divided once, at the cell), counts as whole numbers."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

EURO = '"€" #,##0.00;-"€" #,##0.00'


class Sheet:
    """One table: a title, column headers, rows, and which columns hold cents."""

    def __init__(self, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]],
                 money: Iterable[int] = ()) -> None:
        self.title, self.header, self.rows, self.money = title[:31], list(header), \
            [list(r) for r in rows], set(money)


def workbook(sheets: Sequence[Sheet], heading: str = "") -> bytes:
    """The sheets as .xlsx bytes; `heading` (the range and shop) is the first row of each."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for sheet in sheets:
        ws = book.create_sheet(sheet.title)
        start = 1
        if heading:
            ws.cell(1, 1, heading).font = Font(bold=True)
            start = 3
        for col, name in enumerate(sheet.header, 1):
            ws.cell(start, col, name).font = Font(bold=True)
            ws.column_dimensions[ws.cell(start, col).column_letter].width = max(12, len(name) + 2)
        for r, row in enumerate(sheet.rows, start + 1):
            for col, value in enumerate(row, 1):
                if col - 1 in sheet.money and isinstance(value, int):
                    cell = ws.cell(r, col, value / 100)
                    cell.number_format = EURO
                else:
                    ws.cell(r, col, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
