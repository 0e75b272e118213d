"""The margin report's figures per month with their cost applied, kept until something they
depend on changes.

A month's margin figures (per product and per shop: pieces, gross, net and cost, costed or
not) are what headoffice/web/margin_queries.py computes from the day and month rows with
the product master's cost prices and VAT codes. They change only when a sale of that month
arrives or when the master changes a cost or a product, so the report keeps each month it
computed (MarginCacheRow) and reads it back while its MarginCacheMonth says it is current:
every change adds one to the `version` of the months it touches (ingest: the months its day
rows fall in, for the chain and the shop; a cost price: its months from its valid-from on;
a product saved or imported: every month), and a month is current while `filled` equals
`version`. Ingest keeps a current month current: it adds its batch's figures with their cost
applied (headoffice/margin_deltas.py) and moves `filled` along; so does a cost price, with
the difference it makes to its own product's day rows (headoffice/catalogue/products.py's
cost_change). The version is read before a month is computed, so a change committed during
the computation leaves the month stale, never wrong. The web service fills every month at
its start (headoffice/web/margin_fill.py); a month not kept is computed by the report that
needs it.
"""

from __future__ import annotations

from collections.abc import Callable

import peewee

from headoffice import bulk
from headoffice.orm import OfficeModel, database_proxy, is_postgres

CHAIN = ""  # the scope of the report over every shop (a shop's scope is its code)
PRODUCT, SHOP = "p", "s"  # what a cached row sums over


class MarginCacheMonth(OfficeModel):
    """One scope's month: how often its figures changed, and at which count they were kept."""

    scope = peewee.CharField(max_length=64)
    month = peewee.CharField(max_length=7)
    version = peewee.BigIntegerField(default=0)
    filled = peewee.BigIntegerField(null=True)

    class Meta:
        table_name = "margin_cache_month"
        indexes = ((("scope", "month"), True), (("month",), False))


class MarginCacheRow(OfficeModel):
    """One product's or shop's costed (or uncosted) sums of a scope's month."""

    scope = peewee.CharField(max_length=64)
    month = peewee.CharField(max_length=7)
    kind = peewee.CharField(max_length=1)  # PRODUCT | SHOP
    key = peewee.CharField(max_length=64)
    uncosted = peewee.BooleanField()
    quantity = peewee.BigIntegerField()
    gross = peewee.BigIntegerField()
    net = peewee.BigIntegerField()
    cost = peewee.BigIntegerField()

    class Meta:
        table_name = "margin_cache_row"
        indexes = ((("scope", "month", "kind", "key", "uncosted"), True),)


CACHE_MODELS: list[type[OfficeModel]] = [MarginCacheMonth, MarginCacheRow]

Summed = tuple[str, str, bool, int, int, int, int]  # kind, key, uncosted, q, gross, net, cost
Sums = dict[tuple[str, str, str, str, bool], list[int]]  # (scope, month, kind, key, uncosted)


def counted(months: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Ingest's batch touches these (scope, month)s: each gets one more version, one kept
    current stays so (its rows are then added by `added`), and those are returned; a
    batch touching no kept month costs nothing further. Call inside the ingest's transaction,
    before its cost prices are read: on PostgreSQL the month rows stay locked, in order,
    until the commit, so a cost change (`cost_changed_from`) waits for it or it for that."""
    table = MarginCacheMonth._meta.table_name
    if not months:
        return set()
    found = bulk.run_values(
        f"INSERT INTO {table} (scope, month, version) VALUES {{values}}"
        f" ON CONFLICT (scope, month) DO UPDATE SET version = {table}.version + 1,"
        f" filled = CASE WHEN {table}.filled = {table}.version THEN {table}.version + 1"
        f" ELSE {table}.filled END RETURNING scope, month, version, filled",
        [(scope, month, 1) for scope, month in sorted(set(months))], fetch=True)
    return {(scope, month) for scope, month, version, filled in found if filled == version}


def add_row(sums: Sums, kept: set[tuple[str, str]], store: str, day: str, code: str,
            uncosted: bool, adds: tuple[int, int, int, int], sign: int = 1) -> None:
    """One day row's [pieces, gross, net, cost] (times `sign`) into `sums`, for the kept
    months among its chain's and its shop's, by product and by shop: ingest's batch and a
    cost change's difference are summed alike."""
    for scope in (CHAIN, store):
        if (scope, day[:7]) not in kept:
            continue
        for kind, key in ((PRODUCT, code), (SHOP, store)):
            found = sums.setdefault((scope, day[:7], kind, key, uncosted), [0, 0, 0, 0])
            for index, value in enumerate(adds):
                found[index] += sign * value


def added(sums: Sums) -> None:
    """Adds [pieces, gross, net, cost] per (scope, month, kind, key, uncosted) to kept
    months (those `counted` or `cost_changed_from` returned, in the same transaction)."""
    rows = sorted((*key, *values) for key, values in sums.items())
    if rows:
        bulk.upsert(MarginCacheRow._meta.table_name,
                    ["scope", "month", "kind", "key", "uncosted", "quantity", "gross", "net",
                     "cost"], ["scope", "month", "kind", "key", "uncosted"], rows,
                    add=["quantity", "gross", "net", "cost"])


def cost_changed_from(month: str) -> set[tuple[str, str]]:
    """Cost prices from `month` on are about to change: every month from then gets one more
    version (a report computing one meanwhile does not keep it), one kept current stays so,
    and those (scope, month)s are returned for the change's exact difference to be `added`.
    Call inside the change's transaction before its cost prices are read (PostgreSQL: the
    month rows are locked in ingest's order, so neither misses the other's rows)."""
    m = MarginCacheMonth
    if is_postgres():
        list(m.select(m.id).where(m.month >= month).order_by(m.scope, m.month)
             .for_update().tuples())
    kept = {(scope, found) for scope, found in m.select(m.scope, m.month).where(
        m.month >= month, m.filled == m.version).tuples()}
    m.update(version=m.version + 1,
             filled=peewee.Case(None, [(m.filled == m.version, m.version + 1)], m.filled)
             ).where(m.month >= month).execute()
    return kept


def changed_from(month: str | None) -> None:
    """The master changed what every month from `month` on (all months: None) is worth."""
    query = MarginCacheMonth.update(version=MarginCacheMonth.version + 1)
    if month is not None:
        query = query.where(MarginCacheMonth.month >= month)
    query.execute()


def current(scope: str, months: list[str]) -> tuple[dict[str, int], set[str]]:
    """Each month's version now (0 for one never counted), and the months whose kept
    figures are current."""
    versions = dict.fromkeys(months, 0)
    kept: set[str] = set()
    for start in range(0, len(months), 400):
        for month, version, filled in (MarginCacheMonth.select(
                MarginCacheMonth.month, MarginCacheMonth.version, MarginCacheMonth.filled)
                .where(MarginCacheMonth.scope == scope,
                       MarginCacheMonth.month.in_(months[start:start + 400])).tuples()):
            versions[month] = version
            if filled == version:
                kept.add(month)
    return versions, kept


def read(scope: str, months: list[str]) -> list[Summed]:
    """The kept rows of these months, summed per kind, key and uncosted (a few thousand
    rows: read without building model rows)."""
    db = database_proxy.obj
    mark = "%s" if is_postgres() else "?"
    out: list[Summed] = []
    for start in range(0, len(months), 400):
        page = months[start:start + 400]
        out += [(kind, key, bool(uncosted), int(q), int(g), int(n), int(c))
                for kind, key, uncosted, q, g, n, c in db.execute_sql(
                    "SELECT kind, key, uncosted, SUM(quantity), SUM(gross), SUM(net), SUM(cost)"
                    f" FROM {MarginCacheRow._meta.table_name} WHERE scope = {mark}"
                    f" AND month IN ({', '.join(mark for _ in page)})"
                    " GROUP BY kind, key, uncosted", [scope, *page]).fetchall()]
    return out


def keep(scope: str, month: str, version: int, rows: list[Summed]) -> None:
    """Keeps a month's rows, computed after its version was read: the month is claimed
    first (on PostgreSQL its row stays locked until the commit, so ingest waits), and only
    while still at that version and not kept by another report meanwhile."""
    db = database_proxy.obj
    m = MarginCacheMonth
    try:
        with db.atomic():
            m.insert(scope=scope, month=month, version=0).on_conflict_ignore().execute()
            claimed = (m.update(filled=m.version)
                       .where(m.scope == scope, m.month == month, m.version == version,
                              (m.filled.is_null()) | (m.filled != m.version)).execute())
            if not claimed:
                return
            MarginCacheRow.delete().where(MarginCacheRow.scope == scope,
                                          MarginCacheRow.month == month).execute()
            bulk.run_values(  # plain rows: built by peewee they took longer than the sums
                f"INSERT INTO {MarginCacheRow._meta.table_name} (scope, month, kind, key,"
                " uncosted, quantity, gross, net, cost) VALUES {values}",
                [(scope, month, *row) for row in rows])
    except peewee.IntegrityError:
        return


def months_of(scope: str, months: list[str],
              compute: Callable[[list[str]], dict[str, list[Summed]]]) -> list[Summed]:
    """The summed rows of these whole months: kept ones read back, the others computed by
    `compute(months)` (month -> its rows) and kept."""
    versions, kept = current(scope, months)
    out = read(scope, [m for m in months if m in kept])
    stale = [m for m in months if m not in kept]
    if stale:
        computed = compute(stale)
        for month in stale:
            rows = computed.get(month, [])
            keep(scope, month, versions[month], rows)
            out += rows
    return out
