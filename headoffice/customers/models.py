"""Head-office tables for customers. Only these tables hold personal data; everything else
(the journal, stock, redemptions) knows a customer by the pseudonymous `customer_id`."""

from __future__ import annotations

import peewee

from headoffice.orm import OfficeModel


class Customer(OfficeModel):
    customer_id = peewee.CharField(primary_key=True, max_length=40)  # pseudonym: c-<hex>
    name = peewee.CharField(max_length=200)
    email = peewee.CharField(max_length=254, unique=True)
    card = peewee.CharField(max_length=20, unique=True)
    language = peewee.CharField(max_length=5, default="nl")  # nl | en
    home_store = peewee.CharField(max_length=64, default="")
    consent = peewee.BooleanField(default=False)  # marketing e-mail
    consent_date = peewee.CharField(max_length=40, null=True)
    consent_source = peewee.CharField(max_length=32, null=True)  # till | office | webshop | unsubscribe
    unsubscribe_token = peewee.CharField(max_length=64, unique=True)
    created = peewee.CharField(max_length=40)


class Favourite(OfficeModel):
    customer_id = peewee.CharField(max_length=40, index=True)
    sku = peewee.CharField(max_length=20, index=True)
    source = peewee.CharField(max_length=16)  # till | office | webshop
    created = peewee.CharField(max_length=40)

    class Meta:
        indexes = ((("customer_id", "sku"), True),)


class Purchase(OfficeModel):
    """One sale line of a known customer (from the journal), for offers and history."""

    customer_id = peewee.CharField(max_length=40, index=True)
    terminal = peewee.CharField(max_length=64)
    seq = peewee.BigIntegerField()
    line_no = peewee.IntegerField()
    sku = peewee.CharField(max_length=20, index=True)
    quantity = peewee.IntegerField()
    day = peewee.CharField(max_length=10)

    class Meta:
        indexes = ((("terminal", "seq", "line_no"), True),)


class Erased(OfficeModel):
    """Pseudonyms whose person was erased: later entries naming them are not linked again."""

    customer_id = peewee.CharField(primary_key=True, max_length=40)
    erased = peewee.CharField(max_length=40)




class ConsentLog(OfficeModel):
    """Every consent given or withdrawn, with who recorded it (cashier, owner, the customer)."""

    customer_id = peewee.CharField(max_length=40, index=True)
    at = peewee.CharField(max_length=40)
    consent = peewee.BooleanField()
    source = peewee.CharField(max_length=32)  # till | office | webshop | unsubscribe
    recorded_by = peewee.CharField(max_length=64, default="")  # cashier or office user
    text_version = peewee.CharField(max_length=20, default="")  # the consent text asked (till)


class AccessRequest(OfficeModel):
    """Who asked for a customer's data (GDPR art. 15) and how; keeps only the pseudonym."""

    customer_id = peewee.CharField(max_length=40, index=True)
    at = peewee.CharField(max_length=40)
    asked_by = peewee.CharField(max_length=64)
    via = peewee.CharField(max_length=16)  # cli | dashboard


class TillSignup(OfficeModel):
    """A sign-up received from a till (headoffice/customers/signup.py), by the till's id, so a
    resend is taken once. Pseudonymous: the address is in `Customer` only."""

    signup_id = peewee.CharField(primary_key=True, max_length=40)
    customer_id = peewee.CharField(max_length=40, index=True)  # "" when not taken (erased)
    store = peewee.CharField(max_length=64)
    terminal = peewee.CharField(max_length=64)
    cashier = peewee.CharField(max_length=64)
    at = peewee.CharField(max_length=40)  # when the cashier recorded it, UTC
    received = peewee.CharField(max_length=40)
    outcome = peewee.CharField(max_length=16)  # created | merged | erased


class ErasedAddress(OfficeModel):
    """An erased customer's e-mail as a salted HMAC (contract/signup.py forget_digest): the
    tills drop a pending sign-up with that address, and one that arrives later from a till
    that was offline is not taken. Never the address itself."""

    salt = peewee.CharField(max_length=32)
    digest = peewee.CharField(max_length=64)
    erased = peewee.CharField(max_length=40, index=True)


CUSTOMER_MODELS = [Customer, Favourite, Purchase, Erased, ConsentLog, AccessRequest, TillSignup,
                   ErasedAddress]

# Columns added since the first version: table -> {column: SQL that adds it}
ADDED_COLUMNS = {ConsentLog: {"text_version": "VARCHAR(20) NOT NULL DEFAULT ''"}}


def upgrade(db: peewee.Database) -> None:
    """Adds the columns an older database's customer tables lack (before create_tables)."""
    for model, columns in ADDED_COLUMNS.items():
        table = model._meta.table_name
        if not db.table_exists(table):
            continue
        have = {c.name for c in db.get_columns(table)}
        for name, ddl in columns.items():
            if name not in have:
                db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "{name}" {ddl}')
