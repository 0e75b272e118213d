"""The drill-down to a product, a category or a VAT rate reads the tickets through the search
keys ingest writes (headoffice.receipt_keys); it finds exactly the tickets, in the same
order, that reading the shop days the aggregates name finds (the path before the keys), over
a simulated month on two tills in two shops with refunds, voids and training sales, on
SQLite and PostgreSQL; and one shop's heat map from its hour roll-up."""

from __future__ import annotations

import datetime as dt

from tests.office.owner_trading import counted
from tests.office.test_reports_month import CATEGORIES, FIRST, LAST, OTHER_DAYS, trade_month


def behind(bodies, period, store, terminal, wanted) -> list[tuple[str, int]]:
    """(terminal, seq) of the counted tickets of the range and scope that `wanted` picks,
    newest first as the drill-down lists them, read off the journal bodies alone."""
    found = [b for b in bodies if counted(b) and wanted(b)
             and period.first <= b["ts"][:10] <= period.last
             and store in (None, b["store"]) and terminal in (None, b["terminal"])]
    found.sort(key=lambda b: (b["terminal"], -b["seq"]))
    found.sort(key=lambda b: b["ts"], reverse=True)
    return [(b["terminal"], b["seq"]) for b in found]


def test_a_line_without_a_code_is_keyed_as_the_reports_key_it() -> None:
    from headoffice.receipt_keys import keys_of, line_key

    line = {"code": None, "product_id": 12, "name": "Diversen", "sku": "plu:7"}
    body = {"type": "sale", "terminal": "t1", "store": "s1", "seq": 3,
            "data": {"lines": [line, {"code": "ABC", "name": "x", "removed": False}]}}
    assert line_key(line) == "12"
    assert {v for k, v in keys_of(body) if k == "product"} == {"plu:7", "12", "abc"}
    assert {v for k, v in keys_of({**body, "data": {"vat": [{"code": "zero", "rate_bp": 0}]}})
            if k == "vat"} == {"zero:0"}
    assert {v for k, v in keys_of({**body, "data": {"lines": [{"code": "", "name": "Los"}]}})
            if k == "product"} == {"#los", "los"}


def test_drill_through_keys_equals_reading_the_days(tmp_path, office_db_url) -> None:
    from headoffice.db import database_proxy
    from headoffice.exports.periods import Period
    from headoffice.web import report_queries as reports
    from tests.office.test_owner_margin import master_product

    bodies = trade_month(tmp_path, database_proxy.obj)
    for plu, category in CATEGORIES.items():
        [line] = [ln for b in bodies for ln in b["data"].get("lines", ())
                  if ln.get("code") == plu][:1]
        master_product(plu, line["name"], line["vat_code"], category)
    month = Period(FIRST, LAST, "month")
    periods = [month, Period(min(OTHER_DAYS), LAST, "all"),
               Period(FIRST + dt.timedelta(days=9), FIRST + dt.timedelta(days=9), "day")]
    scopes = [(None, None), ("s2", None), ("s1", "t1")]
    compared = 0
    seen: set[str] = set()
    for period in periods:
        products = [p["product"] for p in reports.by_product(period, limit=1_000_000)]
        categories = [c["category"] for c in reports.by_category(period)]
        assert len(products) > 3 and len(categories) == 3, (products, categories)
        cases = [("product", p) for p in [*products, "nope"]] + \
                [("category", c) for c in [*categories, "Fruit"]]
        for store, terminal in scopes:
            for cut, value in cases:
                for limit in (500, 3) if period is month else (500,):
                    args = (period, store, terminal, cut, value, limit)
                    keyed = reports.tickets_behind(*args)
                    assert keyed == reports.tickets_behind(*args, keyed=False), (args, keyed)
                    compared += bool(keyed)
                    seen.update(t.type for t in keyed)
    assert compared > 100 and {"sale", "refund", "void"} <= seen, (compared, seen)
    # the VAT rates and cashiers, through the roll-ups for every shop, against the journal
    found: set[str] = set()
    for period in periods:
        for store, terminal in scopes:
            for rate in ("high:2100", "low:900", "zero:0"):
                got = reports.tickets_behind(period, store, terminal, "vat", rate, 100_000)
                assert got == reports.tickets_behind(period, store, terminal, "vat", rate,
                                                     100_000, keyed=False)
                assert [(t.terminal, t.seq) for t in got] == behind(
                    bodies, period, store, terminal, lambda b, rate=rate: any(
                        f"{v['code']}:{v['rate_bp']}" == rate for v in b["data"]["vat"]))
                found.update([rate] if got else [])
            for cashier in ("Sanne", "Ahmed", "nobody"):
                got = reports.tickets_behind(period, store, terminal, "cashier", cashier,
                                             100_000)
                assert [(t.terminal, t.seq) for t in got] == behind(
                    bodies, period, store, terminal,
                    lambda b, cashier=cashier: b.get("cashier") == cashier)
                found.update([cashier] if got else [])
    assert {"high:2100", "low:900", "Sanne"} <= found, found
    # PLU 1 is the only Brood product: the category's tickets are the product's
    tickets = reports.tickets_behind(month, cut="category", value="Brood")
    assert tickets == reports.tickets_behind(month, cut="product", value="1")
    assert 0 < len(tickets) < len(reports.tickets_behind(month, limit=100_000))


def shop_heat(period, store) -> list[list[int]]:
    """One shop's heat map summed from its per-terminal hour rows (before AggHourShop)."""
    from headoffice.aggregate_models import AggHour

    grid = [[0] * 24 for _ in range(7)]
    for row in AggHour.select().where(AggHour.store == store,
                                      AggHour.day.between(period.first, period.last)):
        grid[dt.date.fromisoformat(row.day).weekday()][row.hour] += row.turnover
    return grid


def test_a_shops_heat_map_from_its_hour_roll_up(tmp_path, office_db_url) -> None:
    """AggHourShop, kept by ingest and filled once in a database from before it, gives one
    shop's heat map and sales page the same figures as its terminals' hour rows."""
    from headoffice import rollups
    from headoffice.aggregate_models import AggHourShop
    from headoffice.db import database_proxy
    from headoffice.exports.periods import Period
    from headoffice.web import report_queries as reports

    trade_month(tmp_path, database_proxy.obj)
    periods = [Period(FIRST, LAST, "month"), Period(min(OTHER_DAYS), LAST, "all")]
    pages = {(p, s): reports.report(p, s) for p in periods for s in ("s1", "s2")}
    for period, store in pages:
        assert pages[period, store]["heat"] == shop_heat(period, store)
        assert sum(map(sum, shop_heat(period, store))) != 0
    AggHourShop.delete().execute()
    rollups.fill_missing(database_proxy.obj)
    assert AggHourShop.select().count() > 28
    for period, store in pages:
        assert reports.report(period, store) == pages[period, store]
