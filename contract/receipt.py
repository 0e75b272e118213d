"""The receipt model: device-independent documents (format in firmware/ports.py) built from a
journal entry alone, laid out for 32, 42 or 48 columns, in Dutch or English.

Because a document is built from the journal entry only, a copy printed years later is the
same receipt (marked KOPIE/COPY), and the QR code (store, terminal, seq, short hash) lets
anyone check it against the journal. X and Z reports are documents of the same kind.
No line is ever wider than the columns (half of them for double-width text). Money,
weights, quantities and VAT rates are all written in the receipt's locale (`1,234 kg` in
Dutch, `1.234 kg` in English), and the VAT table is always in the order A high, B low,
C zero, D exempt, whatever order the ticket's lines came in.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal

from contract import figures
from contract.config import TerminalConfig
from contract.money import format_money
from contract.number_locale import number_locale

COLUMNS = (32, 42, 48)
TEXTS = {
    "nl": {
        "receipt": "Bon", "cashier": "Kassier", "total": "TOTAAL", "rounding": "Afronding",
        "to_pay_cash": "Te betalen contant", "change": "Wisselgeld", "cash": "Contant",
        "card": "Pin", "voucher": "Waardebon", "vat": "BTW", "net": "Netto", "gross": "Bruto",
        "copy": "*** KOPIE ***", "training": "*** TRAINING - GEEN VERKOOP ***",
        "refund": "RETOUR", "void": "ANNULERING", "discount": "Korting",
        "ticket_discount": "Korting op bon", "vat_no": "BTW-nr", "thanks": "Bedankt en tot ziens!",
        "ref": "bij bon", "price_changed": "prijs gewijzigd, was", "till": "Kassa",
        "date": "Datum", "x_title": "X-RAPPORT (TUSSENTIJDS)", "z_title": "Z-RAPPORT",
        "number": "nr", "period": "Bonnen", "turnover": "OMZET", "tenders": "Betaalwijzen",
        "tickets": "Aantal bonnen", "refunds": "Retouren", "voids": "Annuleringen",
        "voids_paid_part": "  waarvan betaalde bonnen", "sales": "Verkopen",
        "average_ticket": "Gemiddelde bon", "voids_open": "Annuleringen open bonnen",
        "voids_paid": "Annuleringen betaalde bonnen", "discounts": "Kortingen",
        "price_overrides": "Prijswijzigingen", "no_sales": "Lade open zonder verkoop",
        "receipt_copies": "Kopiebonnen", "training_entries": "Trainingsboekingen",
        "x_reports": "X-rapporten", "cash_title": "Kasgeld", "float": "Wisselgeld begin",
        "cash_in": "Geld in", "cash_out": "Geld uit", "cash_tenders": "Contante betalingen",
        "expected": "Verwacht in lade", "counted": "Geteld", "variance": "Verschil",
        "grand": "Eeuwigdurende totalen", "grand_sales": "Verkopen", "grand_returns": "Retouren",
        "approved": "Goedgekeurd door", "none": "geen", "count_title": "Telling",
        "card_brands": "Pin per merk (journaal)", "terminal_totals": "Pinautomaat eigen totalen",
        "card_difference": "VERSCHIL PIN", "card_match": "Pin klopt met de pinautomaat",
        "terminal_error": "Pinautomaat niet gevraagd", "merchant_copy": "WINKELBON PIN",
        "exempt": "vrijgesteld",
    },
    "en": {
        "receipt": "Receipt", "cashier": "Cashier", "total": "TOTAL", "rounding": "Rounding",
        "to_pay_cash": "To pay in cash", "change": "Change", "cash": "Cash", "card": "Card",
        "voucher": "Voucher", "vat": "VAT", "net": "Net", "gross": "Gross",
        "copy": "*** COPY ***", "training": "*** TRAINING - NOT A SALE ***", "refund": "REFUND",
        "void": "VOID", "discount": "Discount", "ticket_discount": "Ticket discount",
        "vat_no": "VAT no", "thanks": "Thank you, see you soon!", "ref": "for receipt",
        "price_changed": "price changed, was", "till": "Till", "date": "Date",
        "x_title": "X REPORT (INTERIM)", "z_title": "Z REPORT", "number": "no",
        "period": "Entries", "turnover": "TURNOVER", "tenders": "Tenders",
        "tickets": "Tickets", "refunds": "Refunds", "voids": "Voids",
        "voids_paid_part": "  of which paid tickets", "sales": "Sales",
        "average_ticket": "Average ticket", "voids_open": "Voids of open tickets",
        "voids_paid": "Voids of paid tickets", "discounts": "Discounts",
        "price_overrides": "Price overrides", "no_sales": "No-sales (drawer opened)",
        "receipt_copies": "Receipt copies", "training_entries": "Training entries",
        "x_reports": "X reports", "cash_title": "Cash", "float": "Opening float",
        "cash_in": "Cash in", "cash_out": "Cash out", "cash_tenders": "Cash payments",
        "expected": "Expected in drawer", "counted": "Counted", "variance": "Variance",
        "grand": "Perpetual grand totals", "grand_sales": "Sales", "grand_returns": "Returns",
        "approved": "Approved by", "none": "none", "count_title": "Cash count",
        "card_brands": "Card per brand (journal)", "terminal_totals": "PIN terminal's totals",
        "card_difference": "CARD DIFFERENCE", "card_match": "Card totals match the terminal",
        "terminal_error": "PIN terminal not asked", "merchant_copy": "MERCHANT COPY (CARD)",
        "exempt": "exempt",
    },
}
LOCALES = {"nl": "nl_NL", "en": "en_IE"}
VAT_LABEL = {"high": "A", "low": "B", "zero": "C", "exempt": "D"}
VAT_ORDER = tuple(VAT_LABEL)  # the VAT table's rows: A high, B low, C zero, D exempt


def qr_payload(store: str, terminal: str, seq: int, hash_hex: str) -> str:
    """store, terminal, seq and a short hash: enough to find and check the journal entry."""
    return f"KASSA1|{store}|{terminal}|{seq}|{hash_hex[:16]}"


def parse_qr_payload(text: str) -> tuple[str, str, int, str]:
    parts = text.strip().split("|")
    if len(parts) != 5 or parts[0] != "KASSA1" or not parts[3].isdigit():
        raise ValueError(f"not a Kassa receipt code: {text!r}")
    return parts[1], parts[2], int(parts[3]), parts[4]


class Layout:
    """Builds blocks that never exceed the column width: long text wraps, pairs stack."""

    def __init__(self, columns: int, language: str) -> None:
        if columns not in COLUMNS:
            raise ValueError(f"{columns} columns is not 32, 42 or 48")
        if language not in TEXTS:
            raise ValueError(f"language {language!r} is not nl or en")
        self.columns, self.language, self.locale = columns, language, LOCALES[language]
        self.t = TEXTS[language]
        self.blocks: list[dict[str, Any]] = []

    def money(self, cents: int) -> str:
        return format_money(cents, self.locale).replace("\xa0", " ")

    def amount(self, cents: int) -> str:
        """An amount without the currency sign, for tables."""
        return format_decimal(Decimal(cents) / 100, format="#,##0.00", locale=number_locale(self.locale))

    def number(self, value: int) -> str:
        """A count or quantity as the receipt's language writes it (1.000 in Dutch)."""
        return format_decimal(value, format="#,##0", locale=number_locale(self.locale))

    def kilos(self, grams: int) -> str:
        """A weight in kg with three decimals: `1,234` in Dutch, `1.234` in English."""
        return format_decimal(Decimal(grams) / 1000, format="#,##0.000", locale=number_locale(self.locale))

    def percent(self, basis_points: int) -> str:
        """A VAT rate: `21%`, `5,5%` in Dutch."""
        rate = format_decimal(Decimal(basis_points) / 100, format="#,##0.##",
                              locale=number_locale(self.locale))
        return f"{rate}%"

    def text(self, text: str, align: str = "left", bold: bool = False, double: bool = False) -> None:
        width = self.columns // 2 if double else self.columns
        for piece in textwrap.wrap(text, width, break_long_words=True,
                                   break_on_hyphens=False) or [""]:
            self.blocks.append({"kind": "text", "text": piece, "align": align, "bold": bold,
                                "double": double})

    def pair(self, left: str, right: str, bold: bool = False) -> None:
        """Label left, value right; stacked when both do not fit on one line. A stacked value
        is padded to the columns, not printer-aligned: on a font wider than the columns (48 in
        a 56-column font B) it then ends where every other amount ends."""
        if len(left) + 1 + len(right) <= self.columns:
            self.blocks.append({"kind": "text", "text": left + right.rjust(self.columns - len(left)),
                                "align": "left", "bold": bold, "double": False})
            return
        self.text(left, bold=bold)
        if len(right) <= self.columns:
            self.blocks.append({"kind": "text", "text": right.rjust(self.columns), "align": "left",
                                "bold": bold, "double": False})
        else:
            self.text(right, align="right", bold=bold)

    def fits(self, cells: list[str], first: int) -> bool:
        """Whether `table` can put these cells on one row."""
        width = (self.columns - first) // (len(cells) - 1)
        return len(cells[0]) < first and all(len(c) < width for c in cells[1:])

    def table(self, cells: list[str], first: int) -> bool:
        """A row: `first` chars for the label, the rest split evenly, right-aligned.

        Returns False (and emits nothing) when a cell does not fit its column."""
        if not self.fits(cells, first):
            return False
        width = (self.columns - first) // (len(cells) - 1)
        line = cells[0].ljust(first) + "".join(c.rjust(width) for c in cells[1:])
        self.blocks.append({"kind": "text", "text": line, "align": "left", "bold": False,
                            "double": False})
        return True

    def rule(self) -> None:
        self.blocks.append({"kind": "rule"})

    def feed(self, lines: int = 1) -> None:
        self.blocks.append({"kind": "feed", "lines": lines})

    def document(self, copy: bool = False) -> dict[str, Any]:
        return {"columns": self.columns, "copy": copy, "blocks": self.blocks}


def _when(ts: str) -> str:
    return dt.datetime.fromisoformat(ts).strftime("%d-%m-%Y %H:%M:%S")


def _header(out: Layout, entry: dict[str, Any], shop: TerminalConfig, copy: bool) -> None:
    t = out.t
    out.text(shop.shop_name, align="center", bold=True, double=True)
    out.text(shop.address, align="center")
    out.text(f"{t['vat_no']}: {shop.vat_number}", align="center")
    if shop.kvk_number:  # the Handelsregister number, in both languages: it is a proper name
        out.text(f"KvK {shop.kvk_number}", align="center")
    _marks(out, entry, copy)
    out.rule()


def _marks(out: Layout, entry: dict[str, Any], copy: bool) -> None:
    if copy:
        out.text(out.t["copy"], align="center", bold=True)
    if entry.get("training"):
        out.text(out.t["training"], align="center", bold=True)


def _footer(out: Layout, entry: dict[str, Any], hash_hex: str, copy: bool) -> None:
    _marks(out, entry, copy)
    payload = qr_payload(entry["store"], entry["terminal"], entry["seq"], hash_hex)
    out.blocks.append({"kind": "qr", "data": payload})
    out.text(f"{entry['store']}/{entry['terminal']}/{entry['seq']} {hash_hex[:16]}", align="center")
    out.feed(1)
    out.blocks.append({"kind": "cut"})


def _vat_order(vat: dict[str, Any]) -> tuple[int, int]:
    code = vat["code"]
    return (VAT_ORDER.index(code) if code in VAT_ORDER else len(VAT_ORDER), vat["rate_bp"])


def _vat_label(out: Layout, vat: dict[str, Any]) -> str:
    letter = VAT_LABEL.get(vat["code"], "?")
    if vat["code"] == "exempt":  # no rate: exempt is not "0%" (that is C, zero-rated)
        return f"{letter} {out.t['exempt']}"
    return f"{letter} {out.percent(vat['rate_bp'])}"


def vat_table(out: Layout, vat_lines: list[dict[str, Any]]) -> None:
    """Net, VAT and gross per rate, A high, B low, C zero, D exempt. The label column widens
    for "D vrijgesteld" when the amounts still fit; else that label gets a line of its own."""
    t = out.t
    rows = [(_vat_label(out, vat), vat) for vat in sorted(vat_lines, key=_vat_order)]

    def cells(label: str, vat: dict[str, Any]) -> list[str]:
        return [label, out.amount(vat["net"]), out.amount(vat["vat"]), out.amount(vat["gross"])]

    header = [t["vat"], t["net"], t["vat"], t["gross"]]
    first = max([7] + [len(label) + 1 for label, _ in rows])
    if first > 7 and not (out.fits(header, first)
                          and all(out.fits(cells(label, vat), first) for label, vat in rows)):
        first = 7
    if not out.table(header, first):
        out.text(f"{t['vat']}: {t['net']} / {t['vat']} / {t['gross']}")
    for label, vat in rows:
        if out.table(cells(label, vat), first):
            continue
        if len(label) >= first and out.fits(cells("", vat), first):
            out.text(label)
            out.table(cells("", vat), first)
            continue
        out.text(label)
        out.pair(f"  {t['net']}", out.money(vat["net"]))
        out.pair(f"  {t['vat']}", out.money(vat["vat"]))
        out.pair(f"  {t['gross']}", out.money(vat["gross"]))


def build_document(
    entry: dict[str, Any],
    hash_hex: str,
    shop: TerminalConfig,
    columns: int = 42,
    language: str = "nl",
    copy: bool = False,
) -> dict[str, Any]:
    """The printable document of a journal entry body: a receipt, or an X/Z report."""
    out = Layout(columns, language)
    _header(out, entry, shop, copy)
    if entry["type"] in ("x_report", "z_close"):
        _report(out, entry)
    elif entry["type"] in ("sale", "refund", "void"):
        _receipt(out, entry)
    else:
        raise ValueError(f"a {entry['type']} entry has no printed document")
    _footer(out, entry, hash_hex, copy)
    return out.document(copy)


def _receipt(out: Layout, entry: dict[str, Any]) -> None:
    """Sale, refund or void: what Dutch and Belgian practice expects on a receipt."""
    t = out.t
    data = entry["data"]
    out.pair(f"{t['receipt']} {entry['terminal']}-{entry['seq']}", _when(entry["ts"]))
    out.text(f"{t['cashier']}: {entry.get('cashier') or '-'}")
    if entry["type"] in ("refund", "void"):
        ref = entry.get("ref_seq")
        ref_text = f" - {t['ref']} {entry['terminal']}-{ref}" if ref is not None else ""
        out.text(f"{t[entry['type']]}{ref_text}", bold=True)
    out.rule()
    for line in data.get("lines", []):
        if line.get("removed"):
            continue
        label = VAT_LABEL.get(line["vat_code"], "?")
        out.pair(line["name"], f"{out.money(line['amount'])} {label}")
        if line.get("weight_g") is not None:
            out.text(f"  {out.kilos(line['weight_g'])} kg x {out.money(line['unit_price'])}/kg")
        elif line["quantity"] not in (1, -1) and line.get("embedded_price") is None:
            out.text(f"  {out.number(line['quantity'])} x {out.money(line['unit_price'])}")
        if line.get("original_unit_price") is not None:
            out.text(f"  ({t['price_changed']} {out.money(line['original_unit_price'])})")
        if line.get("discount"):
            out.pair(f"  {t['discount']}", out.money(-line["discount"]))
    _promotion_lines(out, data)
    if data.get("ticket_discount"):
        out.pair(t["ticket_discount"], out.money(-data["ticket_discount"]))
    out.rule()
    out.pair(t["total"], out.money(data["total"]), bold=True)
    if data.get("rounding"):
        out.pair(t["rounding"], out.money(data["rounding"]))
        out.pair(t["to_pay_cash"], out.money(data["total"] + data["rounding"]), bold=True)
    for tender in data.get("tenders", []):
        name = t.get(tender["kind"], tender["kind"])
        amount = tender["amount"]
        if tender["kind"] in ("cash", "voucher") and tender.get("given"):
            amount = tender["given"]
        suffix = f" {tender['reference']}" if tender.get("reference") else ""
        out.pair(name + suffix, out.money(amount))
        card = tender.get("card")
        if card and (card.get("brand") or card.get("masked_pan")):
            out.text(f"  {card.get('brand', '').upper()} {card.get('masked_pan', '')}".rstrip())
    if data.get("change"):
        out.pair(t["change"], out.money(data["change"]), bold=True)
    out.rule()
    vat_table(out, data.get("vat", []))
    _cardholder_lines(out, data)
    out.feed(1)
    out.text(t["thanks"], align="center")


def _cardholder_lines(out: Layout, data: dict[str, Any]) -> None:
    """The PIN terminal's cardholder receipt, as the terminal wrote it, in the receipt's width
    (firmware/payment.py journals it with the card tender)."""
    for tender in data.get("tenders", []):
        lines = (tender.get("card") or {}).get("receipt") or []
        if lines:
            out.rule()
            for line in lines:
                out.text(line, align="center")


def _promotion_lines(out: Layout, data: dict[str, Any]) -> None:
    """Each promotion given on the ticket as its own line: its name and the discount."""
    for promotion in data.get("promotions", ()):
        out.pair(promotion["name"], out.money(-promotion["discount"]))


def _report(out: Layout, entry: dict[str, Any]) -> None:
    """An x_report or z_close entry: its figures as stored, signed as contract/figures.py
    says (reversals negative), so the printed Z, `kassa report` and head office agree."""
    t = out.t
    data = entry["data"]
    if entry["type"] == "z_close":
        out.text(f"{t['z_title']} {t['number']} {data['z_number']}", align="center", bold=True)
    else:
        out.text(t["x_title"], align="center", bold=True)
    out.pair(f"{t['till']} {entry['terminal']}", _when(entry["ts"]))
    out.text(f"{t['cashier']}: {entry.get('cashier') or '-'}")
    if data.get("approved_by"):
        out.text(f"{t['approved']}: {data['approved_by']}")
    out.pair(t["period"], f"{data['first_seq']} - {data['last_seq']}")
    out.rule()
    out.pair(t["turnover"], out.money(data["turnover"]), bold=True)
    vat_table(out, data["vat"])
    out.rule()
    out.text(t["tenders"], bold=True)
    for tender in data["tenders"]:
        out.pair(f"{t.get(tender['kind'], tender['kind'])} ({out.number(tender['count'])}x)",
                 out.money(tender["amount"]))
    if not data["tenders"]:
        out.text(f"  {t['none']}")
    out.pair(t["rounding"], out.money(data["rounding"]))
    out.rule()
    out.pair(t["tickets"], out.number(data["tickets"]))
    if "average_ticket" in data:
        out.pair(t["average_ticket"], out.money(data["average_ticket"]))
    if "voids_open" in data:  # schema 2: open and paid voids apart, reversals negative
        names: tuple[tuple[str, str], ...] = (
            ("sales", "sales"), ("refunds", "refunds"), ("voids_open", "voids_open"),
            ("voids_paid", "voids_paid"), ("discounts", "discounts"),
            ("price_overrides", "price_overrides"))
    else:  # a Z written in schema 1, printed as it was
        names = (("refunds", "refunds"), ("voids", "voids"), ("voids_paid", "voids_paid_part"),
                 ("discounts", "discounts"), ("price_overrides", "price_overrides"))
    for name, label in names:
        figure = data[name]
        out.pair(f"{t[label]} ({out.number(figure['count'])}x)", out.money(figure["amount"]))
    for name in ("no_sales", "receipt_copies", "training_entries", "x_reports"):
        value = data[name]["count"] if isinstance(data[name], dict) else data[name]
        out.pair(t[name], out.number(value))
    out.rule()
    out.text(t["cash_title"], bold=True)
    cash = data["cash"]
    for name in ("float", "cash_in", "cash_out", "cash_tenders"):
        out.pair(f"  {t[name]}", out.money(cash[name]))
    out.pair(t["expected"], out.money(cash["expected"]), bold=True)
    if "counted" in data:
        out.text(t["count_title"])
        for denomination, pieces in data["counted"]["by_denomination"]:
            out.pair(f"  {out.number(pieces)} x {out.money(denomination)}",
                     out.money(denomination * pieces))
        out.pair(t["counted"], out.money(data["counted"]["total"]), bold=True)
        out.pair(t["variance"], out.money(data["variance"]), bold=True)
    _card_close(out, data)
    out.rule()
    out.text(t["grand"], bold=True)
    out.pair(f"  {t['grand_sales']}", out.money(data["grand_totals"]["sales"]))
    out.pair(f"  {t['grand_returns']}", out.money(data["grand_totals"]["returns"]))


def _card_close(out: Layout, data: dict[str, Any]) -> None:
    """A Z with the PIN terminal: card totals per brand from the journal, the terminal's own,
    and a line per brand where they differ (firmware/card_close.py)."""
    t = out.t
    if "card_brands" not in data:
        return
    out.rule()
    out.text(t["card_brands"], bold=True)
    for brand in data["card_brands"]:
        out.pair(f"  {brand['brand'].upper() or '?'} ({out.number(brand['count'])}x)",
                 out.money(brand["amount"]))
    if not data["card_brands"]:
        out.text(f"  {t['none']}")
    if data.get("terminal_totals") is None:
        out.text(f"{t['terminal_error']}: {data.get('terminal_error') or '-'}", bold=True)
        return
    out.text(t["terminal_totals"], bold=True)
    for brand in data["terminal_totals"]:
        out.pair(f"  {brand['brand'].upper() or '?'} ({out.number(brand['count'])}x)",
                 out.money(brand["amount"]))
    differences = figures.card_differences(data["card_brands"], data["terminal_totals"])
    for brand, cents in differences.items():
        out.pair(f"{t['card_difference']} {brand.upper()}", out.money(cents), bold=True)
    if not differences:
        out.text(t["card_match"])


def build_merchant_copy(entry: dict[str, Any], shop: TerminalConfig, columns: int = 42,
                        language: str = "nl") -> dict[str, Any]:
    """The merchant's copy of a card sale: the terminal's merchant (cashier) receipt lines
    of each card tender, under the shop's header, in the receipt's width."""
    out = Layout(columns, language)
    _header(out, entry, shop, False)
    out.text(out.t["merchant_copy"], align="center", bold=True)
    out.pair(f"{out.t['receipt']} {entry['terminal']}-{entry['seq']}", _when(entry["ts"]))
    for tender in entry["data"].get("tenders", []):
        lines = (tender.get("card") or {}).get("merchant_receipt") or []
        if lines:
            out.rule()
            for line in lines:
                out.text(line, align="center")
    out.feed(1)
    out.blocks.append({"kind": "cut"})
    return out.document()


build_receipt = build_report = build_document


def render_text(document: dict[str, Any]) -> str:
    """A plain-text rendering, for previews, the simulator and tests."""
    columns = document["columns"]
    lines = []
    for block in document["blocks"]:
        kind = block["kind"]
        if kind == "text":
            text = block["text"]
            if block.get("align") == "center":
                text = text.center(columns // 2 if block.get("double") else columns).rstrip()
            elif block.get("align") == "right":
                text = text.rjust(columns)
            lines.append(text)
        elif kind == "rule":
            lines.append("-" * columns)
        elif kind == "qr":
            lines.append(f"[QR {block['data']}]"[:columns].center(columns).rstrip())
        elif kind == "feed":
            lines.extend([""] * block.get("lines", 1))
        elif kind == "cut":
            lines.append("~" * columns)
    return "\n".join(lines) + "\n"
