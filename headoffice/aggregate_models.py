"""The pre-aggregated sales tables the dashboard and the tax exports read (filled by
headoffice.aggregates in each ingest batch's transaction)."""

from __future__ import annotations

import peewee

from headoffice.orm import OfficeModel


class AggDay(OfficeModel):
    """One terminal's day: counts, turnover and what paid it."""

    store = peewee.CharField(max_length=64)
    terminal = peewee.CharField(max_length=64)
    day = peewee.CharField(max_length=10)  # local date of the shop, YYYY-MM-DD
    tickets = peewee.BigIntegerField(default=0)
    sales_gross = peewee.BigIntegerField(default=0)  # sales only, for the average basket
    turnover = peewee.BigIntegerField(default=0)  # sales + refunds + paid voids, VAT included
    items = peewee.BigIntegerField(default=0)
    refunds = peewee.BigIntegerField(default=0)
    voids = peewee.BigIntegerField(default=0)
    voided_open = peewee.BigIntegerField(default=0)
    no_sales = peewee.BigIntegerField(default=0)
    overrides = peewee.BigIntegerField(default=0)
    rounding = peewee.BigIntegerField(default=0)
    cash = peewee.BigIntegerField(default=0)
    card = peewee.BigIntegerField(default=0)
    voucher = peewee.BigIntegerField(default=0)
    cash_variance = peewee.BigIntegerField(default=0)  # from Z closes: counted - expected

    class Meta:
        table_name = "agg_day"
        indexes = ((("store", "terminal", "day"), True), (("day",), False))


class AggHour(OfficeModel):
    store = peewee.CharField(max_length=64)
    terminal = peewee.CharField(max_length=64)
    day = peewee.CharField(max_length=10)
    hour = peewee.SmallIntegerField()
    tickets = peewee.BigIntegerField(default=0)
    turnover = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "agg_hour"
        indexes = ((("store", "terminal", "day", "hour"), True), (("day",), False))


class AggVat(OfficeModel):
    store = peewee.CharField(max_length=64)
    terminal = peewee.CharField(max_length=64)
    day = peewee.CharField(max_length=10)
    code = peewee.CharField(max_length=16)
    rate_bp = peewee.IntegerField()
    gross = peewee.BigIntegerField(default=0)
    vat = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "agg_vat"
        indexes = ((("store", "terminal", "day", "code", "rate_bp"), True), (("day",), False))


class AggProduct(OfficeModel):
    """Per product and bucket: 'd2025-03-01' (a day) or 'm2025-03' (a month)."""

    store = peewee.CharField(max_length=64)
    bucket = peewee.CharField(max_length=11)
    product = peewee.CharField(max_length=64)
    name = peewee.CharField(max_length=255, default="")
    quantity = peewee.BigIntegerField(default=0)
    gross = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "agg_product"
        indexes = ((("store", "bucket", "product"), True), (("bucket",), False))


class AggPromotion(OfficeModel):
    """Per store, day and promotion (contract/promotions.py): what it cost and what it sold.
    Refunds and voids of paid tickets count negative, as in every other aggregate."""

    store = peewee.CharField(max_length=64)
    day = peewee.CharField(max_length=10)
    promotion = peewee.CharField(max_length=64)
    name = peewee.CharField(max_length=255, default="")  # as last received
    version = peewee.BigIntegerField(default=0)  # the highest version seen that day
    tickets = peewee.BigIntegerField(default=0)  # sales that got it
    discount = peewee.BigIntegerField(default=0)  # what it cost (positive = given)
    quantity = peewee.BigIntegerField(default=0)  # pieces on the lines it covered
    gross = peewee.BigIntegerField(default=0)  # what those lines sold for, after discounts

    class Meta:
        table_name = "agg_promotion"
        indexes = ((("store", "day", "promotion"), True), (("day",), False))


class AggCashier(OfficeModel):
    """Per terminal, day and cashier: sales, turnover, and the manual discounts, promotion
    discounts and price overrides they gave. Discounts given count positive (as in
    AggPromotion); override_amount has contract.figures' sign (new - old price)."""

    store = peewee.CharField(max_length=64)
    terminal = peewee.CharField(max_length=64)
    day = peewee.CharField(max_length=10)
    cashier = peewee.CharField(max_length=255)
    tickets = peewee.BigIntegerField(default=0)
    turnover = peewee.BigIntegerField(default=0)
    discounts = peewee.BigIntegerField(default=0)  # tickets with a manual discount
    discount_amount = peewee.BigIntegerField(default=0)  # manual line and ticket discounts
    discounted_gross = peewee.BigIntegerField(default=0)  # what those tickets sold for
    promo_amount = peewee.BigIntegerField(default=0)
    overrides = peewee.BigIntegerField(default=0)
    override_amount = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "agg_cashier"
        indexes = ((("store", "terminal", "day", "cashier"), True), (("day",), False))


AGG_MODELS: list[type[OfficeModel]] = [AggDay, AggHour, AggVat, AggProduct, AggPromotion,
                                       AggCashier]
