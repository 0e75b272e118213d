"""How the catalogue is stored: versions of products in generations, and one pointer row.

The till reads `product`, a view of the versions that the current generation sees
(born <= generation < died). Writing a new catalogue therefore never rewrites what the till
reads: the next generation's versions go in beside the current ones, in short transactions,
and one tiny transaction moves the pointer (firmware/uplink/apply.py). Every statement reads
the pointer and the versions from one snapshot (WAL), so a lookup sees the whole old
catalogue or the whole new one, never a mix.

Codes are unique within the newest versions and within the versions one generation retired
(an index on (code, died)): the versions an apply retires are marked before the new ones go
in, so a code may move from one product to another in the same apply.

A CSV import at the till (firmware/catalogue.py) writes the current generation in place;
when an apply runs meanwhile, its versions win for the products it lists.

Made once per database when it opens (firmware/db.py), including the move of a database
made by an older release (a `product` table) to this layout.
"""

from __future__ import annotations

import peewee

from firmware.models import PRODUCT_COLUMNS, ProductColumns

VERSIONS = "product_version"
POINTER = "catalogue_generation"
GENERATION = f"(SELECT generation FROM {POINTER} WHERE id = 1)"


def visible(alias: str = "v") -> str:
    """SQL: the versions (product_version as `alias`) that the current generation sees."""
    return (f"{alias}.born <= {GENERATION} AND ({alias}.died IS NULL"
            f" OR {alias}.died > {GENERATION})")


# the next free product id: above every id stored and every id an apply reserved
NEXT_ID = (f"max((SELECT next_id FROM {POINTER} WHERE id = 1),"
           f" (SELECT coalesce(max(product_id), 0) + 1 FROM {VERSIONS}))")


def default_sql(column: str) -> str:
    """The SQL default of a product column, from its one declaration in firmware/models.py."""
    field = getattr(ProductColumns, column)
    if field.default is None:
        return "NULL"
    if isinstance(field.default, bool):
        return str(int(field.default))
    if isinstance(field.default, int):
        return str(field.default)
    return "'" + str(field.default).replace("'", "''") + "'"


def insert_sql(columns: tuple[str, ...], generation: str = GENERATION) -> str:
    """INSERT of one version: parameters product_id and the given columns in their order;
    the other product columns take their declared default (a column added later, say)."""
    rest = [c for c in PRODUCT_COLUMNS if c not in columns]
    return (f"INSERT INTO {VERSIONS} (product_id, born, {', '.join((*columns, *rest))})"
            f" VALUES (?, {generation}, {', '.join(['?'] * len(columns) + [default_sql(c) for c in rest])})")


def _schema() -> list[str]:
    cols = ", ".join(PRODUCT_COLUMNS)
    new_values = ", ".join(f"coalesce(NEW.{c}, {default_sql(c)})" for c in PRODUCT_COLUMNS)
    assign = ", ".join(f"{c} = NEW.{c}" for c in PRODUCT_COLUMNS)
    return [
        f"CREATE UNIQUE INDEX IF NOT EXISTS product_version_gtin ON {VERSIONS}"
        " (gtin, ifnull(died, 0))",
        f"CREATE UNIQUE INDEX IF NOT EXISTS product_version_plu ON {VERSIONS}"
        " (plu, ifnull(died, 0))",
        f"INSERT OR IGNORE INTO {POINTER} (id, generation, pending, next_id) VALUES (1, 1, NULL,"
        f" (SELECT coalesce(max(product_id), 0) + 1 FROM {VERSIONS}))",
        f"CREATE VIEW IF NOT EXISTS product AS SELECT v.product_id AS id, {cols}"
        f" FROM {VERSIONS} v WHERE {visible()}",
        # for tools and tests that write `product` directly: in place, in the current generation
        "CREATE TRIGGER IF NOT EXISTS product_insert INSTEAD OF INSERT ON product BEGIN"
        f" INSERT INTO {VERSIONS} (product_id, born, {cols}) VALUES"
        f" (coalesce(NEW.id, {NEXT_ID}), {GENERATION}, {new_values});"
        f" UPDATE {POINTER} SET next_id = {NEXT_ID} WHERE id = 1; END",
        "CREATE TRIGGER IF NOT EXISTS product_update INSTEAD OF UPDATE ON product BEGIN"
        f" UPDATE {VERSIONS} SET {assign} WHERE product_id = OLD.id AND {visible(VERSIONS)};"
        " END",
    ]


def create(db: peewee.SqliteDatabase) -> None:
    """The view, its triggers, the code indexes and the pointer row; a database made by an
    older release (a `product` table) is moved to versions first, in one transaction. A view
    made before a column was added to product_version (firmware/db.py adds it) is made
    again: a view's columns are fixed when it is created."""
    kind = db.execute_sql("SELECT type FROM sqlite_master WHERE name = 'product'").fetchone()
    if kind is not None and kind[0] == "table":
        _migrate(db)
        return
    if kind is not None and _pointer_ready(db) and _view_current(db):
        return
    with db.atomic("IMMEDIATE"):
        if not _view_current(db):  # checked again: another process may have made it meanwhile
            db.execute_sql("DROP VIEW IF EXISTS product")  # its triggers go with it
        for sql in _schema():
            db.execute_sql(sql)


def _view_current(db: peewee.SqliteDatabase) -> bool:
    """True when the view `product` exists with every product column."""
    have = [row[1] for row in db.execute_sql("PRAGMA table_info(product)")]
    return have == ["id", *PRODUCT_COLUMNS]


def _pointer_ready(db: peewee.SqliteDatabase) -> bool:
    return db.execute_sql(f"SELECT 1 FROM {POINTER} WHERE id = 1").fetchone() is not None


def _migrate(db: peewee.SqliteDatabase) -> None:
    """product (a table) -> product_version as generation 1, and stock_level without its
    foreign key to it. Foreign keys are off meanwhile: dropping the old table must not
    cascade into the stock levels."""
    cols = ", ".join(PRODUCT_COLUMNS)
    db.execute_sql("PRAGMA foreign_keys = OFF")
    try:
        with db.atomic("IMMEDIATE"):
            kind = db.execute_sql("SELECT type FROM sqlite_master WHERE name = 'product'"
                                  ).fetchone()
            if kind != ("table",):  # another process (till or uplink) moved it meanwhile
                return
            db.execute_sql(f"DELETE FROM {VERSIONS}")
            db.execute_sql(f"INSERT INTO {VERSIONS} (product_id, born, {cols})"
                           f" SELECT id, 1, {cols} FROM product")
            db.execute_sql("DROP TABLE product")
            db.execute_sql("CREATE TABLE stock_level_new (product_id INTEGER NOT NULL PRIMARY"
                           " KEY, quantity INTEGER NOT NULL)")
            db.execute_sql("INSERT INTO stock_level_new SELECT product_id, quantity"
                           " FROM stock_level")
            db.execute_sql("DROP TABLE stock_level")
            db.execute_sql("ALTER TABLE stock_level_new RENAME TO stock_level")
            for sql in _schema():
                db.execute_sql(sql)
    finally:
        db.execute_sql("PRAGMA foreign_keys = ON")


def generation(db: peewee.SqliteDatabase) -> tuple[int, int | None, int]:
    """(generation the till sees, token of the apply writing the next one or None, next id)."""
    row = db.execute_sql(f"SELECT generation, pending, next_id FROM {POINTER} WHERE id = 1"
                         ).fetchone()
    return row[0], row[1], row[2]


def switch_prices(db: peewee.SqliteDatabase, now: int) -> int:
    """Inside the caller's transaction: the newest due scheduled price (valid_from <= now) of
    each product goes into its version of the current generation, in place; returns how
    many products changed. In place, not a generation of its own: it is one short write
    that leaves the pointer alone, so an apply writing the next generation meanwhile is not
    disturbed, and the versions that apply writes (for the products its message names) win
    at its flip, with the message's own scheduled prices."""
    cursor = db.execute_sql(
        f"UPDATE {VERSIONS} SET price_cents = (SELECT s.price_cents FROM scheduled_price s"
        f" WHERE s.product_id = {VERSIONS}.product_id AND s.valid_from <= ?"
        " ORDER BY s.valid_from DESC LIMIT 1)"
        " WHERE product_id IN (SELECT product_id FROM scheduled_price WHERE valid_from <= ?)"
        f" AND {visible(VERSIONS)}", (now, now))
    return cursor.rowcount
