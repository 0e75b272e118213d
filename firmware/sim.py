"""A scripted shop day against the real till service: the headless driver for tests, benches
and demos. Every committed journal entry is printed the moment it is durable.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from contract import figures
from contract.cards import card_number
from contract.gtin import gs1_check_digit
from contract.money import format_money
from contract.product_key import sku_of
from contract.shop_time import shop_today
from firmware.catalogue import import_csv
from firmware.errors import StorageError, TillError
from firmware.models import LocalCustomer, LocalOffer, Meta, Product
from firmware.offers import OFFERS_VERSION
from firmware.permissions import Action
from firmware.till import TillService
from firmware.users import Users

CASHIER_PIN = "1111"
MANAGER_PIN = "9999"

_WORDS = ("Appel", "Peer", "Kaas", "Melk", "Brood", "Koffie", "Thee", "Hagelslag", "Drop",
          "Stroopwafel", "Boter", "Yoghurt", "Sap", "Pasta", "Rijst", "Soep", "Chips", "Koek",
          "Bloem", "Zeep", "Crème", "Café", "Paté", "Eieren")
_CATEGORIES = ("Zuivel", "Bakkerij", "Dranken", "Snoep", "Kruidenier", "Verzorging")


def make_gtin(n: int) -> str:
    body = f"87{n:010d}"
    return body + str(gs1_check_digit(body))


def catalogue_csv(count: int, seed: int = 1) -> list[str]:
    """A generated catalogue in the documented CSV format (header + count rows)."""
    rng = random.Random(seed)
    rows = ["gtin,plu,name,price,vat,category,stock_tracked,active,sold_by_weight,favourite,stock\n"]
    for i in range(1, count + 1):
        name = f"{rng.choice(_WORDS)} {i}"
        price = rng.randint(49, 2999)
        vat = "low" if rng.random() < 0.7 else "high"
        rows.append(f"{make_gtin(i)},{i},{name},{price // 100}.{price % 100:02d},{vat},"
                    f"{rng.choice(_CATEGORIES)},yes,yes,no,{'yes' if i <= 12 else 'no'},1000\n")
    return rows


# Goods sold by weight (price per kg, stock in grams), on PLUs far above the generated ones.
WEIGHED_CSV = ("gtin,plu,name,price,vat,category,stock_tracked,active,sold_by_weight,favourite,stock\n",
               ",99001,Goudse kaas jong (kg),12.95,low,Zuivel,yes,yes,yes,no,25000\n",
               ",99002,Bananen (kg),1.99,low,Groente,yes,yes,yes,no,40000\n")
DEMO_CARD_PREFIX = "299"  # used when the config names no scanner.loyalty_prefix
DEMO_CUSTOMER = "c-demo-0001"
DEMO_OFFER = "o-demo-0001"


def ensure_demo_data(till: TillService, products: int = 200, seed: int = 1,
                     shop: bool = False) -> None:
    """Users and a catalogue for a fresh terminal (kept when they already exist). With `shop`
    (`kassa till --demo`) also two products sold by weight and a loyalty customer with an
    offer, so the touchscreen can show those too; `kassa sim` sells neither."""
    users: Users = till.users
    if not users.all():
        users.add("Sanne", "cashier", CASHIER_PIN)
        users.add("Bram", "manager", MANAGER_PIN)
    if Product.select().count() == 0:
        rows = catalogue_csv(products, seed) + (list(WEIGHED_CSV[1:]) if shop else [])
        report = import_csv(till.db, rows)
        if report.errors:
            raise RuntimeError("; ".join(report.errors))
    if shop:
        ensure_demo_customer(till)


def demo_card(till: TillService) -> str:
    return card_number(till.config.scanner.loyalty_prefix or DEMO_CARD_PREFIX, 1)


def ensure_demo_customer(till: TillService) -> None:
    """A loyalty card (number 1 of the configured prefix) and a 10% offer on product PLU 1,
    valid for a year. Only on a till that never had head office's customers: the first
    offers message replaces them (firmware/offers.py)."""
    if LocalCustomer.select().exists() or Meta.get_or_none(Meta.key == OFFERS_VERSION):
        return
    product = Product.get_or_none(Product.plu == "1")
    today = shop_today()
    with till.db.atomic():
        LocalCustomer.insert(customer_id=DEMO_CUSTOMER, card=demo_card(till), name="Demo Klant",
                             name_folded="demo klant", language="nl").execute()
        if product is not None:
            LocalOffer.insert(
                offer_id=DEMO_OFFER, customer_id=DEMO_CUSTOMER,
                sku=sku_of(product.gtin, product.plu), title=f"10% korting op {product.name}",
                kind="percent", value=10, max_units=2, uses=3, valid_from=today.isoformat(),
                valid_until=(today + dt.timedelta(days=365)).isoformat()).execute()


@dataclass
class DayStats:
    sales: int = 0
    refunds: int = 0
    voids: int = 0
    no_sales: int = 0
    refused: int = 0
    turnover: int = 0  # as contract/figures.py defines it: net of refunds and paid voids
    seqs: list[int] = field(default_factory=list)


def run_day(
    till: TillService,
    sales: int,
    seed: int = 1,
    out: Callable[[str], None] = print,
) -> DayStats:
    """N sales of random baskets, with some refunds, voids and no-sales, cash and card."""
    rng = random.Random(seed)
    stats = DayStats()

    def on_event(event: str, data: dict) -> None:
        if event == "committed":
            stats.seqs.append(data["seq"])
            out(f"committed seq={data['seq']} type={data['type']}")

    till.subscribe(on_event)
    sellable = "SELECT id FROM product WHERE active AND NOT sold_by_weight"
    ids = [row[0] for row in till.db.execute_sql(sellable)]
    till.login(CASHIER_PIN)
    manager = lambda action: till.approve(MANAGER_PIN, action)  # noqa: E731
    paid: list[int] = []
    while stats.sales < sales:
        try:
            for _ in range(rng.randint(1, 6)):
                till.add_product(rng.choice(ids), quantity=rng.choice((1, 1, 1, 2, 3)))
            if rng.random() < 0.05:
                till.remove_line(till.ticket.active_lines[0].line_no)
                if till.ticket.is_empty:
                    continue
            if rng.random() < 0.03:
                till.void_open_ticket()
                stats.voids += 1
                continue
            if rng.random() < 0.5:
                due = till.cash_due()
                given = due if rng.random() < 0.3 else ((due // 1000) + 1) * 1000
                result = till.pay_cash(given)
            else:
                result = till.pay_card(None, f"SIM{rng.randint(100000, 999999)}")
            if result is not None:
                stats.sales += 1
                stats.turnover += figures.turnover_of(result.entry.body)
                paid.append(result.entry.seq)
            roll = rng.random()
            if roll < 0.03 and paid:
                seq = rng.choice(paid)
                lines = {n: q for n, q in till.refundable(seq).items() if q > 0}
                if lines:
                    line_no = rng.choice(sorted(lines))
                    refund = till.refund(seq, {line_no: 1}, "cash", approval=manager(Action.REFUND))
                    stats.turnover += figures.turnover_of(refund.entry.body)
                    stats.refunds += 1
            elif roll < 0.045 and paid:
                seq = paid.pop()
                try:
                    void = till.void_sale(seq, approval=manager(Action.VOID_PAID_TICKET))
                    stats.turnover += figures.turnover_of(void.entry.body)
                    stats.voids += 1
                except TillError:
                    pass  # already partly refunded: a void is no longer allowed
            elif roll < 0.06:
                till.no_sale("change for the market stall", approval=manager(Action.NO_SALE))
                stats.no_sales += 1
        except StorageError:
            raise
        except TillError as exc:
            stats.refused += 1
            print(f"refused: {exc}", file=sys.stderr)
            till.void_open_ticket()
    till.logout()
    return stats


def summary(stats: DayStats) -> str:
    return (f"day done: {stats.sales} sales, {stats.refunds} refunds, {stats.voids} voids, "
            f"{stats.no_sales} no-sales, turnover {format_money(stats.turnover)}, "
            f"{len(stats.seqs)} journal entries")
