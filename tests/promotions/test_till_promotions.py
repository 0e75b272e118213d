"""Promotions at the till: delivered through the uplink's downstream path, priced on every
edit by the ticket's clock, journaled in the sale, printed, and given back in refunds."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from cli.assemble import build_till
from contract.entries import EntrySchemaError, parse_entry, validate_body
from contract.promotions import TIMEZONE
from contract.receipt import build_document
from drivers.printer.factory import open_printer
from firmware.catalogue import import_csv
from firmware.downstream_log import journal_waiting
from firmware.models import DownstreamReject, JournalEntry
from firmware.permissions import Action
from firmware.uplink.downstream import Downstream, Rejected
from tests.fixtures_till import make_config

CSV = ["gtin,plu,name,price,vat,category,stock_tracked,active,sold_by_weight,favourite,stock\n",
       ",1,Melk,1.19,low,Zuivel,yes,yes,no,no,100\n",
       ",2,Yoghurt,2.49,low,Zuivel,yes,yes,no,no,100\n",
       ",3,Chips,1.99,high,Snacks,yes,yes,no,no,100\n",
       ",4,Nootjes,2.99,high,Snacks,yes,yes,no,no,100\n",
       ",5,Cola,2.50,high,Dranken,yes,yes,no,no,100\n",
       ",99001,Kaas (kg),12.95,low,Zuivel,yes,yes,yes,no,25000\n"]
SATURDAY_10 = dt.datetime(2026, 3, 28, 10, 0, tzinfo=TIMEZONE)
MANAGER_PIN = "9999"
PROMOS = [
    {"id": "chips-3-for-5", "name": "Chips 3 voor 5,00", "version": 3, "type": "n_for_price",
     "n": 3, "price_cents": 500, "products": ["plu:3"]},
    {"id": "snacks-2-plus-1", "name": "Snacks 2+1 gratis", "version": 1, "type": "buy_get",
     "buy": 2, "get": 1, "products": ["plu:4"]},
    {"id": "cola-2e-half", "name": "2e Cola halve prijs", "version": 1, "type": "nth_percent",
     "n": 2, "percent": 50, "products": ["plu:5"]},
    {"id": "zuivel-10", "name": "Zuivel 10% korting", "version": 2, "type": "percent",
     "percent": 10, "categories": ["Zuivel"], "weekdays": [6, 7], "time_from": "09:00",
     "time_until": "17:00"},
]


@pytest.fixture
def shop(tmp_path):
    till = build_till(make_config(tmp_path))
    report = import_csv(till.db, CSV)
    assert not report.errors
    till.users.add("Sanne", "cashier", "1111")
    till.users.add("Bram", "manager", MANAGER_PIN)
    deliver(till, 1, PROMOS)
    till.promotions.clock = lambda: SATURDAY_10
    till.login("1111")
    yield till
    till.db.close()


def deliver(till, version: int, promotions: list[dict]) -> None:
    outcome = Downstream(till.db).apply("promotions", json.dumps(
        {"version": version, "promotions": promotions}).encode())
    assert outcome.applied


def promo(data: dict, pid: str) -> dict:
    return next(p for p in data["promotions"] if p["id"] == pid)


def test_n_for_price_on_the_ticket_lowers_the_gross_of_its_vat_rate(shop):
    for _ in range(3):
        shop.scan("3")
    assert shop.ticket.total == 500  # mix & match over three lines: 97 spread 33/32/32
    assert [line.promo_discount for line in shop.ticket.active_lines] == [33, 32, 32]
    sale = shop.pay_card(None, "R1").entry.body
    data = sale["data"]
    assert promo(data, "chips-3-for-5") == {
        "id": "chips-3-for-5", "name": "Chips 3 voor 5,00", "version": 3, "discount": 97,
        "lines": [{"line_no": 1, "discount": 33}, {"line_no": 2, "discount": 32},
                  {"line_no": 3, "discount": 32}]}
    assert [line["gross"] for line in data["lines"]] == [166, 167, 167]
    assert data["vat"] == [{"code": "high", "rate_bp": 2100, "gross": 500, "vat": 87, "net": 413}]
    assert data["discount_total"] == 97 and data["total"] == 500
    parse_entry(sale)


def test_buy_get_and_nth_percent_on_one_ticket_and_a_line_that_takes_none(shop):
    nuts = shop.scan("4")
    shop.set_quantity(nuts.line_no, 3)
    cola = shop.scan("5")
    shop.set_quantity(cola.line_no, 3)
    data = shop.pay_card(None, "R2").entry.body["data"]
    assert promo(data, "snacks-2-plus-1")["discount"] == 299
    assert promo(data, "cola-2e-half")["discount"] == 125  # one pair; the third Cola is full price
    assert data["total"] == 3 * 299 - 299 + 3 * 250 - 125


def test_percent_on_a_category_also_by_weight_inside_its_hours_only(shop):
    shop.add_product(6, weight_g=500)  # Kaas: 6.48 (12.95 x 0.5 kg, half up)
    shop.scan("1")
    assert [line.promo_discount for line in shop.ticket.active_lines] == [65, 12]
    shop.promotions.clock = lambda: SATURDAY_10.replace(hour=8, minute=59)
    shop.scan("2")  # the next edit prices the ticket at 08:59: no dairy promotion yet
    assert shop.ticket.promotions == [] and shop.ticket.discount_total == 0
    shop.promotions.clock = lambda: SATURDAY_10.replace(hour=9)
    shop.set_quantity(3, 1)
    assert [p["id"] for p in shop.ticket.promotions] == ["zuivel-10"]
    assert shop.ticket.promotions[0]["discount"] == 65 + 12 + 25
    shop.promotions.clock = lambda: SATURDAY_10 + dt.timedelta(days=2)  # Monday
    shop.remove_line(3)
    assert shop.ticket.promotions == []


def test_cashier_discount_and_price_override_take_no_promotion_ticket_discount_after(shop):
    a = shop.scan("3")
    shop.set_quantity(a.line_no, 3)
    b = shop.scan("3")
    shop.set_quantity(b.line_no, 3)
    assert shop.ticket.promotion_total == 2 * 97
    shop.discount_line(b.line_no, cents=50)
    assert shop.ticket.line(b.line_no).promo_discount == 0
    assert shop.ticket.line(a.line_no).promo_discount == 97
    approval = shop.approve(MANAGER_PIN, Action.PRICE_OVERRIDE)
    shop.override_price(a.line_no, 150, approval=approval)
    assert shop.ticket.promotions == []
    shop.discount_line(b.line_no, cents=0)
    shop.discount_ticket(cents=100, approval=shop.approve(MANAGER_PIN, Action.LARGE_DISCOUNT))
    line = shop.ticket.line(b.line_no)
    assert line.promo_discount == 97 and line.ticket_discount > 0
    assert shop.ticket.total == 3 * 150 + 500 - 100


def test_refunds_of_parts_give_back_exactly_the_promotions_share(shop):
    chips = shop.scan("3")
    shop.set_quantity(chips.line_no, 3)
    shop.scan("1")
    shop.scan("2")
    sale = shop.pay_card(None, "R3").entry
    dairy = promo(sale.body["data"], "zuivel-10")
    assert dairy["discount"] == 12 + 25
    back = []
    for quantities in ({1: 1, 2: 1}, {1: 1}, {1: 1, 3: 1}):
        approval = shop.approve(MANAGER_PIN, Action.REFUND)
        refund = shop.refund(sale.seq, quantities, "card", "R", approval=approval).entry.body
        parse_entry(refund)
        back.append(refund["data"])
    chips_back = [-promo(d, "chips-3-for-5")["discount"] for d in back]
    assert chips_back == [32, 32, 33] and sum(chips_back) == 97
    dairy_back = [-sum(p["discount"] for p in d.get("promotions", ()) if p["id"] == "zuivel-10")
                  for d in back]
    assert dairy_back == [12, 0, 25]
    # each refund pays back the pieces at what they cost on the ticket
    assert back[0]["total"] == -(199 - 32 + 119 - 12)
    assert sum(d["total"] for d in back) == -sale.body["data"]["total"]
    assert shop.journal.verify().ok


def test_void_of_a_paid_ticket_negates_its_promotions(shop):
    chips = shop.scan("3")
    shop.set_quantity(chips.line_no, 3)
    sale = shop.pay_card(None, "R4").entry
    approval = shop.approve(MANAGER_PIN, Action.VOID_PAID_TICKET)
    void = shop.void_sale(sale.seq, approval=approval).entry.body
    parse_entry(void)
    assert promo(void["data"], "chips-3-for-5")["discount"] == -97
    assert void["data"]["lines"][0]["promo_discount"] == -97


def test_journal_schema_refuses_shares_that_do_not_add_up(shop):
    chips = shop.scan("3")
    shop.set_quantity(chips.line_no, 3)
    body = shop.pay_card(None, "R5").entry.body
    bad = json.loads(json.dumps(body))
    bad["data"]["promotions"][0]["discount"] = 96
    with pytest.raises(EntrySchemaError) as caught:
        validate_body(bad)
    assert caught.value.field == "data.promotions[0].discount"
    bad = json.loads(json.dumps(body))
    bad["data"]["lines"][0]["promo_discount"] = 0
    with pytest.raises(EntrySchemaError) as caught:
        validate_body(bad)
    assert caught.value.field == "data.lines[0].promo_discount"


def test_receipt_prints_each_promotion_as_its_own_line(shop):
    chips = shop.scan("3")
    shop.set_quantity(chips.line_no, 3)
    cola = shop.scan("5")
    shop.set_quantity(cola.line_no, 2)
    sale = shop.pay_card(None, "R6").entry
    printer = open_printer("dummy", profile="TM-T88III", columns=42)
    printer.print_document(build_document(sale.body, sale.hash, shop.config.terminal, 42, "nl"))
    text = printer.dummy.output.decode("cp858")
    lines = [line.strip() for line in text.splitlines()]
    assert any(line.startswith("Chips 3 voor 5,00") and line.endswith("-0,97") for line in lines)
    assert any(line.startswith("2e Cola halve prijs") and line.endswith("-1,25") for line in lines)
    assert text.index("2e Cola halve prijs") < text.index("TOTAAL")


def test_promotions_message_is_versioned_and_a_bad_one_is_refused_and_recorded(shop):
    with pytest.raises(Rejected, match=r"promotions v2 promotions\[0\] x: 'n' is not an integer"):
        Downstream(shop.db).apply("promotions", json.dumps({"version": 2, "promotions": [
            {"id": "x", "name": "x", "version": 1, "type": "nth_percent", "n": 1,
             "percent": 50, "products": ["plu:3"]}]}).encode())
    assert DownstreamReject.select().where(DownstreamReject.kind == "promotions").count() == 1
    outcome = Downstream(shop.db).apply("promotions", json.dumps(
        {"version": 1, "promotions": []}).encode())
    assert not outcome.applied  # not newer
    deliver(shop, 2, [])  # withdrawn: the full list replaces the old one
    for _ in range(3):
        shop.scan("3")
    assert shop.ticket.total == 3 * 199 and shop.ticket.promotions == []
    shop.pay_card(None, "R7")
    assert journal_waiting(shop.kernel) == 3  # v1 applied, v2 refused, v2 applied
    journaled = [(json.loads(r.body)["type"], json.loads(r.body)["data"]["kind"],
                  json.loads(r.body)["data"].get("count")) for r in JournalEntry.select()
                 .where(JournalEntry.type.in_(("catalogue_applied", "downstream_refused")))
                 .order_by(JournalEntry.seq)]
    assert journaled == [("catalogue_applied", "promotions", 4),
                         ("downstream_refused", "promotions", None),
                         ("catalogue_applied", "promotions", 0)]


def test_x_report_counts_each_promotion_as_a_discount_and_a_parked_ticket_keeps_them(shop):
    chips = shop.scan("3")
    shop.set_quantity(chips.line_no, 3)
    shop.scan("1")
    parked = shop.park()
    shop.recall(parked)
    assert [p["id"] for p in shop.ticket.promotions] == ["chips-3-for-5", "zuivel-10"]
    shop.pay_card(None, "R8")
    discounts = shop.x_report().entry.body["data"]["discounts"]
    assert discounts == {"count": 2, "amount": -(97 + 12)}


def test_a_line_that_is_no_product_takes_no_promotion(shop):
    from firmware.ticket import Line

    shop.scan("1")
    shop.sales.edit(lambda ticket: ticket.add(Line(
        line_no=0, product_id=1, code="", name="Statiegeld", vat_code="zero", unit_price=25,
        sku="")), "add")
    assert shop.ticket.promotions[0]["lines"] == [{"line_no": 1, "discount": 12}]
    assert shop.ticket.active_lines[1].promo_discount == 0
