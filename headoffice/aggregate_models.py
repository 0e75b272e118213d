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
    """Per product and bucket: 'd2025-03-01' (a day), 'm2025-03' (a month) or 'y2025' (a
    calendar year). `name` is the one last received in the bucket."""

    store = peewee.CharField(max_length=64)
    bucket = peewee.CharField(max_length=11)
    product = peewee.CharField(max_length=64)
    name = peewee.CharField(max_length=255, default="")
    quantity = peewee.BigIntegerField(default=0)
    gross = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "agg_product"
        # (product, store, bucket): the margin reads a product's days in each shop where
        # its cost changes inside a month (headoffice/web/margin_queries.py)
        indexes = ((("store", "bucket", "product"), True), (("bucket",), False),
                   (("product", "store", "bucket"), False))


class AggMargin(OfficeModel):
    """Per shop, product and month 'YYYY-MM': pieces, gross, and the sum of the product's
    per-day nets (each AggProduct day row's gross without VAT, rounded per row) at each rate
    of headoffice.margin_months.RATES_BP. The margin report reads these for the months in
    which a product's cost and rate stay the same; rounding per day row is kept exactly,
    since a sum of rounded day nets adds up month by month (headoffice/margin_months.py)."""

    store = peewee.CharField(max_length=64)
    product = peewee.CharField(max_length=64)
    month = peewee.CharField(max_length=7)
    quantity = peewee.BigIntegerField(default=0)
    gross = peewee.BigIntegerField(default=0)
    net_2100 = peewee.BigIntegerField(default=0)  # at 21%
    net_900 = peewee.BigIntegerField(default=0)  # at 9%

    class Meta:
        table_name = "agg_margin"
        indexes = ((("store", "product", "month"), True), (("month",), False))


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
    """Per terminal, day and cashier: sales and turnover (contract.figures)."""

    store = peewee.CharField(max_length=64)
    terminal = peewee.CharField(max_length=64)
    day = peewee.CharField(max_length=10)
    cashier = peewee.CharField(max_length=255)
    tickets = peewee.BigIntegerField(default=0)
    turnover = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "agg_cashier"
        indexes = ((("store", "terminal", "day", "cashier"), True), (("day",), False))


class AggDiscount(OfficeModel):
    """Per terminal, day, cashier and reduction: what it cost and what it sold. `kind` is
    manual (a cashier's line discount), ticket (a share of a ticket discount), override (a
    price lowered or raised at the till), promotion or offer (a personal offer); `ref` the
    promotion or offer id. `discount` is what was given, as journaled (positive on a sale,
    negative on a refund or paid void; an override that raised the price is negative too),
    `gross` what the lines sold for after every reduction, `tickets` the sales that had it."""

    store = peewee.CharField(max_length=64)
    terminal = peewee.CharField(max_length=64)
    day = peewee.CharField(max_length=10)
    cashier = peewee.CharField(max_length=255)
    kind = peewee.CharField(max_length=16)
    ref = peewee.CharField(max_length=64)
    name = peewee.CharField(max_length=255, default="")
    tickets = peewee.BigIntegerField(default=0)
    lines = peewee.BigIntegerField(default=0)
    quantity = peewee.BigIntegerField(default=0)
    discount = peewee.BigIntegerField(default=0)
    gross = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "agg_discount"
        indexes = ((("store", "terminal", "day", "cashier", "kind", "ref"), True),
                   (("day",), False))


# -- roll-ups: the same sums over every shop and terminal --------------------------------------
# A chain-wide report reads one row per day (or bucket) and key here instead of one per shop
# and terminal. Ingest adds the same deltas to both (headoffice/aggregates.py); an older
# database gets them summed once from the aggregate (headoffice/rollups.py).


class AggHourAll(OfficeModel):
    day = peewee.CharField(max_length=10)
    hour = peewee.SmallIntegerField()
    tickets = peewee.BigIntegerField(default=0)
    turnover = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "agg_hour_all"
        indexes = ((("day", "hour"), True),)


class AggHourShop(AggHourAll):
    """A shop's hours over its terminals: one shop's heat map reads a row per day and hour
    (a third of its AggHour rows at three tills)."""

    store = peewee.CharField(max_length=64)

    class Meta:
        table_name = "agg_hour_shop"
        indexes = ((("store", "day", "hour"), True),)


class AggVatAll(OfficeModel):
    day = peewee.CharField(max_length=10)
    code = peewee.CharField(max_length=16)
    rate_bp = peewee.IntegerField()
    gross = peewee.BigIntegerField(default=0)
    vat = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "agg_vat_all"
        indexes = ((("day", "code", "rate_bp"), True),)


class AggProductAll(OfficeModel):
    bucket = peewee.CharField(max_length=11)
    product = peewee.CharField(max_length=64)
    name = peewee.CharField(max_length=255, default="")  # as last received
    quantity = peewee.BigIntegerField(default=0)
    gross = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "agg_product_all"
        indexes = ((("bucket", "product"), True),)


class AggCashierAll(OfficeModel):
    day = peewee.CharField(max_length=10)
    cashier = peewee.CharField(max_length=255)
    tickets = peewee.BigIntegerField(default=0)
    turnover = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "agg_cashier_all"
        indexes = ((("day", "cashier"), True),)


class AggDiscountAll(OfficeModel):
    day = peewee.CharField(max_length=10)
    cashier = peewee.CharField(max_length=255)
    kind = peewee.CharField(max_length=16)
    ref = peewee.CharField(max_length=64)
    name = peewee.CharField(max_length=255, default="")  # as last received
    tickets = peewee.BigIntegerField(default=0)
    lines = peewee.BigIntegerField(default=0)
    quantity = peewee.BigIntegerField(default=0)
    discount = peewee.BigIntegerField(default=0)
    gross = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "agg_discount_all"
        indexes = ((("day", "cashier", "kind", "ref"), True),)


class AggMarginAll(OfficeModel):
    """AggMargin over every shop (its nets are sums of per-shop day nets, as there)."""

    product = peewee.CharField(max_length=64)
    month = peewee.CharField(max_length=7)
    quantity = peewee.BigIntegerField(default=0)
    gross = peewee.BigIntegerField(default=0)
    net_2100 = peewee.BigIntegerField(default=0)
    net_900 = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "agg_margin_all"
        indexes = ((("product", "month"), True),)


# roll-up -> the aggregate it sums
ROLLUPS: dict[type[OfficeModel], type[OfficeModel]] = {
    AggHourAll: AggHour, AggHourShop: AggHour, AggVatAll: AggVat, AggProductAll: AggProduct,
    AggCashierAll: AggCashier, AggDiscountAll: AggDiscount, AggMarginAll: AggMargin,
}


def rollup_columns(rollup: type[OfficeModel]) -> tuple[list[str], list[str], list[str]]:
    """A roll-up's key columns (its unique index), summed columns, and text columns (a name:
    the last received wins)."""
    key = list(rollup._meta.indexes[0][0])
    rest = [n for n in rollup._meta.sorted_field_names if n != "id" and n not in key]
    text = [n for n in rest if isinstance(rollup._meta.fields[n], peewee.CharField)]
    return key, [n for n in rest if n not in text], text


AGG_MODELS: list[type[OfficeModel]] = [AggDay, AggHour, AggVat, AggProduct, AggMargin,
                                       AggPromotion, AggCashier, AggDiscount, *ROLLUPS]
