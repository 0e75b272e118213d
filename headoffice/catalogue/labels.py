"""Which shelf labels a day needs: the products whose price in a store changes that day."""

from __future__ import annotations

import datetime as dt

from headoffice.catalogue import pricing
from headoffice.catalogue.models import ALL_STORES, MasterProduct, PriceEntry
from headoffice.catalogue.times import SHOP_ZONE, stored
from headoffice.shelf_labels import LabelItem


def day_labels(store: str, day: dt.date) -> list[LabelItem]:
    """A label for each product whose price in `store` changes on `day` (Amsterdam time)."""
    start = dt.datetime.combine(day, dt.time(0), SHOP_ZONE)
    end = start + dt.timedelta(days=1)
    changed = {e.product for e in PriceEntry.select(PriceEntry.product).where(
        PriceEntry.store.in_([store, ALL_STORES]), PriceEntry.valid_from >= stored(start),
        PriceEntry.valid_from < stored(end))}
    if not changed:
        return []
    out = []
    for product in MasterProduct.select().where(MasterProduct.id.in_(sorted(changed))):
        price = pricing.price_at(product.id, store, end - dt.timedelta(seconds=1))
        if price is None:
            continue
        out.append(LabelItem(name=product.name, price_cents=price, barcode=product.gtin,
                             valid_from=day, unit=product.unit,
                             content_amount=product.content_amount,
                             content_unit=product.content_unit))
    return sorted(out, key=lambda i: i.name.casefold())
