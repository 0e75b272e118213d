"""Tables of the product master. Times are UTC ISO strings of one fixed shape
(`YYYY-MM-DDTHH:MM:SS+00:00`), so they compare as text on SQLite and PostgreSQL alike."""

from __future__ import annotations

import peewee

from headoffice.orm import OfficeModel, is_postgres

ALL_STORES = "*"  # a price or promotion for every store (a store's own entry wins)


class DepositType(OfficeModel):
    """A kind of deposit (statiegeld): its amount and the VAT code its line gets."""

    code = peewee.CharField(primary_key=True, max_length=32)
    name = peewee.CharField(max_length=100)
    amount_cents = peewee.IntegerField()
    vat_code = peewee.CharField(max_length=8)

    class Meta:
        table_name = "master_deposit_type"


class MasterProduct(OfficeModel):
    """One article. `gtin` is its main barcode (GTIN-14), further ones are in MasterBarcode;
    `sku` is contract.product_key's identity of it (GTIN, else plu:N)."""

    sku = peewee.CharField(max_length=20, unique=True)
    gtin = peewee.CharField(max_length=14, null=True, unique=True)
    plu = peewee.CharField(max_length=6, null=True, unique=True)
    name = peewee.CharField(max_length=120)
    category = peewee.CharField(max_length=100, default="")
    vat_code = peewee.CharField(max_length=8)
    unit = peewee.CharField(max_length=8, default="piece")  # piece | kg
    age_limit = peewee.IntegerField(default=0)
    # the pre-packed quantity a shelf label's unit price is computed from (Besluit
    # prijsaanduiding producten): grams or millilitres; none for a loose piece
    content_amount = peewee.IntegerField(null=True)
    content_unit = peewee.CharField(max_length=2, null=True)  # g | ml
    deposit = peewee.CharField(max_length=32, null=True)  # a DepositType code
    active = peewee.BooleanField(default=True)  # in every store, unless a store says otherwise
    updated = peewee.CharField(max_length=40)

    class Meta:
        table_name = "master_product"


class MasterBarcode(OfficeModel):
    """A further GTIN-14 of a product; a GTIN names one product only (its main one included:
    the import checks both tables)."""

    gtin = peewee.CharField(max_length=14, primary_key=True)
    product = peewee.IntegerField(index=True)

    class Meta:
        table_name = "master_barcode"


class CostPrice(OfficeModel):
    """The purchase price from `valid_from` on: margin reports take the one valid at the sale."""

    product = peewee.IntegerField()
    cost_cents = peewee.BigIntegerField()
    valid_from = peewee.CharField(max_length=25)

    class Meta:
        table_name = "master_cost_price"
        indexes = ((("product", "valid_from"), True),)


class StoreProduct(OfficeModel):
    """A store's own say on a product: sold there or not."""

    store = peewee.CharField(max_length=64)
    product = peewee.IntegerField()
    active = peewee.BooleanField()

    class Meta:
        table_name = "master_store_product"
        indexes = ((("store", "product"), True),)


class PriceEntry(OfficeModel):
    """A shelf price (VAT included) from `valid_from` on, for one store or ALL_STORES."""

    store = peewee.CharField(max_length=64)
    product = peewee.IntegerField()
    price_cents = peewee.BigIntegerField()
    valid_from = peewee.CharField(max_length=25)

    class Meta:
        table_name = "master_price"
        indexes = ((("store", "product", "valid_from"), True),)


class Promotion(OfficeModel):
    """A promotion's master data in the fields of contract/promotions.py (which checks them):
    type parameters, covered SKUs and categories, time window and stores as JSON lists."""

    promo_id = peewee.CharField(primary_key=True, max_length=64)
    name = peewee.CharField(max_length=40)
    kind = peewee.CharField(max_length=20)  # contract.promotions.TYPES
    params = peewee.TextField()  # JSON {n, price_cents, buy, get, percent} as the type uses
    products = peewee.TextField(default="[]")  # JSON SKUs
    categories = peewee.TextField(default="[]")
    valid_from = peewee.CharField(max_length=10, null=True)  # dates, inclusive
    valid_until = peewee.CharField(max_length=10, null=True)
    time_from = peewee.CharField(max_length=5, null=True)  # HH:MM, Amsterdam time
    time_until = peewee.CharField(max_length=5, null=True)
    weekdays = peewee.CharField(max_length=20, default="[]")  # JSON ISO weekdays
    stores = peewee.TextField(default="[]")  # JSON; empty: every store
    edit = peewee.IntegerField(default=1)  # the promotion's own version, +1 per change
    active = peewee.BooleanField(default=True)
    updated = peewee.CharField(max_length=40)

    class Meta:
        table_name = "master_promotion"


class AuditEntry(OfficeModel):
    """Who changed what: one row per change of a product, price, deposit type or promotion."""

    at = peewee.CharField(max_length=40, index=True)
    actor = peewee.CharField(max_length=64)
    entity = peewee.CharField(max_length=16)  # product price cost deposit promotion store
    key = peewee.CharField(max_length=80, index=True)  # the SKU, deposit code or promotion id
    action = peewee.CharField(max_length=16)  # create update delete schedule
    old = peewee.TextField(default="")  # JSON of the changed fields before
    new = peewee.TextField(default="")  # and after

    class Meta:
        table_name = "master_audit"


class CatalogueState(OfficeModel):
    """Per store and sequence (`catalogue` for catalogue+prices, `promotions`): the version
    last published and when the last full message went."""

    store = peewee.CharField(max_length=64)
    sequence = peewee.CharField(max_length=16)
    version = peewee.BigIntegerField(default=0)
    full_version = peewee.BigIntegerField(default=0)
    digest = peewee.CharField(max_length=64, default="")
    published = peewee.CharField(max_length=40, default="")

    class Meta:
        table_name = "master_published"
        indexes = ((("store", "sequence"), True),)

    @classmethod
    def locked(cls, store: str, sequence: str) -> CatalogueState:
        """The row, made if missing and locked for the caller's transaction, so that two
        publishers of one store never send the same version (SQLite's write transaction
        already serialises them; PostgreSQL needs the row lock)."""
        cls.insert(store=store, sequence=sequence).on_conflict_ignore().execute()
        query = cls.select().where(cls.store == store, cls.sequence == sequence)
        return (query.for_update() if is_postgres() else query).get()


class PublishedItem(OfficeModel):
    """What a store's tills hold of one product after the last publish: its code and a digest
    of its row, so the next delta lists only what changed."""

    store = peewee.CharField(max_length=64)
    product = peewee.IntegerField()
    code = peewee.CharField(max_length=14)
    digest = peewee.CharField(max_length=32)

    class Meta:
        table_name = "master_published_item"
        indexes = ((("store", "product"), True),)


MASTER_MODELS = [DepositType, MasterProduct, MasterBarcode, CostPrice, StoreProduct, PriceEntry,
                 Promotion, AuditEntry, CatalogueState, PublishedItem]
