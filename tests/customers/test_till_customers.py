"""The till side of customers, offers and stock: card scans, offer discounts, redemptions,
favourites, goods received and stock counts, all through TillService."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from cli.assemble import build_till
from contract.cards import card_number
from firmware.models import JournalEntry, Meta, Product, StockLevel
from firmware.offers import OfferMessageError, apply_message, available_offers
from firmware.permissions import Action, ApprovalRequired
from firmware.sim import ensure_demo_data
from firmware.till import TillError
from firmware.uplink.downstream import Downstream, Rejected, applied_version
from tests.fixtures_till import make_config


def set_version(key: str, version: int) -> None:
    """Records an applied message version, as the uplink does."""
    Meta.insert(key=key, value=str(version)).on_conflict_replace().execute()


PREFIX = "299"
CARD = card_number(PREFIX, 17)


@pytest.fixture
def shop_till(tmp_path):
    config = make_config(tmp_path, f'[scanner]\nloyalty_prefix = "{PREFIX}"\n')
    till = build_till(config)
    ensure_demo_data(till, products=30)
    till.login("1111")
    yield till
    till.db.close()


def product(n: int) -> Product:
    return Product.get(Product.plu == str(n))


def message(version: int, uses: int = 1, redeemed: dict | None = None, **offer) -> dict:
    today = dt.date.today()
    p = product(3)
    return {"version": version, "store": "s1",
            "customers": [{"id": "c-eva", "card": CARD, "name": "Eva de Vries", "language": "nl"}],
            "offers": [{"id": "of-1", "customer": "c-eva", "sku": p.gtin, "title": "20% off",
                        "kind": "percent", "value": 20, "max_units": 1, "uses": uses,
                        "valid_from": (today - dt.timedelta(days=1)).isoformat(),
                        "valid_until": (today + dt.timedelta(days=7)).isoformat(),
                        "redeemed": redeemed or {}, **offer}]}


def apply(till, data) -> bool:
    return apply_message(till.db, data, applied_version, set_version)[0]


def entries(till, kind):
    return [json.loads(r.body) for r in JournalEntry.select().where(JournalEntry.type == kind)]


def test_card_scan_applies_offer_and_journals_one_redemption(shop_till):
    till = shop_till
    assert apply(till, message(1))
    p = product(3)
    till.add_product(p.id, quantity=2)
    assert till.scan(CARD) is None
    assert till.ticket.customer_id == "c-eva"
    line = till.ticket.active_lines[0]
    assert line.discount == (p.price_cents * 20 + 50) // 100  # one unit at 20 %, half up
    assert line.discount_by == "offer:of-1"
    result = till.pay_card(None, "REF1")
    sale = result.entry.body
    assert sale["data"]["customer_id"] == "c-eva"
    assert sale["data"]["total"] == 2 * p.price_cents - line.discount
    redemptions = entries(till, "offer_redemption")
    assert len(redemptions) == 1
    assert redemptions[0]["ref_seq"] == result.entry.seq
    assert redemptions[0]["data"]["offer_id"] == "of-1"
    assert redemptions[0]["data"]["discount"] == line.discount
    # used up: the next ticket of the same customer gets no discount
    till.attach_card(CARD)
    till.add_product(p.id)
    assert till.ticket.active_lines[0].discount == 0
    assert available_offers(till.db, "c-eva", "t1") == []
    assert till.journal.verify().ok


def test_other_tills_redemptions_count_and_detach_removes_discount(shop_till):
    till = shop_till
    apply(till, message(1, uses=2, redeemed={"t2": 2}))
    till.attach_card(CARD)
    till.add_product(product(3).id)
    assert till.ticket.active_lines[0].discount == 0  # both uses taken at till t2
    apply(till, message(2, uses=3, redeemed={"t2": 2}))
    till.set_quantity(till.ticket.active_lines[0].line_no, 1)
    assert till.ticket.active_lines[0].discount > 0
    till.detach_customer()
    assert till.ticket.active_lines[0].discount == 0
    assert till.ticket.customer_id is None


def test_offers_message_is_versioned_and_all_or_nothing(shop_till):
    till = shop_till
    assert apply(till, message(2))
    assert not apply(till, message(1))  # older retained copy: ignored
    bad = message(3)
    bad["offers"][0]["kind"] = "free"
    with pytest.raises(OfferMessageError, match="kind 'free'"):
        apply(till, bad)
    assert till.search_customers("eva")[0].card == CARD  # v2 still in force
    down = Downstream(till.db)
    with pytest.raises(Rejected, match="not in the message"):
        broken = message(4)
        broken["offers"][0]["customer"] = "c-nobody"
        down.apply("offers", json.dumps(broken).encode())
    erased = message(5)
    erased["customers"], erased["offers"] = [], []
    assert down.apply("offers", json.dumps(erased).encode()).applied
    assert till.search_customers("eva") == []
    with pytest.raises(TillError, match="not known on this till"):
        till.scan(CARD)


def test_favourite_is_journaled_with_the_pseudonymous_id(shop_till):
    till = shop_till
    apply(till, message(1))
    line = till.add_product(product(5).id)
    with pytest.raises(TillError, match="loyalty card"):
        till.add_favourite(line.line_no)
    till.scan(CARD)
    entry = till.add_favourite(line.line_no)
    assert entry.body["data"] == {"customer_id": "c-eva", "sku": product(5).gtin,
                                  "name": product(5).name}
    assert "Eva" not in entry.body_text


def test_goods_received_and_stock_count_need_a_manager_and_move_stock(shop_till):
    till = shop_till
    p = product(4)
    before = StockLevel.get(StockLevel.product == p.id).quantity
    with pytest.raises(ApprovalRequired):
        till.goods_received([(p.id, 5)])
    manager = till.approve("9999", Action.STOCK)
    entry = till.goods_received([(p.id, 5), (p.gtin, 1)], supplier="Zuivel BV", approval=manager)
    assert [line["quantity"] for line in entry.body["data"]["lines"]] == [5, 1]
    assert StockLevel.get(StockLevel.product == p.id).quantity == before + 6
    with pytest.raises(TillError, match="must be 1"):
        till.goods_received([(p.id, 0)], approval=manager)
    count = till.stock_count([(p.id, 3)], approval=till.approve("9999", Action.STOCK))
    line = count.body["data"]["lines"][0]
    assert (line["counted"], line["expected"], line["difference"]) == (3, before + 6, 3 - before - 6)
    assert StockLevel.get(StockLevel.product == p.id).quantity == 3
    assert till.journal.verify().ok


def test_offer_and_sku_follow_the_product_however_it_was_entered(shop_till):
    """A product with a barcode, typed in by its PLU, is still that product: the offer on its
    GTIN applies and the journal line names it by its SKU (the GTIN), as head office books it."""
    till = shop_till
    assert apply(till, message(1))
    p = product(3)
    till.scan(CARD)
    line = till.add_plu("3")
    assert line.code == "3" and line.sku == p.gtin
    assert line.discount_by == "offer:of-1"
    sale = till.pay_card(None, "REF2").entry.body
    assert sale["data"]["lines"][0]["sku"] == p.gtin
    assert entries(till, "offer_redemption")[0]["data"]["sku"] == p.gtin


def test_a_failing_offer_rule_refuses_the_edit_and_nothing_sells_at_a_wrong_price(
        shop_till, monkeypatch, caplog):
    """Pricing is a step of every edit, not an event listener: a rule that fails stops the
    edit with a typed PricingError, is logged, and leaves the ticket priced as it was."""
    from firmware import offers
    from firmware.errors import PricingError

    till = shop_till
    apply(till, message(1, uses=5))
    p = product(3)
    till.scan(CARD)
    line = till.add_product(p.id)
    discount = line.discount
    assert discount > 0 and line.discount_by == "offer:of-1"
    parked_customer = till.park()
    till.scan(CARD)
    till.add_product(p.id)
    events = []
    till.subscribe(lambda e, d: events.append((e, d)))

    def broken(*_args, **_kwargs):
        raise RuntimeError("offer table unreadable")

    monkeypatch.setattr(offers, "available_offers", broken)
    before, journal_before = till.ticket.to_dict(), JournalEntry.select().count()
    with pytest.raises(PricingError, match="pricing rule offers failed") as info:
        till.scan(p.gtin)
    assert info.value.params == {"rule": "offers"}
    assert ("scan_rejected", {"code": p.gtin, "reason": str(info.value), "error": info.value}) \
        in events
    with pytest.raises(PricingError):
        till.set_quantity(1, 3)
    with pytest.raises(PricingError):
        till.add_plu("7")
    assert till.ticket.to_dict() == before, "the refused edits left the ticket as it was"
    assert "pricing rule offers failed" in caplog.text and "offer table unreadable" in caplog.text
    assert not [e for e in events if e[0] == "ticket"]
    # The ticket as it was priced before the rule broke sells at that price, and only that.
    sale = till.pay_card(None, "REF3").entry
    assert sale.body["data"]["total"] == p.price_cents - discount
    assert JournalEntry.select().count() == journal_before + 2  # the sale and its redemption
    # A customer whose offers cannot be priced is not attached, a parked ticket stays parked.
    with pytest.raises(PricingError):
        till.attach_card(CARD)
    assert till.ticket.customer_id is None
    with pytest.raises(PricingError):
        till.recall(parked_customer)
    assert [t.id for t in till.parked()] == [parked_customer] and till.ticket.is_empty
    monkeypatch.undo()
    till.recall(parked_customer)
    assert till.ticket.customer_id == "c-eva" and till.ticket.active_lines[0].discount == discount


def test_pricing_step_runs_its_rules_in_order_and_names_the_failing_one(caplog):
    from firmware.errors import PricingError
    from firmware.pricing import Pricing
    from firmware.ticket import Line, Ticket

    class Half:
        name = "half"

        def active(self, ticket):
            return True

        def apply(self, ticket):
            ticket.set_rule_discounts("half:", {1: (ticket.line(1).amount // 2, "half:1")})

    class Broken(Half):
        name = "broken"

        def apply(self, ticket):
            raise KeyError("boom")

    ticket = Ticket()
    ticket.add(Line(0, 1, "1", "Kaas", "low", 500))
    assert Pricing([Half()]).price(ticket).total == 250
    with pytest.raises(PricingError) as info:
        Pricing([Half(), Broken()]).price(ticket)
    assert info.value.params == {"rule": "broken"} and "pricing rule broken failed" in caplog.text
