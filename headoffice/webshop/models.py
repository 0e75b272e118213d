"""Webshop orders taken (idempotent on the order id) and the log of every call's outcome."""

from __future__ import annotations

import peewee

from headoffice.orm import OfficeModel


class WebshopOrder(OfficeModel):
    shop = peewee.CharField(max_length=64)
    order_id = peewee.CharField(max_length=64)
    created = peewee.CharField(max_length=40)  # the order's own date (pull cursor)
    taken = peewee.CharField(max_length=40)
    lines = peewee.TextField()  # JSON [{sku, quantity, location}]
    email = peewee.CharField(max_length=254, default="")

    class Meta:
        indexes = ((("shop", "order_id"), True),)


class WebshopLog(OfficeModel):
    at = peewee.CharField(max_length=40)
    shop = peewee.CharField(max_length=64)
    action = peewee.CharField(max_length=32)  # push_stock push_prices pull_orders take_order
    target = peewee.CharField(max_length=200, default="")
    ok = peewee.BooleanField()
    attempts = peewee.IntegerField(default=1)
    detail = peewee.TextField(default="")


WEBSHOP_MODELS = [WebshopOrder, WebshopLog]
