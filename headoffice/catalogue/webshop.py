"""The webshop gets its products and prices from the master, like a store named `webshop`.

The webshop is one more store of the master: a product sold there (its own range setting,
else the chain-wide one) with its price for `webshop` (its own entry, else every store's).
Names and prices go to the shop through the connector (headoffice/webshop/woocommerce.py),
which creates what is missing and changes only what differs. Stock is not touched here:
it stays head office's one stock ledger's, pushed by `kassa webshop sync`. The shop's
names and prices are also noted as head office's view of each SKU (`office_product`), so
that sync pushes the same prices.
"""

from __future__ import annotations

import datetime as dt

from headoffice.catalogue.models import MasterProduct
from headoffice.catalogue.publish import items
from headoffice.catalogue.times import now_utc
from headoffice.orm import write_transaction
from headoffice.stock.models import WEBSHOP, OfficeProduct
from headoffice.webshop.connector import PushResult
from headoffice.webshop.woocommerce import WooCommerce


def webshop_products(now: dt.datetime | None = None) -> dict[str, tuple[str, int]]:
    """SKU -> (name, price in cents) of what the webshop sells now."""
    wanted, _ = items(WEBSHOP, now or now_utc())
    skus = {p: s for p, s in MasterProduct.select(MasterProduct.id, MasterProduct.sku).tuples()}
    return {skus[p]: (i.row["name"], i.row["price_cents"]) for p, i in wanted.items()}


def push_to_webshop(shop: WooCommerce, now: dt.datetime | None = None) -> PushResult:
    products = webshop_products(now)
    result = shop.push_products(products)
    with write_transaction():
        for sku, (name, cents) in products.items():
            OfficeProduct.insert(sku=sku, name=name, price_cents=cents).on_conflict(
                conflict_target=[OfficeProduct.sku],
                update={OfficeProduct.name: name, OfficeProduct.price_cents: cents}).execute()
    return result
