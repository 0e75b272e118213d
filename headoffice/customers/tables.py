"""Creates the customer, stock, offer, notification and webshop tables (idempotent)."""

from __future__ import annotations

import peewee

from headoffice.db import database_proxy


def all_models() -> list[type[peewee.Model]]:
    from headoffice.customers.models import CUSTOMER_MODELS
    from headoffice.notify.models import NOTIFY_MODELS
    from headoffice.offers.models import OFFER_MODELS
    from headoffice.stock.models import STOCK_MODELS
    from headoffice.webshop.models import WEBSHOP_MODELS

    return [*CUSTOMER_MODELS, *STOCK_MODELS, *OFFER_MODELS, *NOTIFY_MODELS, *WEBSHOP_MODELS]


def ensure_shop_tables(db: peewee.Database | None = None) -> None:
    target = db or database_proxy.obj
    with target.atomic():
        target.create_tables(all_models(), safe=True)
