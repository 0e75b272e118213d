"""Age check, deposit (statiegeld) and scheduled prices at the till, through the till service,
with the products coming in as head office's catalogue message does (applied by the uplink's
own code), receipts printed on python-escpos' Dummy printer and read back byte by byte."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import peewee
import pytest

from cli import wiring
from cli.assemble import build_till
from contract.entries import parse_entry
from firmware import errors
from firmware.db import open_database
from firmware.models import Product
from firmware.permissions import Action, ApprovalRequired
from firmware.price_schedule import pending
from firmware.print_queue import PrintQueue
from firmware.sim import MANAGER_PIN, ensure_demo_data
from firmware.till import TillService
from firmware.uplink.downstream import Downstream, Rejected
from tests.drivers.escpos_lines import read_paper
from tests.fixtures_till import make_config

MILK = {"gtin": "8710398500014", "name": "Halfvolle melk", "price_cents": 129, "vat_code": "low"}
PILS = {"gtin": "8712345678906", "name": "Pils 33cl", "price_cents": 125, "vat_code": "high",
        "age_limit": 18,  # the deposit with the Dutch default VAT: exempt
        "deposit": {"code": "statiegeld-015", "amount_cents": 15, "vat_code": "exempt"}}
WHISKY = {"plu": "4711", "name": "Whisky 70cl", "price_cents": 2999, "vat_code": "high",
          "age_limit": 21}  # no Dutch limit is 21; the rule for a higher limit is what is tested
COLA = {"gtin": "4006381333931", "name": "Cola 1,5 l", "price_cents": 199, "vat_code": "low",
        "deposit": {"code": "statiegeld-025", "amount_cents": 25, "vat_code": "low"}}


class Shop:
    """A till with the Dummy printer behind the print queue, and the events it emitted."""

    def __init__(self, tmp: Path) -> None:
        self.config = make_config(tmp, '[printer]\nkind = "dummy"\n')
        self.printer = wiring.build_printer(self.config)
        self.queue = PrintQueue(self.printer)
        self.till: TillService = build_till(self.config, print_queue=self.queue)
        ensure_demo_data(self.till, products=3)
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.till.subscribe(lambda event, data: self.events.append((event, data)))
        self.catalogue([MILK, PILS, WHISKY, COLA])
        self.till.login("1111")

    def catalogue(self, products: list[dict], version: int = 1, **extra: Any) -> None:
        payload = json.dumps({"version": version, "mode": "full", "products": products,
                              **extra}).encode()
        assert Downstream(self.till.db).apply("catalogue", payload).applied

    def asked(self) -> list[int]:
        return [data["age"] for event, data in self.events if event == "age_check"]

    def paper(self) -> str:
        assert self.queue.wait_idle(10)
        out = self.printer.driver.dummy.output
        self.printer.driver.dummy.clear()
        return read_paper(out, self.config.printer.profile).text

    def close(self) -> None:
        self.queue.close()
        self.till.db.close()


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    made = Shop(tmp_path)
    yield made
    made.close()


def manager(till: TillService, action: Action):
    return till.approve(MANAGER_PIN, action)


# --- age check ---------------------------------------------------------------------------------
def test_an_age_limited_item_asks_once_per_ticket_and_the_confirmation_is_journaled(shop):
    till = shop.till
    till.scan(MILK["gtin"])
    assert shop.asked() == [] and till.age_check_required() == 0
    till.scan(PILS["gtin"])
    assert shop.asked() == [18] and till.age_check_required() == 18
    with pytest.raises(errors.AgeCheckPending) as refused:
        till.pay_cash(5000)
    assert refused.value.params == {"age": 18}
    assert till.confirm_age() == 18
    till.scan(PILS["gtin"])  # the same limit again: not asked again
    assert shop.asked() == [18] and till.age_check_required() == 0
    till.add_plu(WHISKY["plu"])  # a higher limit asks again, for that age
    assert shop.asked() == [18, 21]
    till.confirm_age()
    with pytest.raises(errors.NoAgeCheckPending):
        till.confirm_age()
    committed = till.pay_cash(10_000)
    entry = parse_entry(committed.entry.body)  # the contract's schema, strict
    assert entry.data.age_check is not None
    assert (entry.data.age_check.age, entry.data.age_check.confirmed_by) == (21, "Sanne")
    assert dt.datetime.fromisoformat(entry.data.age_check.at).tzinfo is not None
    assert [line.age_limit for line in entry.data.lines if line.deposit_for is None] == \
        [0, 18, 18, 21]
    assert till.journal.verify().ok
    till.scan(PILS["gtin"])  # the next ticket asks again
    assert shop.asked() == [18, 21, 18]


def test_refusing_removes_the_waiting_lines_and_their_deposit(shop):
    till = shop.till
    till.scan(MILK["gtin"])
    till.scan(PILS["gtin"])
    assert [line.name for line in till.ticket.active_lines] == [MILK["name"], PILS["name"],
                                                                "Statiegeld"]
    removed = till.refuse_age()
    assert removed == [2]
    assert [line.name for line in till.ticket.active_lines] == [MILK["name"]]
    assert till.age_check_required() == 0 and till.ticket.total == 129
    with pytest.raises(errors.NoAgeCheckPending):
        till.refuse_age()
    committed = till.pay_cash(200)
    data = committed.entry.body["data"]
    assert "age_check" not in data and data["total"] == 129
    assert [(line["name"], line["removed"]) for line in data["lines"]] == [
        (MILK["name"], False), (PILS["name"], True), ("Statiegeld", True)]
    parse_entry(committed.entry.body)


def test_a_parked_ticket_keeps_its_confirmation_or_asks_again_when_recalled(shop):
    till = shop.till
    till.scan(PILS["gtin"])
    till.confirm_age()
    till.park()
    till.recall(till.parked()[0].id)
    assert till.age_check_required() == 0 and till.ticket.age_check["age"] == 18
    assert shop.asked() == [18]
    till.void_open_ticket()
    till.add_plu(WHISKY["plu"])  # parked unanswered: the question comes back with the ticket
    till.park()
    assert shop.asked() == [18, 21]
    till.recall(till.parked()[0].id)
    assert shop.asked() == [18, 21, 21] and till.age_check_required() == 21


# --- deposit -----------------------------------------------------------------------------------
def test_a_deposit_line_is_sold_printed_and_refunded_with_its_own_vat(shop):
    till = shop.till
    line = till.scan(PILS["gtin"])
    till.confirm_age()
    till.set_quantity(line.line_no, 4)  # the deposit follows
    till.scan(COLA["gtin"])
    lines = till.ticket.active_lines
    assert [(x.name, x.quantity, x.amount, x.vat_code, x.deposit_for) for x in lines] == [
        (PILS["name"], 4, 500, "high", None), ("Statiegeld", 4, 60, "exempt", 1),
        (COLA["name"], 1, 199, "low", None), ("Statiegeld", 1, 25, "low", 3)]
    with pytest.raises(errors.DepositFollowsProduct):
        till.set_quantity(2, 1)
    with pytest.raises(errors.DepositFollowsProduct):
        till.remove_line(2)
    with pytest.raises(errors.DepositFollowsProduct):
        till.discount_line(2, cents=10)
    committed = till.pay_cash(1000)
    entry = parse_entry(committed.entry.body)
    vat = {v.code: (v.gross, v.vat, v.net) for v in entry.data.vat}
    # 21% of 5.00 gross = 0.87; 9% of 1.99 + 0.25 = 0.18; the can's deposit without VAT
    assert vat == {"high": (500, 87, 413), "low": (224, 18, 206), "exempt": (60, 0, 60)}
    assert entry.data.total == 784
    deposit = entry.data.lines[1]
    assert (deposit.sku, deposit.code, deposit.product_id, deposit.stock_tracked) == (
        "", "statiegeld-015", None, False)
    paper = shop.paper()
    assert "Statiegeld" in paper and "4 x € 0,15" in paper
    printed = [row for row in paper.splitlines() if row.startswith("Statiegeld")]
    assert [row.split()[-2:] for row in printed] == [["0,60", "D"], ["0,25", "B"]]

    # returning one can refunds its deposit too, at the same quantity and VAT
    refund = till.refund(committed.entry.seq, {1: 1}, approval=manager(till, Action.REFUND))
    data = refund.entry.body["data"]
    parse_entry(refund.entry.body)
    assert [(x["name"], x["quantity"], x["gross"], x["vat_code"]) for x in data["lines"]] == [
        (PILS["name"], -1, -125, "high"), ("Statiegeld", -1, -15, "exempt")]
    assert {v["code"]: v["gross"] for v in data["vat"]} == {"high": -125, "exempt": -15}
    assert data["total"] == -140
    assert till.refundable(committed.entry.seq) == {1: 3, 2: 3, 3: 1, 4: 1}
    paper = shop.paper()
    assert "RETOUR" in paper and any(
        row.startswith("Statiegeld") and row.split()[-2:] == ["-0,15", "D"]
        for row in paper.splitlines())
    assert till.journal.verify().ok


def test_empties_come_back_as_a_negative_deposit_line_with_a_manager(shop):
    till = shop.till
    till.scan(COLA["gtin"])
    with pytest.raises(ApprovalRequired):
        till.return_empties("statiegeld-025", 2)
    with pytest.raises(errors.UnknownDeposit):
        till.return_empties("krat-390", 1, approval=manager(till, Action.REFUND))
    with pytest.raises(errors.EmptiesExceedTicket):
        till.return_empties("statiegeld-025", 9, approval=manager(till, Action.REFUND))
    line = till.return_empties("statiegeld-025", 3, approval=manager(till, Action.REFUND))
    assert (line.quantity, line.amount, line.deposit_for, line.vat_code) == (-3, -75, 0, "low")
    assert till.ticket.total == 199 + 25 - 75
    committed = till.pay_card(None, "PIN-1")
    entry = parse_entry(committed.entry.body)
    assert entry.data.total == 149
    assert {v.code: v.gross for v in entry.data.vat} == {"low": 149}
    assert entry.data.lines[-1].deposit_for == 0 and entry.data.lines[-1].override_by == "Bram"


# --- scheduled prices --------------------------------------------------------------------------
MONDAY_7 = "2031-03-03T07:00:00+01:00"
SWITCH = int(dt.datetime.fromisoformat(MONDAY_7).timestamp())


def test_a_scheduled_price_switches_by_the_tills_own_clock_without_a_broker(shop):
    till = shop.till
    now = [SWITCH - 60.0]
    till.sales.prices.clock = lambda: now[0]
    shop.catalogue([MILK, PILS, WHISKY, COLA], version=2,
                   scheduled=[{"code": MILK["gtin"], "price_cents": 139, "valid_from": MONDAY_7}])
    milk_id = Product.get(Product.gtin == "0" + MILK["gtin"]).id
    assert pending(till.db) == [(milk_id, 139, SWITCH)]
    first = till.scan(MILK["gtin"])
    assert first.unit_price == 129  # a minute early
    now[0] = SWITCH - 0.5
    assert till.scan(MILK["gtin"]).unit_price == 129
    now[0] = SWITCH
    second = till.scan(MILK["gtin"])
    assert second.unit_price == 139  # on time, on the same ticket
    assert till.ticket.line(first.line_no).unit_price == 129  # scanned before: kept
    assert pending(till.db) == [] and till.catalogue.by_id(milk_id).price_cents == 139
    committed = till.pay_cash(1000)
    assert [x["unit_price"] for x in committed.entry.body["data"]["lines"]] == [129, 129, 139]


def test_a_price_list_holds_future_prices_and_replaces_those_of_the_products_it_names(shop):
    down = Downstream(shop.till.db)

    def prices(version: int, now: list[dict], later: list[dict]) -> bool:
        return down.apply("prices", json.dumps({"version": version, "base": version - 1,
                                                "prices": now, "scheduled": later}).encode()).applied

    milk_later = {"code": MILK["gtin"], "price_cents": 149, "valid_from": "2031-03-10T07:00:00Z"}
    cola_later = {"code": COLA["gtin"], "price_cents": 219, "valid_from": "2031-03-10T07:00:00Z"}
    assert prices(2, [{"gtin": MILK["gtin"], "price_cents": 135}], [milk_later, cola_later])
    assert Product.get(Product.gtin == "0" + MILK["gtin"]).price_cents == 135
    assert sorted(row[1] for row in pending(shop.till.db)) == [149, 219]
    assert prices(3, [{"gtin": MILK["gtin"], "price_cents": 136}], [])  # milk: nothing pending
    assert [row[1] for row in pending(shop.till.db)] == [219]
    for bad, reason in (("2031-03-10T07:00:00", "no UTC offset"),
                        ("maandag 7 uur", "not an ISO 8601")):
        with pytest.raises(Rejected, match=reason):
            prices(4, [], [{**cola_later, "valid_from": bad}])
    with pytest.raises(Rejected, match="unknown product"):
        prices(4, [], [{**cola_later, "code": "5000112637922"}])
    assert [row[1] for row in pending(shop.till.db)] == [219]  # a refused message: unchanged


def test_a_database_of_an_older_release_gets_the_new_columns(tmp_path):
    path = tmp_path / "old.sqlite3"
    old = peewee.SqliteDatabase(str(path))
    old.execute_sql("CREATE TABLE product (id INTEGER PRIMARY KEY, gtin VARCHAR(14) UNIQUE,"
                    " plu VARCHAR(8) UNIQUE, name VARCHAR(255) NOT NULL, price_cents INTEGER"
                    " NOT NULL, vat_code VARCHAR(8) NOT NULL, category VARCHAR(255) NOT NULL,"
                    " stock_tracked INTEGER NOT NULL, active INTEGER NOT NULL, sold_by_weight"
                    " INTEGER NOT NULL, favourite INTEGER NOT NULL, name_folded VARCHAR(255)"
                    " NOT NULL)")
    old.execute_sql("CREATE TABLE stock_level (product_id INTEGER NOT NULL PRIMARY KEY,"
                    " quantity INTEGER NOT NULL, FOREIGN KEY (product_id) REFERENCES product"
                    " (id) ON DELETE CASCADE)")
    old.execute_sql("INSERT INTO product VALUES (1, NULL, '1', 'Brood', 289, 'low', '', 1, 1,"
                    " 0, 0, 'brood')")
    old.execute_sql("INSERT INTO stock_level VALUES (1, 7)")
    old.close()
    db = open_database(path)
    row = db.execute_sql("SELECT age_limit, deposit_code, deposit_cents, deposit_vat_code"
                         " FROM product WHERE id = 1").fetchone()
    assert row == (0, "", 0, "")
    assert db.execute_sql("SELECT * FROM stock_level").fetchall() == [(1, 7)]  # kept
    db.execute_sql("INSERT INTO product (plu, name, price_cents, vat_code, category,"
                   " stock_tracked, active, sold_by_weight, favourite, name_folded) VALUES"
                   " ('2', 'Bier', 99, 'high', '', 1, 1, 0, 0, 'bier')")  # SQL defaults work
    assert db.execute_sql("SELECT age_limit, deposit_code FROM product WHERE plu = '2'"
                          ).fetchone() == (0, "")
    db.close()


def test_head_office_reads_the_lines_and_keeps_the_deposit_out_of_its_products(shop, tmp_path):
    """The sale and its refund as head office's journal feed takes them (contract-typed):
    the beer's stock moves, the deposit is no product there (no SKU, no stock, no name)."""
    from headoffice.db import database_proxy, open_office_db
    from headoffice.journal_feed import apply_entry
    from headoffice.stock import ledger
    from headoffice.stock.models import OfficeProduct, StockMove

    till = shop.till
    till.scan(PILS["gtin"])
    till.confirm_age()
    sale = till.pay_cash(500).entry
    refund = till.refund(sale.seq, {1: 1}, approval=manager(till, Action.REFUND)).entry
    db = open_office_db(f"sqlite:///{tmp_path / 'office.sqlite3'}")
    try:
        for entry in (sale, refund):
            apply_entry(parse_entry(entry.body))
        assert [(p.sku, p.name) for p in OfficeProduct.select()] == [
            ("08712345678906", "Pils 33cl")]
        assert sorted((m.sku, m.delta) for m in StockMove.select()) == [
            ("08712345678906", -1), ("08712345678906", 1)]
        assert ledger.level("s1", "08712345678906") == 0
    finally:
        db.close()
        database_proxy.initialize(None)
