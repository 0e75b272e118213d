"""A plain-text picture of a receipt, for the simulator's var/printer/*.txt and for logs."""

from __future__ import annotations

from typing import Any

from drivers.printer.charset import TextCleaner
from drivers.printer.document import blocks_of, document_columns, wrap


def preview(document: dict[str, Any], columns: int, cleaner: TextCleaner | None = None) -> str:
    """What the paper would show; double-size text is letter-spaced to look twice as wide."""
    width = document_columns(document, columns)
    out: list[str] = []
    for block in blocks_of(document):
        kind = block["kind"]
        if kind == "text":
            text = cleaner.clean(block["text"]) if cleaner else block["text"]
            line_width = width // 2 if block["double"] else width
            for line in wrap(text, line_width):
                shown = " ".join(line) if block["double"] else line
                out.append(_align(shown, width, block["align"]))
        elif kind == "rule":
            out.append("-" * width)
        elif kind == "feed":
            out.extend([""] * block["lines"])
        elif kind == "qr":
            out.append(_align(f"[QR {block['data']}]", width, "center"))
        elif kind == "cut":
            out.append("- - - - cut " + "- " * max(0, (width - 12) // 2))
    return "\n".join(line.rstrip() for line in out) + "\n"


def _align(text: str, width: int, align: str) -> str:
    if align == "center":
        return text.center(width)
    if align == "right":
        return text.rjust(width)
    return text
