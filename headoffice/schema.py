"""Every head-office table, created in one place when the database opens.

`headoffice.db.open_office_db` calls `create_all` once per opening, so after it every table
exists; nothing else creates tables (no check on each customer lookup or ingest batch).
Creating is idempotent (CREATE TABLE IF NOT EXISTS, CREATE INDEX IF NOT EXISTS), so a new
table or index is added to an existing database at its next start, and so is the audit
trail's append-only trigger; a new roll-up table is filled there from the aggregate it sums
(headoffice.rollups), the product totals' year buckets from their months
(headoffice.product_years), the receipt search keys and cash rows from the stored journal
(headoffice.receipt_keys, headoffice.cash_records).
"""

from __future__ import annotations

import time

import peewee

from headoffice import cash_records, product_years, receipt_keys, rollups
from headoffice.aggregate_models import AGG_MODELS
from headoffice.alerts.models import ALERT_MODELS
from headoffice.cash_records import CASH_MODELS
from headoffice.catalogue.models import MASTER_MODELS
from headoffice.customers.models import CUSTOMER_MODELS
from headoffice.customers.models import upgrade as upgrade_customers
from headoffice.downstream_models import DOWNSTREAM_MODELS
from headoffice.margin_cache import CACHE_MODELS
from headoffice.models import ALL_MODELS as CORE_MODELS
from headoffice.notify.models import NOTIFY_MODELS
from headoffice.offers.models import OFFER_MODELS
from headoffice.receipt_keys import RECEIPT_KEY_MODELS
from headoffice.releases.models import RELEASE_MODELS
from headoffice.stock.models import STOCK_MODELS
from headoffice.web.audit_trail import AUDIT_MODELS, protect
from headoffice.web.sessions import SESSION_MODELS
from headoffice.web.summary_models import SUMMARY_MODELS
from headoffice.web.throttle import THROTTLE_MODELS
from headoffice.web.users import USER_MODELS
from headoffice.webshop.models import WEBSHOP_MODELS
from headoffice.webshop.models import upgrade as upgrade_webshop

TABLES: list[type[peewee.Model]] = [
    *CORE_MODELS, *AGG_MODELS, *CACHE_MODELS, *ALERT_MODELS, *USER_MODELS, *SESSION_MODELS,
    *THROTTLE_MODELS, *AUDIT_MODELS,
    *CUSTOMER_MODELS, *STOCK_MODELS, *OFFER_MODELS, *NOTIFY_MODELS, *WEBSHOP_MODELS,
    *MASTER_MODELS,
    *RELEASE_MODELS, *SUMMARY_MODELS,
    *DOWNSTREAM_MODELS, *RECEIPT_KEY_MODELS, *CASH_MODELS,
]

ATTEMPTS = 10


def create_all(db: peewee.Database) -> None:
    """Creates the tables that are missing. Several processes opening a new database at once
    (ingest workers) race to create them: the loser retries, and then finds them made."""
    for attempt in range(ATTEMPTS):
        try:
            with db.atomic():
                upgrade_webshop(db)  # before its indexes on the new columns are made
                upgrade_customers(db)
                db.create_tables(TABLES, safe=True)
                rollups.fill_missing(db)
                product_years.fill_missing(db)  # year buckets of an older database
                receipt_keys.fill_missing(db)  # the search index of an older database
                cash_records.fill_missing(db)
                protect(db)  # the audit trail refuses UPDATE and DELETE
            return
        except (peewee.OperationalError, peewee.IntegrityError, peewee.ProgrammingError,
                peewee.InternalError):  # also PostgreSQL's "tuple concurrently updated"
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
