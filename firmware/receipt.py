"""The receipt model: a device-independent document (see firmware/ports.py) built from a
journal entry, laid out for 32, 42 or 48 columns, in Dutch or English.

Because it is built from the journal entry alone, a copy printed years later is the same
receipt, and the QR code lets anyone check it against the journal.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from firmware.config import TerminalConfig
from firmware.money import format_money

TEXTS = {
    "nl": {
        "receipt": "Bon", "cashier": "Kassier", "total": "TOTAAL", "rounding": "Afronding",
        "change": "Wisselgeld", "cash": "Contant", "card": "Pin", "voucher": "Waardebon",
        "vat": "BTW", "net": "Netto", "gross": "Bruto", "copy": "*** KOPIE ***",
        "training": "*** TRAINING - GEEN VERKOOP ***", "refund": "RETOUR", "void": "ANNULERING",
        "discount": "Korting", "vat_no": "BTW-nr", "thanks": "Bedankt en tot ziens!",
        "ref": "Bij bon", "price_changed": "prijs gewijzigd", "terminal": "Kassa",
    },
    "en": {
        "receipt": "Receipt", "cashier": "Cashier", "total": "TOTAL", "rounding": "Rounding",
        "change": "Change", "cash": "Cash", "card": "Card", "voucher": "Voucher",
        "vat": "VAT", "net": "Net", "gross": "Gross", "copy": "*** COPY ***",
        "training": "*** TRAINING - NOT A SALE ***", "refund": "REFUND", "void": "VOID",
        "discount": "Discount", "vat_no": "VAT no", "thanks": "Thank you, see you soon!",
        "ref": "For receipt", "price_changed": "price changed", "terminal": "Till",
    },
}
LOCALES = {"nl": "nl_NL", "en": "en_IE"}
VAT_LABEL = {"high": "A", "low": "B", "zero": "C", "exempt": "D"}


def qr_payload(store: str, terminal: str, seq: int, hash_hex: str) -> str:
    """store, terminal, seq and a short hash: enough to find and check the journal entry."""
    return f"KASSA1|{store}|{terminal}|{seq}|{hash_hex[:16]}"


def parse_qr_payload(text: str) -> tuple[str, str, int, str]:
    parts = text.strip().split("|")
    if len(parts) != 5 or parts[0] != "KASSA1" or not parts[3].isdigit():
        raise ValueError(f"not a Kassa receipt code: {text!r}")
    return parts[1], parts[2], int(parts[3]), parts[4]


class _Layout:
    def __init__(self, columns: int, locale: str) -> None:
        self.columns, self.locale, self.blocks = columns, locale, []

    def text(self, text: str, align: str = "left", bold: bool = False, double: bool = False) -> None:
        width = self.columns // 2 if double else self.columns
        while len(text) > width:
            self.blocks.append({"kind": "text", "text": text[:width], "align": align,
                                "bold": bold, "double": double})
            text = text[width:]
        self.blocks.append({"kind": "text", "text": text, "align": align, "bold": bold,
                            "double": double})

    def columns2(self, left: str, right: str, bold: bool = False) -> None:
        room = self.columns - len(right) - 1
        if len(left) > room:
            self.text(left, bold=bold)
            left = ""
        self.text(left.ljust(room) + " " + right, bold=bold)

    def money(self, cents: int) -> str:
        return format_money(cents, self.locale)


def build_receipt(
    entry: dict[str, Any],
    hash_hex: str,
    shop: TerminalConfig,
    columns: int = 42,
    language: str = "nl",
    copy: bool = False,
) -> dict[str, Any]:
    """The document for a sale, refund or void entry (its journal body as a dict)."""
    if columns not in (32, 42, 48):
        raise ValueError(f"{columns} columns is not 32, 42 or 48")
    t = TEXTS[language]
    out = _Layout(columns, LOCALES[language])
    data = entry["data"]
    out.text(shop.shop_name, align="center", bold=True, double=True)
    out.text(shop.address, align="center")
    out.text(f"{t['vat_no']}: {shop.vat_number}", align="center")
    if copy:
        out.text(t["copy"], align="center", bold=True)
    if entry.get("training"):
        out.text(t["training"], align="center", bold=True)
    out.blocks.append({"kind": "rule"})
    when = dt.datetime.fromisoformat(entry["ts"])
    out.columns2(f"{t['receipt']} {entry['terminal']}-{entry['seq']}", when.strftime("%d-%m-%Y %H:%M"))
    out.text(f"{t['cashier']}: {entry.get('cashier') or '-'}")
    if entry["type"] in ("refund", "void"):
        out.text(f"{t[entry['type']]} - {t['ref']} {entry['terminal']}-{entry.get('ref_seq')}", bold=True)
    out.blocks.append({"kind": "rule"})
    for line in data.get("lines", []):
        if line.get("removed"):
            continue
        label = VAT_LABEL.get(line["vat_code"], "?")
        out.columns2(line["name"], f"{out.money(line['amount'])} {label}")
        if line.get("weight_g") is not None:
            out.text(f"  {line['weight_g'] / 1000:.3f} kg x {out.money(line['unit_price'])}/kg")
        elif line["quantity"] != 1 and line.get("embedded_price") is None:
            out.text(f"  {line['quantity']} x {out.money(line['unit_price'])}")
        if line.get("original_unit_price") is not None:
            out.text(f"  ({t['price_changed']}: {out.money(line['original_unit_price'])})")
        if line.get("discount"):
            out.columns2(f"  {t['discount']}", out.money(-line["discount"]))
    if data.get("ticket_discount"):
        out.columns2(t["discount"], out.money(-data["ticket_discount"]))
    out.blocks.append({"kind": "rule"})
    out.columns2(t["total"], out.money(data["total"]), bold=True)
    if data.get("rounding"):
        out.columns2(t["rounding"], out.money(data["rounding"]))
        out.columns2(t["total"] + " " + t["cash"].lower(), out.money(data["total"] + data["rounding"]),
                     bold=True)
    for tender in data.get("tenders", []):
        name = t.get(tender["kind"], tender["kind"])
        amount = tender.get("given") or tender["amount"] if tender["kind"] == "cash" else tender["amount"]
        suffix = f" {tender['reference']}" if tender.get("reference") else ""
        out.columns2(name + suffix, out.money(amount))
    if data.get("change"):
        out.columns2(t["change"], out.money(data["change"]), bold=True)
    out.blocks.append({"kind": "rule"})
    out.columns2(f"{t['vat']}", f"{t['net']} / {t['vat']} / {t['gross']}")
    for vat in data.get("vat", []):
        pct = f"{vat['rate_bp'] / 100:g}%"
        out.columns2(f"{VAT_LABEL.get(vat['code'], '?')} {pct}",
                     f"{out.money(vat['net'])} {out.money(vat['vat'])} {out.money(vat['gross'])}")
    out.blocks.append({"kind": "feed", "lines": 1})
    out.text(t["thanks"], align="center")
    payload = qr_payload(entry["store"], entry["terminal"], entry["seq"], hash_hex)
    out.blocks.append({"kind": "qr", "data": payload})
    out.blocks.append({"kind": "cut"})
    return {"columns": columns, "copy": copy, "blocks": out.blocks}


def render_text(document: dict[str, Any]) -> str:
    """A plain-text rendering, for previews, the simulator and tests."""
    columns = document["columns"]
    lines = []
    for block in document["blocks"]:
        kind = block["kind"]
        if kind == "text":
            text = block["text"]
            if block.get("align") == "center":
                text = text.center(columns).rstrip()
            elif block.get("align") == "right":
                text = text.rjust(columns)
            lines.append(text)
        elif kind == "rule":
            lines.append("-" * columns)
        elif kind == "qr":
            lines.append(f"[QR {block['data']}]".center(columns).rstrip())
        elif kind == "feed":
            lines.extend([""] * block.get("lines", 1))
        elif kind == "cut":
            lines.append("~" * columns)
    return "\n".join(lines) + "\n"
