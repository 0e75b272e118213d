"""The till's schema: every table of the terminal database, created once when the database
opens (firmware/db.py). The journal is append-only; the rest is state."""

from __future__ import annotations

import peewee

# Models are bound to a database by firmware.db.open_database.


class BaseModel(peewee.Model):
    class Meta:
        database = None
        legacy_table_names = False


class Meta(BaseModel):
    """Small key/value facts: journal head, alarms, catalogue version."""

    key = peewee.CharField(primary_key=True)
    value = peewee.TextField()

    class Meta:
        without_rowid = True  # one b-tree instead of table + key index: one page less per sale


class JournalEntry(BaseModel):
    """One fiscal event. Rows are only ever inserted; `body` is the canonical JSON."""

    seq = peewee.IntegerField(primary_key=True)
    type = peewee.CharField(index=True)
    ts = peewee.CharField()
    ref_seq = peewee.IntegerField(null=True)  # indexed below, only where set
    body = peewee.TextField()
    hash = peewee.CharField()
    sig = peewee.CharField()

    class Meta:
        table_name = "journal"


# Only refunds, voids and copies carry ref_seq: a partial index spares every sale an index write.
JournalEntry.add_index(JournalEntry.index(JournalEntry.ref_seq, name="journal_ref_seq")
                       .where(JournalEntry.ref_seq.is_null(False)))


class ProductColumns(BaseModel):
    """A product's columns, declared once: the catalogue's storage (ProductVersion), its view
    (Product), the apply's staging table and the lookups all take them from here, so a new
    column (an age limit, a deposit) is one line below. Codes are unique per generation
    (indexes made in firmware/catalogue_store.py), not over the table."""

    gtin = peewee.CharField(null=True, max_length=14)  # normalised GTIN-14
    plu = peewee.CharField(null=True, max_length=8)
    name = peewee.CharField()
    price_cents = peewee.IntegerField()  # per piece, or per kg when sold_by_weight
    vat_code = peewee.CharField(max_length=8)
    category = peewee.CharField(default="", index=True)
    stock_tracked = peewee.BooleanField(default=True)
    active = peewee.BooleanField(default=True)
    sold_by_weight = peewee.BooleanField(default=False)
    favourite = peewee.BooleanField(default=False)
    name_folded = peewee.CharField(default="")  # lower-cased for search
    # --- age check and deposit (firmware/age_check.py, firmware/deposit.py) ---
    # (SQL defaults too: the catalogue's own INSERTs name only the columns they set)
    age_limit = peewee.IntegerField(default=0, constraints=[peewee.SQL("DEFAULT 0")])  # 18: alcohol
    deposit_code = peewee.CharField(default="", constraints=[peewee.SQL("DEFAULT ''")])  # "": none
    deposit_cents = peewee.IntegerField(default=0, constraints=[peewee.SQL("DEFAULT 0")])  # a piece
    deposit_vat_code = peewee.CharField(default="", max_length=8,  # "": the product's own
                                        constraints=[peewee.SQL("DEFAULT ''")])


# the product columns in declaration order (without the id), for SQL built from them
PRODUCT_COLUMNS: tuple[str, ...] = tuple(
    name for name, value in vars(ProductColumns).items()
    if isinstance(value, peewee.FieldAccessor) and name != "id")


class ProductVersion(ProductColumns):
    """The catalogue's storage: one row per version of a product. A version is seen while
    the current generation (CatalogueGeneration) is within [born, died); an apply writes the
    next generation's versions beside the current ones and then moves the pointer, so the
    till switches from the whole old catalogue to the whole new one in one tiny write."""

    vid = peewee.AutoField()
    product_id = peewee.IntegerField(index=True)  # the product's identity, kept by every version
    born = peewee.IntegerField()  # the generation that made this version
    died = peewee.IntegerField(null=True)  # the generation that replaced it; None: newest

    class Meta:
        table_name = "product_version"


class Product(ProductColumns):
    """The catalogue as the till sees it now: a view (firmware/catalogue_store.py) of the
    versions of the current generation; `id` is the product's identity. Reads only, apart
    from the view's INSERT/UPDATE triggers kept for tools and tests (no id comes back)."""


class CatalogueGeneration(BaseModel):
    """The one pointer row: the generation the till sees, the apply writing the next one
    (its token, None when none runs) and the next free product id (reserved by writers)."""

    id = peewee.IntegerField(primary_key=True, default=1)
    generation = peewee.IntegerField(default=1)
    pending = peewee.IntegerField(null=True)
    next_id = peewee.IntegerField(default=1)


class StockLevel(BaseModel):
    """Local stock in pieces, or grams for products sold by weight. Keyed by the product's
    identity (no foreign key: `product` is a view; products are never deleted)."""

    product = peewee.IntegerField(primary_key=True, column_name="product_id")
    quantity = peewee.IntegerField(default=0)


class User(BaseModel):
    name = peewee.CharField(unique=True)
    role = peewee.CharField()  # cashier | manager
    pin_hash = peewee.CharField()  # scrypt$n$r$p$salt$hash
    failed_attempts = peewee.IntegerField(default=0)
    locked_until = peewee.FloatField(default=0.0)  # epoch seconds; a time, never money
    active = peewee.BooleanField(default=True)


class ParkedTicket(BaseModel):
    created = peewee.CharField()
    cashier = peewee.CharField()
    label = peewee.CharField(default="")
    payload = peewee.TextField()  # JSON of the ticket


class Delivery(BaseModel):
    """Head office's confirmed high-water mark, written by the uplink."""

    key = peewee.CharField(primary_key=True, default="ack")
    acked_seq = peewee.IntegerField(default=0)
    updated = peewee.CharField(default="")


class RunningTotal(BaseModel):
    """Report counters kept in the same transaction as each journal entry (firmware/totals.py).

    Keys starting `p:` belong to the open period (reset by a Z close), `g:` ones never reset.
    """

    key = peewee.CharField(primary_key=True)
    value = peewee.IntegerField(default=0)

    class Meta:
        without_rowid = True  # updated by every sale: keep it to one b-tree page


class DownstreamReject(BaseModel):
    """A catalogue, price or config message from head office that was refused, and why."""

    received = peewee.CharField()
    kind = peewee.CharField()
    reason = peewee.TextField()
    payload = peewee.TextField()  # first 4 kB, for the fleet admin


class DownstreamEvent(BaseModel):
    """A head-office message the uplink applied, refused or ignored, waiting to be journaled:
    the uplink has no journal key, so the till journals it (firmware/downstream_log.py) and
    deletes the row in the same transaction."""

    received = peewee.CharField()
    kind = peewee.CharField()
    outcome = peewee.CharField()  # applied | refused | ignored
    version = peewee.IntegerField(null=True)  # None: the message had no readable version
    reason = peewee.TextField(default="")  # refused/ignored: why; applied: what was done
    count = peewee.IntegerField(default=0)  # applied: products, prices, offers or sections
    removed = peewee.IntegerField(default=0)  # applied catalogue: products taken off sale


# --- customers and offers: head office sends them in the retained `offers` message
# (firmware/offers.py); the till only reads them, except LocalOfferUse, which records this
# till's own redemptions in the same transaction as their journal entries.
class LocalCustomer(BaseModel):
    """A loyalty customer as the till knows them: a pseudonymous id, the card, a name."""

    customer_id = peewee.CharField(primary_key=True, max_length=40)  # pseudonym, e.g. c-3f9a...
    card = peewee.CharField(unique=True, max_length=20)
    name = peewee.CharField(default="")
    name_folded = peewee.CharField(default="", index=True)
    language = peewee.CharField(default="nl", max_length=5)


class LocalOffer(BaseModel):
    """One personal offer: a discount on a product for one customer, a few times, for a while."""

    offer_id = peewee.CharField(primary_key=True, max_length=40)
    customer_id = peewee.CharField(index=True, max_length=40)
    sku = peewee.CharField(max_length=20)
    title = peewee.CharField(default="")
    kind = peewee.CharField(max_length=8)  # percent | cents
    value = peewee.IntegerField()  # percent (1..100) or cents off per unit
    max_units = peewee.IntegerField(default=1)  # units discounted per redemption
    uses = peewee.IntegerField(default=1)  # redemptions allowed in all
    valid_from = peewee.CharField(max_length=10)  # YYYY-MM-DD, inclusive
    valid_until = peewee.CharField(max_length=10)  # YYYY-MM-DD, inclusive
    redeemed = peewee.TextField(default="{}")  # JSON {terminal: count} as head office saw it


class LocalOfferUse(BaseModel):
    """A redemption made at this till; written with its `offer_redemption` journal entry."""

    seq = peewee.IntegerField(primary_key=True)  # the redemption's journal seq
    offer_id = peewee.CharField(index=True, max_length=40)


PENDING_SIGNUP_TABLE = "pending_signup"


class PendingSignup(BaseModel):
    """A customer's sign-up typed at this till (firmware/signup.py), waiting for head office's
    acknowledgement; deleted then, or when head office's erasure names its address. Never in
    the journal: it holds an e-mail address, which must stay erasable."""

    signup_id = peewee.CharField(primary_key=True, max_length=40)
    payload = peewee.TextField()  # the message as published (contract/signup.py)
    created = peewee.CharField(max_length=40)
    sent = peewee.IntegerField(default=0)  # times published

    class Meta:
        table_name = PENDING_SIGNUP_TABLE  # firmware/signup.py reads it with plain SQL


# --- scheduled prices (firmware/price_schedule.py): head office's future prices, held by
# the till and switched into Product.price_cents by its own clock.
class ScheduledPrice(BaseModel):
    """A price that takes effect at `valid_from` (UTC epoch seconds)."""

    product_id = peewee.IntegerField()
    price_cents = peewee.IntegerField()
    valid_from = peewee.IntegerField(index=True)
    valid_from_text = peewee.CharField(default="")  # as head office sent it, for people

    class Meta:
        indexes = ((("product_id", "valid_from"), True),)


# the models stored as tables; Product is a view over ProductVersion
TABLE_MODELS: list[type[BaseModel]] = [
    Meta, JournalEntry, ProductVersion, CatalogueGeneration, StockLevel, User, ParkedTicket,
    Delivery, DownstreamReject, DownstreamEvent, RunningTotal, LocalCustomer, LocalOffer, LocalOfferUse,
    ScheduledPrice, PendingSignup,
]
ALL_MODELS: list[type[BaseModel]] = [*TABLE_MODELS, Product]
