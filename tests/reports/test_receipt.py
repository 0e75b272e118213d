"""Receipt and report documents: complete, checkable, and never wider than the paper."""

from __future__ import annotations

import dataclasses
import re

import pytest

from cli.assemble import build_till
from contract.config import VariableMeasure
from contract.gtin import make_variable_code
from contract.receipt import Layout, build_document, parse_qr_payload, render_text, vat_table
from drivers.printer.document import blocks_of
from drivers.printer.factory import open_printer
from firmware.catalogue import import_csv
from firmware.permissions import Action
from firmware.sim import MANAGER_PIN, WEIGHED_CSV, ensure_demo_data
from firmware.till import TillService
from tests.drivers.escpos_lines import read_paper
from tests.fixtures_till import make_config

WIDTHS = (32, 42, 48)
LANGUAGES = ("nl", "en")
# Goods of every VAT code, to be sold in the order D exempt, C zero, B low (weighed), A high.
MIXED_VAT_CSV = [WEIGHED_CSV[0], WEIGHED_CSV[1],
                 ",99101,Postzegels 10 stuks,9.60,exempt,Diversen,no,yes,no,no,0\n",
                 ",99102,Boek voor export,12.50,zero,Diversen,no,yes,no,no,0\n",
                 ",99103,Rode wijn,6.49,high,Dranken,no,yes,no,no,0\n"]


@pytest.fixture(scope="module")
def cashier_till(tmp_path_factory: pytest.TempPathFactory) -> TillService:
    """One till for the module: the documents are built from its entries, never changed."""
    service = build_till(make_config(tmp_path_factory.mktemp("receipts")))
    ensure_demo_data(service, products=30)
    service.login("1111")
    yield service
    service.db.close()


@pytest.fixture(scope="module")
def entries(cashier_till: TillService) -> dict:
    """One of every printable entry, with long names, discounts, overrides and rounding."""
    till = cashier_till
    ok = lambda action: till.approve(MANAGER_PIN, action)  # noqa: E731
    till.db.execute_sql("UPDATE product SET name = 'Biologische volle yoghurt met aardbeien en "
                        "vanille uit de Achterhoek 1 liter' WHERE plu = '1'")
    till.cash_movement("float", 15000, "", approval=ok(Action.CASH_IN_OUT))
    first = till.add_plu("1", 3)
    till.discount_line(first.line_no, cents=5)
    second = till.add_plu("2")
    till.override_price(second.line_no, 123456, approval=ok(Action.PRICE_OVERRIDE))
    till.add_plu("3")
    till.discount_ticket(cents=(till.ticket.total - 2) % 5 or 5)  # total ends in 2: rounding
    due = till.cash_due()
    sale = till.pay_cash(due + 50000).entry
    till.add_plu("4")
    till.pay_voucher(100, "VB-1")
    card = till.pay_card(None, "TERMINAL-REF-00012345").entry
    refund = till.refund(sale.seq, {first.line_no: 1}, "cash", approval=ok(Action.REFUND)).entry
    void = till.void_sale(card.seq, approval=ok(Action.VOID_PAID_TICKET)).entry
    till.set_training(True, approval=ok(Action.TRAINING))
    till.add_plu("5")
    training = till.pay_cash(100000).entry
    till.set_training(False, approval=ok(Action.TRAINING))
    assert not import_csv(till.db, MIXED_VAT_CSV).errors
    till.add_plu("99101")
    till.add_plu("99102")
    scale_label = make_variable_code(VariableMeasure(prefix="22", kind="weight"), 99001, 1234)
    till.scan(scale_label)  # 1,234 kg Goudse kaas at € 12,95/kg
    till.add_plu("99103", 2)
    weighed = till.pay_card(None, "TERMINAL-REF-00012346").entry
    x = till.x_report().entry
    z = till.z_close({50000: 2, 5000: 1, 5: 3}, approval=ok(Action.Z_CLOSE)).entry
    return {"sale": sale, "card": card, "refund": refund, "void": void, "training": training,
            "weighed": weighed, "x": x, "z": z}


def text_of(document: dict) -> str:
    return render_text(document)


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_no_line_wider_than_the_paper(entries: dict, cashier_till: TillService, columns: int,
                                      language: str) -> None:
    shop = cashier_till.config.terminal
    for name, entry in entries.items():
        for copy in (False, True):
            document = build_document(entry.body, entry.hash, shop, columns, language, copy)
            assert document["columns"] == columns and document["copy"] is copy
            blocks_of(document)  # the printer driver's own check accepts it
            for block in document["blocks"]:
                if block["kind"] == "text":
                    width = columns // 2 if block["double"] else columns
                    assert len(block["text"]) <= width, (name, block)
            for line in text_of(document).splitlines():
                if not line.startswith("[QR"):
                    assert len(line) <= columns, (name, line)
            assert document["blocks"][-1] == {"kind": "cut"}


@pytest.mark.parametrize("columns", WIDTHS)
def test_sale_receipt_has_what_dutch_practice_expects(entries: dict, cashier_till: TillService,
                                                      columns: int) -> None:
    shop = cashier_till.config.terminal
    sale = entries["sale"]
    data = sale.body["data"]
    text = text_of(build_document(sale.body, sale.hash, shop, columns, "nl"))
    flat = " ".join(text.split())
    for expected in ("Kassa Demo Winkel", "Voorbeeldstraat 1, 1234 AB Utrecht",
                     f"BTW-nr: {shop.vat_number}", f"Bon t1-{sale.seq}", "Kassier: Sanne",
                     "TOTAAL", "Afronding", "Te betalen contant", "Contant", "Wisselgeld",
                     "Korting", "prijs gewijzigd", "Achterhoek", "BTW", "Netto", "Bruto"):
        assert expected in flat, expected
    assert "KOPIE" not in text and "TRAINING" not in text
    assert sale.body["ts"][8:10] + "-" + sale.body["ts"][5:7] + "-" + sale.body["ts"][:4] in text
    assert data["rounding"] != 0
    for vat in data["vat"]:
        rate = f"{vat['rate_bp'] / 100:g}%"
        assert rate in text
        amount = f"{vat['vat'] // 100:,}".replace(",", ".") + f",{vat['vat'] % 100:02d}"
        assert amount in text
    change = f"{data['change'] // 100:,}".replace(",", ".") + f",{data['change'] % 100:02d}"
    assert change in text


def test_copy_training_refund_and_void_are_marked(entries: dict, cashier_till: TillService) -> None:
    shop = cashier_till.config.terminal
    sale, refund, void, training = (entries[k] for k in ("sale", "refund", "void", "training"))
    assert text_of(build_document(sale.body, sale.hash, shop, 42, "nl", copy=True)).count("KOPIE") == 2
    assert text_of(build_document(sale.body, sale.hash, shop, 42, "en", copy=True)).count("COPY") == 2
    assert "TRAINING - GEEN VERKOOP" in text_of(build_document(training.body, training.hash, shop))
    assert "TRAINING - NOT A SALE" in text_of(build_document(training.body, training.hash, shop,
                                                             language="en"))
    assert f"RETOUR - bij bon t1-{sale.seq}" in text_of(build_document(refund.body, refund.hash, shop))
    assert "VOID - for receipt" in text_of(build_document(void.body, void.hash, shop, language="en"))


def test_qr_code_identifies_the_journal_entry(entries: dict, cashier_till: TillService) -> None:
    for entry in entries.values():
        document = build_document(entry.body, entry.hash, cashier_till.config.terminal, 32)
        (qr,) = [b for b in document["blocks"] if b["kind"] == "qr"]
        store, terminal, seq, short = parse_qr_payload(qr["data"])
        stored = cashier_till.journal.get(seq)
        assert (store, terminal) == ("s1", "t1")
        assert stored.hash.startswith(short) and len(short) == 16
        assert stored.body == entry.body


@pytest.mark.parametrize("language", LANGUAGES)
def test_z_report_document_shows_every_figure(entries: dict, cashier_till: TillService,
                                              language: str) -> None:
    z = entries["z"]
    data = z.body["data"]
    text = " ".join(text_of(build_document(z.body, z.hash, cashier_till.config.terminal, 42,
                                           language)).split())
    words = {
        "nl": ("Z-RAPPORT nr 1", "OMZET", "Betaalwijzen", "Aantal bonnen", "Retouren",
               "Annuleringen", "Kortingen", "Prijswijzigingen", "Lade open zonder verkoop",
               "Afronding", "Wisselgeld begin", "Geld in", "Geld uit", "Verwacht in lade",
               "Geteld", "Verschil", "Eeuwigdurende totalen", "Trainingsboekingen", "Pin",
               "Waardebon", "2 x € 500,00", "Verkopen", "Gemiddelde bon",
               "Annuleringen open bonnen", "Annuleringen betaalde bonnen"),
        "en": ("Z REPORT no 1", "TURNOVER", "Tenders", "Tickets", "Refunds", "Voids",
               "Discounts", "Price overrides", "No-sales", "Rounding", "Opening float",
               "Cash in", "Cash out", "Expected in drawer", "Counted", "Variance",
               "Perpetual grand totals", "Training entries", "Card", "Voucher",
               "2 x €500.00", "Sales", "Average ticket", "Voids of open tickets",
               "Voids of paid tickets"),
    }[language]
    for word in words:
        assert word in text, word
    assert f"{data['first_seq']} - {data['last_seq']}" in text
    x = entries["x"]
    x_text = text_of(build_document(x.body, x.hash, cashier_till.config.terminal, 32, language))
    assert ("X-RAPPORT" if language == "nl" else "X REPORT") in x_text
    assert "Geteld" not in x_text and "Counted" not in x_text


def test_z_report_prints_every_figure_with_its_stored_sign(entries: dict,
                                                         cashier_till: TillService) -> None:
    """The printed Z (and so `kassa report`) shows the figures as the Z entry stores them:
    reversals and reductions negative, never re-signed for print."""
    z = entries["z"]
    data = z.body["data"]
    document = build_document(z.body, z.hash, cashier_till.config.terminal, 48, "en")
    lines = text_of(document).splitlines()
    layout = Layout(48, "en")

    def shown(label: str) -> str:
        line = next(line for line in lines if line.startswith(label))
        return line[len(label):].strip()

    assert data["refunds"]["amount"] < 0 and data["voids_paid"]["amount"] < 0
    assert data["discounts"]["amount"] < 0 and data["cash"]["cash_out"] <= 0
    for name, label in (("refunds", "Refunds"), ("voids_open", "Voids of open tickets"),
                        ("voids_paid", "Voids of paid tickets"), ("discounts", "Discounts"),
                        ("price_overrides", "Price overrides"), ("sales", "Sales")):
        figure = data[name]
        assert shown(f"{label} ({figure['count']}x)") == layout.money(figure["amount"]), name
    assert shown("TURNOVER") == layout.money(data["turnover"])
    assert shown("Average ticket") == layout.money(data["average_ticket"])
    assert shown("  Cash out") == layout.money(data["cash"]["cash_out"])


def test_unknown_width_language_or_entry_refused(entries: dict, cashier_till: TillService) -> None:
    sale = entries["sale"]
    shop = cashier_till.config.terminal
    with pytest.raises(ValueError, match="40 columns"):
        build_document(sale.body, sale.hash, shop, 40)
    with pytest.raises(ValueError, match="language"):
        build_document(sale.body, sale.hash, shop, 42, "de")
    login = next(e for e in cashier_till.journal.entries() if e.type == "login")
    with pytest.raises(ValueError, match="no printed document"):
        build_document(login.body, login.hash, shop)


def vat_rows(text: str, language: str) -> list[str]:
    """The rows of the VAT table: the lines under its header up to the blank line."""
    header = {"nl": ("BTW", "Netto"), "en": ("VAT", "Net")}[language]
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == list(header))
    rows = []
    for line in lines[start + 1:]:
        if not line.strip() or line.startswith("-"):
            break
        rows.append(line)
    return rows


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_vat_table_in_fixed_order_with_exempt_named(entries: dict, cashier_till: TillService,
                                                   columns: int, language: str) -> None:
    shop = cashier_till.config.terminal
    weighed = entries["weighed"]
    # the ticket sold D, C, B, A, and the entry stores the rates in another order still
    stored = [v["code"] for v in weighed.body["data"]["vat"]]
    assert sorted(stored) == sorted(["high", "low", "zero", "exempt"])
    assert stored != ["high", "low", "zero", "exempt"]
    exempt = {"nl": "D vrijgesteld", "en": "D exempt"}[language]
    for name in ("weighed", "x", "z"):
        entry = entries[name]
        text = text_of(build_document(entry.body, entry.hash, shop, columns, language))
        rows = vat_rows(text, language)
        labelled = [row for row in rows if row[:1] in "ABCD" and row[1:2] == " "]
        assert [row[0] for row in labelled] == ["A", "B", "C", "D"], (name, rows)
        assert exempt in text and "D 0%" not in text and "D 0" not in text
        assert labelled[0].startswith("A 21%") and labelled[1].startswith("B 9%")
        assert labelled[2].startswith("C 0%") and labelled[3].startswith(exempt)
        exempt_vat = next(v for v in entry.body["data"]["vat"] if v["code"] == "exempt")
        layout = Layout(columns, language)
        exempt_at = next(i for i, row in enumerate(rows) if row.startswith(exempt))
        amounts = " ".join(rows[exempt_at:exempt_at + 2])
        assert amounts.split()[-1] == layout.amount(exempt_vat["gross"]), rows
    text = text_of(build_document(weighed.body, weighed.hash, shop, 48, language))
    assert any(row.startswith(exempt) and row.split()[-1] == "9,60" if language == "nl"
               else row.startswith(exempt) and row.split()[-1] == "9.60"
               for row in vat_rows(text, language))  # one row at 48 columns


@pytest.mark.parametrize("profile", ["TM-T88III", "TM-T20II"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_vat_table_order_in_the_printed_bytes(entries: dict, cashier_till: TillService,
                                              profile: str, language: str) -> None:
    """The VAT table as the printer gets it (bytes decoded line by line), at every width on
    two printer profiles: A high, B low, C zero, D exempt, whatever order the ticket sold."""
    shop = cashier_till.config.terminal
    exempt = {"nl": "D vrijgesteld", "en": "D exempt"}[language]
    for columns in WIDTHS:
        printer = open_printer("dummy", profile=profile, columns=columns)
        for name in ("weighed", "z"):
            entry = entries[name]
            printer.print_document(build_document(entry.body, entry.hash, shop, columns,
                                                  language))
            paper = read_paper(printer.dummy.output, profile)
            printer.dummy.clear()
            rows = vat_rows(paper.text, language)
            labels = [row[:1] for row in rows if row[:1] in "ABCD" and row[1:2] == " "]
            assert labels == ["A", "B", "C", "D"], (profile, columns, name, rows)
            assert any(row.startswith(exempt) for row in rows) and "D 0%" not in paper.text


@pytest.mark.parametrize("language, weight, price", [
    ("nl", "1,234 kg x € 12,95/kg", "€ 15,98"),
    ("en", "1.234 kg x €12.95/kg", "€15.98"),
])
def test_weighed_item_prints_its_weight_in_the_receipts_language(
        entries: dict, cashier_till: TillService, language: str, weight: str, price: str) -> None:
    shop = cashier_till.config.terminal
    weighed = entries["weighed"]
    line = next(li for li in weighed.body["data"]["lines"] if li.get("weight_g"))
    assert (line["weight_g"], line["unit_price"], line["amount"]) == (1234, 1295, 1598)
    for columns in WIDTHS:
        document = build_document(weighed.body, weighed.hash, shop, columns, language)
        text = text_of(document)
        assert f"  {weight}\n" in text
        assert any(row.startswith("Goudse kaas") and row.endswith(f"{price} B")
                   for row in text.splitlines())
        printer = open_printer("dummy", profile="TM-T88III", columns=columns)
        printer.print_document(document)
        paper = read_paper(printer.dummy.output, "TM-T88III")
        assert f"  {weight}" in [li.text for li in paper.lines]  # the bytes, decoded
        assert "2 x " + ("€ 6,49" if language == "nl" else "€6.49") in paper.text


def test_quantities_and_counts_use_the_receipts_number_format() -> None:
    assert Layout(42, "nl").number(1000) == "1.000" and Layout(42, "en").number(1000) == "1,000"
    assert Layout(42, "nl").kilos(12345) == "12,345" and Layout(42, "en").kilos(12345) == "12.345"
    assert Layout(42, "nl").kilos(1234567) == "1.234,567"
    assert Layout(42, "nl").percent(550) == "5,5%" and Layout(42, "en").percent(2100) == "21%"


# The font a profile needs for the columns: TM-T88III font A 42 / B 56, TM-T20II A 48 / B 64.
PRINTER_FONTS = {("TM-T88III", 32): 0, ("TM-T88III", 42): 0, ("TM-T88III", 48): 1,
                 ("TM-T20II", 32): 0, ("TM-T20II", 42): 0, ("TM-T20II", 48): 0}


@pytest.mark.parametrize("profile, columns", sorted(PRINTER_FONTS))
def test_receipt_bytes_select_the_font_and_no_line_exceeds_it(
        entries: dict, cashier_till: TillService, profile: str, columns: int) -> None:
    """Every printable entry, in both languages, as the printer gets it: the font that holds
    the columns is selected (ESC M n) and no printed line is wider than that font's line."""
    shop = cashier_till.config.terminal
    font = PRINTER_FONTS[profile, columns]
    printer = open_printer("dummy", profile=profile, columns=columns)
    font_columns = {0: {"TM-T88III": 42, "TM-T20II": 48}, 1: {"TM-T88III": 56}}[font][profile]
    full_width = 0
    for name, entry in entries.items():
        for language in LANGUAGES:
            printer.print_document(build_document(entry.body, entry.hash, shop, columns, language))
            out = printer.dummy.output
            printer.dummy.clear()
            assert out.startswith(b"\x1b@\x1bt\x13\x1bM" + bytes([font])), name
            paper = read_paper(out, profile)
            assert set(paper.font_selects) == {font}, name
            for line in paper.lines:
                assert line.fonts <= {font}, (name, line)
                assert line.width <= 1, (name, language, line)
                assert len(line.text) * (2 if line.double else 1) <= font_columns
                if re.search(r"€ ?[\d.,]+ [ABCD]$", line.text):  # an item's amount and VAT
                    assert len(line.text) == columns, (name, line)  # all end in one column
            assert b"\x1ba\x02" not in out  # no amount is aligned to the paper's own edge
            full_width += sum(len(line.text) == columns for line in paper.lines)
    assert full_width > 100  # the pairs and rules use the whole width


def test_long_exempt_label_keeps_the_amount_columns_aligned() -> None:
    """Where "D vrijgesteld" and the amounts do not share a row, the label gets a line of
    its own and the amounts stay in the table's columns, in A, B, D order."""
    vat = [{"code": "exempt", "rate_bp": 0, "net": 9_600_000, "vat": 0, "gross": 9_600_000},
           {"code": "low", "rate_bp": 900, "net": 146_600, "vat": 13_200, "gross": 159_800},
           {"code": "high", "rate_bp": 2100, "net": 6974, "vat": 1464, "gross": 8438}]
    out = Layout(42, "nl")
    vat_table(out, vat)
    lines = [block["text"] for block in out.blocks]
    assert lines == ["BTW          Netto        BTW      Bruto",
                     "A 21%        69,74      14,64      84,38",
                     "B 9%      1.466,00     132,00   1.598,00",
                     "D vrijgesteld",
                     "         96.000,00       0,00  96.000,00"]
    out = Layout(48, "en")
    vat_table(out, vat)
    assert [block["text"] for block in out.blocks][-1] == (
        "D exempt     96,000.00         0.00    96,000.00")  # "D exempt" fits beside them


@pytest.mark.parametrize("kind", ["sale", "z"])
def test_header_carries_the_shops_own_identity_and_kvk_number(
        entries: dict, cashier_till: TillService, kind: str) -> None:
    """A receipt and a Z report name the company as enrollment wrote it, with the KvK number
    on its own line under the BTW-nr, in the text and in the bytes the printer gets."""
    shop = dataclasses.replace(cashier_till.config.terminal, shop_name="Bakkerij De Korenaar",
                               address="Oudegracht 12, 3511 AB Utrecht",
                               vat_number="NL812345678B01", kvk_number="12345678")
    entry = entries[kind]
    for language, vat_label in (("nl", "BTW-nr"), ("en", "VAT no")):
        lines = [ln.strip() for ln in text_of(build_document(entry.body, entry.hash, shop, 42,
                                                             language)).splitlines()]
        at = lines.index(f"{vat_label}: NL812345678B01")
        assert lines[at + 1] == "KvK 12345678"
        assert "Bakkerij De Korenaar" in lines[:at] and "Kassa Demo Winkel" not in lines
        printer = open_printer("dummy", profile="TM-T88III", columns=42)
        printer.print_document(build_document(entry.body, entry.hash, shop, 42, language))
        paper = [line.text.strip() for line in read_paper(printer.dummy.output, "TM-T88III").lines]
        at = paper.index(f"{vat_label}: NL812345678B01")
        assert paper[at + 1] == "KvK 12345678"


def test_header_without_a_kvk_number_prints_no_kvk_line(entries: dict,
                                                        cashier_till: TillService) -> None:
    sale = entries["sale"]
    assert cashier_till.config.terminal.kvk_number == ""
    text = text_of(build_document(sale.body, sale.hash, cashier_till.config.terminal, 42, "nl"))
    assert "KvK" not in text
