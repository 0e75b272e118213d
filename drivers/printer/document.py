"""Checks a receipt document (the dict shape in firmware/ports.py) and wraps its text.

Both the ESC/POS renderer and the text preview walk the same checked blocks, so a bad
document is refused with the block number and the reason before a single byte is sent.
"""

from __future__ import annotations

import textwrap
from typing import Any

from drivers.errors import DeviceError

ALIGNS = ("left", "center", "right")
MAX_QR_BYTES = 2000  # a receipt QR is a URL or a reference, not a novel
MAX_FEED = 20


class DocumentError(DeviceError):
    """The receipt document itself is malformed (a bug upstream, not a printer fault)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


def blocks_of(document: Any) -> list[dict[str, Any]]:
    """The document's blocks, each checked; raises DocumentError naming the bad block."""
    if not isinstance(document, dict) or not isinstance(document.get("blocks"), list):
        raise DocumentError("receipt document must be a dict with a 'blocks' list")
    checked = []
    for index, block in enumerate(document["blocks"]):
        checked.append(_check_block(index, block))
    return checked


def _check_block(index: int, block: Any) -> dict[str, Any]:
    where = f"receipt block {index}"
    if not isinstance(block, dict):
        raise DocumentError(f"{where}: expected a dict, got {type(block).__name__}")
    kind = block.get("kind")
    if kind == "text":
        text = block.get("text", "")
        if not isinstance(text, str):
            raise DocumentError(f"{where}: text must be a string")
        align = block.get("align", "left")
        if align not in ALIGNS:
            raise DocumentError(f"{where}: align {align!r} is not left, center or right")
        return {"kind": "text", "text": text, "align": align,
                "bold": bool(block.get("bold", False)), "double": bool(block.get("double", False))}
    if kind in ("rule", "cut"):
        return {"kind": kind}
    if kind == "qr":
        data = block.get("data", "")
        if not isinstance(data, str):
            raise DocumentError(f"{where}: QR data must be a string")
        if len(data.encode("utf-8")) > MAX_QR_BYTES:
            raise DocumentError(f"{where}: QR data is longer than {MAX_QR_BYTES} bytes")
        return {"kind": "qr", "data": data}
    if kind == "feed":
        lines = block.get("lines", 1)
        if isinstance(lines, bool) or not isinstance(lines, int) or not 0 <= lines <= MAX_FEED:
            raise DocumentError(f"{where}: feed lines must be an integer 0..{MAX_FEED}")
        return {"kind": "feed", "lines": lines}
    raise DocumentError(f"{where}: unknown kind {kind!r}")


def document_columns(document: dict[str, Any], printer_columns: int) -> int:
    """The width to lay out at: the document's, never wider than the paper."""
    columns = document.get("columns", printer_columns)
    if isinstance(columns, bool) or not isinstance(columns, int) or columns < 8:
        return printer_columns
    return min(columns, printer_columns)


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` characters; an over-long line wraps rather than losing text."""
    if len(text) <= width:
        return [text]
    return textwrap.wrap(text, width, break_long_words=True, replace_whitespace=False) or [""]
