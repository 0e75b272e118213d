"""`kassa till --demo` data: weighed goods and a loyalty card with an offer, usable at once,
and gone when head office's first offers message arrives."""

from __future__ import annotations

import datetime as dt

from cli.assemble import build_till
from firmware.models import JournalEntry, LocalCustomer, LocalOffer, Meta, Product
from firmware.offers import apply_message
from firmware.sim import DEMO_CUSTOMER, demo_card, ensure_demo_data
from firmware.uplink.downstream import applied_version
from tests.customers.conftest import PREFIX
from tests.fixtures_till import make_config


def set_version(key: str, version: int) -> None:
    """Records an applied message version, as the uplink does."""
    Meta.insert(key=key, value=str(version)).on_conflict_replace().execute()


def test_plain_demo_data_is_the_generated_catalogue_only(tmp_path):
    till = build_till(make_config(tmp_path))
    ensure_demo_data(till, products=20)  # `kassa sim`: the tests count on exactly this
    assert Product.select().count() == 20 and not Product.select().where(
        Product.sold_by_weight).exists()
    assert till.search_customers("demo") == []
    till.db.close()


def test_demo_till_sells_by_weight_and_knows_a_card_with_an_offer(tmp_path):
    till = build_till(make_config(tmp_path, f'[scanner]\nloyalty_prefix = "{PREFIX}"\n'))
    ensure_demo_data(till, products=20, shop=True)
    ensure_demo_data(till, products=20, shop=True)  # twice: nothing added again
    assert Product.select().count() == 22
    cheese = Product.get(Product.plu == "99001")
    assert cheese.sold_by_weight and cheese.price_cents == 1295
    assert [c.name for c in till.search_customers("demo")] == ["Demo Klant"]
    assert LocalCustomer.select().count() == 1 and LocalOffer.select().count() == 1
    card = demo_card(till)
    assert card.startswith(PREFIX) and len(card) == 13
    till.login("1111")
    customer = till.attach_card(card)  # as the scanner would
    assert customer.customer_id == DEMO_CUSTOMER
    line = till.add_product(cheese.id, weight_g=450)
    assert line.weight_g == 450 and line.amount == (1295 * 450 + 500) // 1000  # 0,450 kg
    offered = till.add_product(Product.get(Product.plu == "1").id)  # a tap or a scan
    assert offered.discount > 0  # the demo offer, 10% on PLU 1
    sale = till.pay_card(None, "DEMO").entry
    assert sale.body["data"]["customer_id"] == DEMO_CUSTOMER
    assert JournalEntry.select().where(JournalEntry.type == "offer_redemption").count() == 1
    today = dt.date.today().isoformat()
    head_office = {"version": 1, "store": "s1", "customers": [
        {"id": "c-eva", "card": card[:-3] + "170", "name": "Eva", "language": "nl"}],
        "offers": [{"id": "of-x", "customer": "c-eva", "sku": "plu:2", "title": "x",
                    "kind": "percent", "value": 5, "max_units": 1, "uses": 1,
                    "valid_from": today, "valid_until": today, "redeemed": {}}]}
    assert apply_message(till.db, head_office, applied_version, set_version)[0]
    assert [c.customer_id for c in LocalCustomer.select()] == ["c-eva"]
    ensure_demo_data(till, products=20, shop=True)  # head office's customers are never joined by the demo
    assert LocalCustomer.select().count() == 1
    till.logout()
    till.db.close()
