"""The till's receipts: the renderer lives in contract/receipt.py, because a receipt is built
from the journal entry alone and head office shows the same document (its receipt search).
The till's code keeps importing it from here."""

from __future__ import annotations

from contract.receipt import (
    COLUMNS,
    TEXTS,
    Layout,
    build_document,
    build_merchant_copy,
    build_receipt,
    build_report,
    parse_qr_payload,
    qr_payload,
    render_text,
    vat_table,
)

__all__ = ["COLUMNS", "TEXTS", "Layout", "build_document", "build_merchant_copy",
           "build_receipt", "build_report", "parse_qr_payload", "qr_payload", "render_text",
           "vat_table"]
