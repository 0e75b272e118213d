"""Ticket flows through the till service: sell, pay, refund, void, permissions, bad input."""

import pytest

from contract.gtin import VariableLayout, make_variable_code
from firmware import errors
from firmware.catalogue import import_csv
from firmware.models import JournalEntry, StockLevel
from firmware.permissions import Action, ApprovalRequired
from firmware.sim import MANAGER_PIN, make_gtin
from firmware.till import TillError, TillService

MILK, WINE = make_gtin(9001), make_gtin(9002)
PRODUCTS = [
    "gtin,plu,name,price,vat,category,stock_tracked,sold_by_weight,stock\n",
    f"{MILK},,Melk,1.29,low,Zuivel,yes,no,10\n",
    f"{WINE},,Wijn,7.99,high,Dranken,yes,no,5\n",
    ",500,Oude kaas,12.50,low,Kaas,yes,yes,10000\n",
    ",123,Tomaten los,0.00,low,Groente,no,no,\n",
    ",777,Tas,0.10,high,Overig,no,no,\n",
]


@pytest.fixture
def shop(cashier_till: TillService) -> TillService:
    report = import_csv(cashier_till.db, PRODUCTS)
    assert not report.errors
    return cashier_till


def journal_count() -> int:
    return JournalEntry.select().count()


def stock(gtin: str) -> int:
    from firmware.models import Product

    return StockLevel.get(StockLevel.product == Product.get(Product.gtin == "0" + gtin).id).quantity


def test_cash_sale_with_change_vat_and_stock(shop: TillService, drawer) -> None:
    shop.scan(MILK)
    shop.scan(MILK)
    shop.scan(WINE)
    assert shop.ticket.total == 129 * 2 + 799
    committed = shop.pay_cash(2000)
    data = committed.entry.body["data"]
    assert committed.entry.type == "sale"
    assert data["total"] == 1057 and data["rounding"] == -2 and data["total_paid"] == 1055
    assert committed.change == 2000 - 1055 and data["change"] == 945
    vat = {v["code"]: v for v in data["vat"]}
    assert vat["low"] == {"code": "low", "rate_bp": 900, "gross": 258, "vat": 21, "net": 237}
    assert vat["high"] == {"code": "high", "rate_bp": 2100, "gross": 799, "vat": 139, "net": 660}
    assert stock(MILK) == 8 and stock(WINE) == 4
    assert drawer.pulses == 1 and committed.drawer_opened
    assert shop.ticket.is_empty
    assert shop.journal.verify().ok


def test_card_is_never_rounded_and_does_not_open_drawer(shop: TillService, drawer) -> None:
    shop.scan(MILK)
    shop.scan(WINE)
    committed = shop.pay_card(None, "PIN-4711")
    data = committed.entry.body["data"]
    assert data["rounding"] == 0 and data["total_paid"] == 928
    assert data["tenders"] == [{"kind": "card", "amount": 928, "given": 0, "change": 0,
                                "reference": "PIN-4711"}]
    assert drawer.pulses == 0


def test_split_voucher_card_cash(shop: TillService) -> None:
    for _ in range(3):
        shop.scan(WINE)  # 23.97
    assert shop.pay_voucher(500, "VB-1") is None
    assert shop.pay_card(1000, "PIN-1") is None
    assert shop.ticket.due == 897
    committed = shop.pay_cash(1000)  # 8.97 -> 8.95 in cash
    data = committed.entry.body["data"]
    assert [t["kind"] for t in data["tenders"]] == ["voucher", "card", "cash"]
    assert data["rounding"] == -2 and data["total_paid"] == 2395 and data["change"] == 105


def test_tendered_too_small_leaves_ticket_and_journal_alone(shop: TillService) -> None:
    shop.scan(WINE)
    before = (shop.ticket.to_dict(), journal_count())
    with pytest.raises(TillError, match="tendered €\xa05,00 is less than the €\xa08,00 due"):
        shop.pay_cash(500)
    assert (shop.ticket.to_dict(), journal_count()) == before


@pytest.mark.parametrize(("code", "reason", "kind"), [
    ("8710398500012", "check digit", errors.CheckDigit),
    ("4006381333931", "no active product", errors.UnknownProduct),  # valid EAN, not in the catalogue
    ("12AB", "unreadable", errors.UnreadableCode),
])
def test_bad_barcodes_are_refused_with_a_reason(shop: TillService, code: str, reason: str,
                                                kind: type) -> None:
    shop.scan(MILK)
    before = (shop.ticket.to_dict(), journal_count())
    events = []
    shop.subscribe(lambda e, d: events.append((e, d)))
    with pytest.raises(kind, match=reason):
        shop.scan(code)
    assert (shop.ticket.to_dict(), journal_count()) == before
    assert events[-1][0] == "scan_rejected" and reason in events[-1][1]["reason"]
    error = events[-1][1]["error"]  # the typed error itself, for the UI to translate by type
    assert isinstance(error, kind) and str(error) == events[-1][1]["reason"]


def test_upc_and_ean_find_the_same_product(shop: TillService) -> None:
    upc = "036000291452"
    import_csv(shop.db, ["gtin,name,price,vat\n", f"{upc},Cola,1.50,high\n"])
    assert shop.scan(upc).name == shop.scan("0" + upc).name == "Cola"


def test_weight_and_price_embedded_codes(shop: TillService) -> None:
    weight = make_variable_code(VariableLayout("22", "weight"), 500, 350)  # 350 g of cheese
    price = make_variable_code(VariableLayout("21", "price"), 123, 249)
    cheese = shop.scan(weight)
    tomatoes = shop.scan(price)
    assert cheese.amount == 438  # 12.50/kg * 0.350 = 4.375 -> 4.38
    assert tomatoes.amount == 249
    committed = shop.pay_card(None, "PIN-2")
    from firmware.models import Product
    assert StockLevel.get(StockLevel.product == Product.get(Product.plu == "500").id).quantity == 10000 - 350
    assert committed.entry.body["data"]["total"] == 438 + 249


def test_quantities_removal_and_plu(shop: TillService) -> None:
    line = shop.scan(MILK)
    shop.set_quantity(line.line_no, 4)
    bag = shop.add_plu("777")
    shop.remove_line(bag.line_no)
    assert shop.ticket.total == 516
    with pytest.raises(TillError, match="between 1 and 9999"):
        shop.set_quantity(line.line_no, 0)
    with pytest.raises(TillError, match="no line 99"):
        shop.remove_line(99)
    data = shop.pay_card(None, "X").entry.body["data"]
    removed = [ln for ln in data["lines"] if ln["removed"]]
    assert len(removed) == 1 and removed[0]["name"] == "Tas"  # the auditor sees the removal


def test_discounts_and_manager_limit(shop: TillService) -> None:
    line = shop.scan(WINE)
    shop.scan(MILK)
    shop.discount_line(line.line_no, percent=10)  # within the 10% limit
    assert shop.ticket.line(line.line_no).discount == 80
    with pytest.raises(ApprovalRequired):
        shop.discount_line(line.line_no, cents=200)
    approval = shop.approve(MANAGER_PIN, Action.LARGE_DISCOUNT)
    shop.discount_line(line.line_no, cents=200, approval=approval)
    assert shop.ticket.line(line.line_no).discount_by == "Bram"
    shop.discount_ticket(cents=50)
    data = shop.pay_card(None, "X").entry.body["data"]
    assert data["total"] == 799 + 129 - 200 - 50
    assert sum(ln["ticket_discount"] for ln in data["lines"]) == 50
    assert sum(v["gross"] for v in data["vat"]) == data["total"]


def test_a_percentage_discount_stays_that_percentage_when_price_or_quantity_changes(
        shop: TillService) -> None:
    """10% on € 7,99 is € 0,80; after the price is lowered to € 1,99 it must be € 0,20 (10%), not
    the old € 0,80 (40%); after the quantity goes to 3, 10% of the three."""
    line = shop.scan(WINE)
    shop.discount_line(line.line_no, percent=10)
    assert shop.ticket.line(line.line_no).discount == 80
    shop.override_price(line.line_no, 199, approval=shop.approve(MANAGER_PIN, Action.PRICE_OVERRIDE))
    assert shop.ticket.line(line.line_no).discount == 20
    shop.set_quantity(line.line_no, 3)
    assert shop.ticket.line(line.line_no).discount == 60
    fixed = shop.scan(MILK)
    shop.discount_line(fixed.line_no, cents=10)  # a fixed sum stays that sum
    shop.set_quantity(fixed.line_no, 2)
    assert shop.ticket.line(fixed.line_no).discount == 10
    data = shop.pay_card(None, "X").entry.body["data"]
    assert [ln["discount_percent"] for ln in data["lines"]] == [10, None]
    assert data["total"] == 3 * 199 - 60 + 2 * 129 - 10


def test_price_override_needs_manager_and_is_journaled(shop: TillService) -> None:
    line = shop.scan(WINE)
    with pytest.raises(ApprovalRequired, match="price override needs a manager PIN"):
        shop.override_price(line.line_no, 599)
    with pytest.raises(TillError, match="wrong PIN"):
        shop.approve("0000", Action.PRICE_OVERRIDE)
    with pytest.raises(TillError, match="not a manager"):
        shop.approve("1111", Action.PRICE_OVERRIDE)
    shop.override_price(line.line_no, 599, approval=shop.approve(MANAGER_PIN, Action.PRICE_OVERRIDE))
    last = shop.journal.get(JournalEntry.select().count())
    assert last.type == "price_override" and last.body["data"]["old_unit_price"] == 799
    data = shop.pay_card(None, "X").entry.body["data"]
    assert data["lines"][0]["original_unit_price"] == 799 and data["total"] == 599


def test_approval_for_one_action_does_not_cover_another(shop: TillService) -> None:
    shop.scan(WINE)
    approval = shop.approve(MANAGER_PIN, Action.LARGE_DISCOUNT)
    with pytest.raises(ApprovalRequired):
        shop.override_price(1, 1, approval=approval)


def test_park_and_recall(shop: TillService) -> None:
    shop.scan(WINE)
    parked = shop.park("customer forgot wallet")
    assert shop.ticket.is_empty
    shop.scan(MILK)
    with pytest.raises(TillError, match="park the open ticket first"):
        shop.recall(parked)
    shop.pay_card(None, "X")
    shop.recall(parked)
    assert [ln.name for ln in shop.ticket.active_lines] == ["Wijn"]
    assert shop.parked() == []


def test_void_open_and_parked_tickets_are_journaled(shop: TillService) -> None:
    shop.scan(WINE)
    entry = shop.void_open_ticket()
    assert entry.type == "void" and entry.body["data"]["scope"] == "open"
    shop.scan(MILK)
    parked = shop.park()
    entry = shop.void_parked(parked)
    assert entry.body["data"]["scope"] == "parked" and shop.parked() == []
    assert stock(WINE) == 5 and stock(MILK) == 10


def test_refund_limits_and_stock(shop: TillService, drawer) -> None:
    shop.scan(MILK)
    line = shop.scan(WINE)
    shop.set_quantity(line.line_no, 2)
    sale = shop.pay_cash(2000).entry
    assert stock(WINE) == 3
    with pytest.raises(ApprovalRequired):
        shop.refund(sale.seq, {2: 1})
    approval = shop.approve(MANAGER_PIN, Action.REFUND)
    refund = shop.refund(sale.seq, {2: 1}, "cash", approval=approval)
    data = refund.entry.body["data"]
    assert refund.entry.ref_seq if hasattr(refund.entry, "ref_seq") else True
    assert refund.entry.body["ref_seq"] == sale.seq
    assert data["total"] == -799 and data["total_paid"] == -800 and data["rounding"] == -1
    assert stock(WINE) == 4
    before = journal_count()
    with pytest.raises(TillError, match="only 1 can still be refunded"):
        shop.refund(sale.seq, {2: 2}, approval=approval)
    with pytest.raises(TillError, match="no line 9"):
        shop.refund(sale.seq, {9: 1}, approval=approval)
    with pytest.raises(TillError, match="is not a sale"):
        shop.refund(refund.entry.seq, {1: 1}, approval=approval)
    with pytest.raises(TillError, match="is not a sale"):
        shop.refund(9999, {1: 1}, approval=approval)
    assert journal_count() == before
    assert shop.refundable(sale.seq) == {1: 1, 2: 1}
    with pytest.raises(TillError, match="already"):
        shop.void_sale(sale.seq, approval=shop.approve(MANAGER_PIN, Action.VOID_PAID_TICKET))


def test_void_paid_ticket_is_a_counter_entry(shop: TillService) -> None:
    shop.scan(WINE)
    sale = shop.pay_cash(1000).entry
    void = shop.void_sale(sale.seq, approval=shop.approve(MANAGER_PIN, Action.VOID_PAID_TICKET)).entry
    assert void.type == "void" and void.body["ref_seq"] == sale.seq
    assert void.body["data"]["total_paid"] == -sale.body["data"]["total_paid"]
    assert [v["gross"] for v in void.body["data"]["vat"]] == [-v["gross"] for v in sale.body["data"]["vat"]]
    assert stock(WINE) == 5
    assert shop.refundable(sale.seq) == {1: 0}
    # the original is still there, untouched
    assert shop.journal.get(sale.seq).body == sale.body
    assert shop.journal.verify().ok


def test_no_sale_is_journaled_before_the_drawer_opens(shop: TillService, drawer) -> None:
    order = []
    shop.subscribe(lambda e, d: order.append(e))
    real_open = drawer.open
    drawer.open = lambda: (order.append("drawer"), real_open())
    with pytest.raises(ApprovalRequired):
        shop.no_sale("change")
    assert drawer.pulses == 0
    shop.no_sale("change", approval=shop.approve(MANAGER_PIN, Action.NO_SALE))
    assert order == ["committed", "drawer", "drawer_opened"]  # the event after the pulse


def test_drawer_fault_does_not_lose_the_sale(shop: TillService, drawer) -> None:
    drawer.fail = "GPIO17 busy"
    events = []
    shop.subscribe(lambda e, d: events.append((e, d)))
    shop.scan(MILK)
    committed = shop.pay_cash(500)
    assert not committed.drawer_opened
    assert shop.journal.get(committed.entry.seq).type == "sale"
    assert ("device", {"device": "drawer", "state": "error", "detail": "GPIO17 busy"}) in events


def test_cashier_must_log_in_and_lockout(till: TillService) -> None:
    with pytest.raises(TillError, match="log in first"):
        till.scan(MILK)
    for _ in range(3):
        with pytest.raises(TillError, match="wrong PIN"):
            till.login("0000")
    with pytest.raises(TillError, match="locked"):
        till.login("1111")  # right PIN, but locked after 3 wrong ones
    till.users.clock = lambda: 10**12  # time passes
    assert till.login("1111").name == "Sanne"


def test_training_mode_is_marked_and_moves_no_stock(shop: TillService) -> None:
    shop.set_training(True, approval=shop.approve(MANAGER_PIN, Action.TRAINING))
    shop.scan(WINE)
    sale = shop.pay_card(None, "T").entry
    assert sale.body["training"] is True
    assert stock(WINE) == 5
    shop.set_training(False, approval=shop.approve(MANAGER_PIN, Action.TRAINING))
    types = [e.type for e in shop.journal.entries()][-3:]
    assert types == ["training_on", "sale", "training_off"]


def test_cash_movements(shop: TillService, drawer) -> None:
    with pytest.raises(TillError, match="need a reason"):
        shop.cash_movement("cash_out", 500, "", approval=shop.approve(MANAGER_PIN, Action.CASH_IN_OUT))
    approval = shop.approve(MANAGER_PIN, Action.CASH_IN_OUT)
    entry = shop.cash_movement("float", 10000, "", approval=approval).entry
    assert entry.type == "float" and entry.body["data"]["amount"] == 10000
    assert drawer.pulses == 1


def test_reprint_is_a_journaled_copy(shop: TillService) -> None:
    shop.scan(MILK)
    sale = shop.pay_card(None, "X").entry
    copy = shop.reprint(sale.seq)
    assert copy.type == "receipt_copy" and copy.body["ref_seq"] == sale.seq


def test_committed_is_announced_only_after_the_outer_commit(shop: TillService, monkeypatch) -> None:
    """A sale and its offer redemptions commit together: if the second part fails, the sale is
    rolled back and was never announced as committed (kassa sim prints those announcements)."""
    from firmware import offers

    events = []
    shop.subscribe(lambda e, d: events.append((e, d)))

    def fail(*_args):
        raise OSError("disk I/O error")

    monkeypatch.setattr(offers, "record_redemptions", fail)
    shop.scan(WINE)
    before = journal_count()
    with pytest.raises(TillError, match="NOT stored"):
        shop.pay_card(None, "X")
    assert journal_count() == before
    assert not [e for e in events if e[0] == "committed"]
    monkeypatch.undo()
    committed = shop.pay_card(None, "X")
    assert ("committed", {"seq": committed.entry.seq, "type": "sale"}) in events
