"""The margin from the month roll-up (headoffice/margin_months.py) against the same figures
recomputed from the product day rows one by one (the cost valid at the end of each day, its
net rounded per day row), on random sales written by ingest's own aggregates.apply in many
batches: refunds, cost changes inside a month and entered later with a valid-from in the
past, products without a cost and ones the master does not know, ranges starting and ending
inside a month; and the month table summed from the day rows of an older database."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import defaultdict
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
FIRST, LAST = dt.date(2025, 11, 20), dt.date(2026, 3, 12)
SHOPS = ("s1", "s2", "s3")
RATES = {"high": 2100, "low": 900, "zero": 0}


def _sell(rng: random.Random) -> None:
    """Random day rows, each reached through several batches (a day row's gross crosses
    rounding edges between batches), refunds included."""
    from headoffice.aggregates import BatchTotals, apply
    from headoffice.db import database_proxy

    days = [FIRST + dt.timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
    for _ in range(40):
        totals = BatchTotals()
        for _ in range(60):
            day = rng.choice(days).isoformat()
            shop, code = rng.choice(SHOPS), str(rng.choice(range(1001, 1013)))
            quantity = rng.randint(1, 4) * (-1 if rng.random() < 0.2 else 1)  # refunds
            gross = quantity * rng.randint(1, 999)
            totals.day[(shop, f"{shop}-kassa1", day)]["turnover"] += gross  # as ingest does
            for bucket in ("d" + day, "m" + day[:7]):
                row = totals.product[(shop, bucket, code)]
                row[0], row[1], row[2] = f"Artikel {code}", row[1] + quantity, row[2] + gross
        with database_proxy.obj.atomic():
            apply(totals)


def _master(rng: random.Random) -> None:
    """1001-1009 in the master (1007-1009 without a cost), 1010-1012 unknown; costs change
    inside months, on a month's first day, and twice on one day."""
    from headoffice.catalogue.fields import product_fields
    from headoffice.catalogue.products import save_product, set_cost

    for number in range(1001, 1010):
        vat = ("high", "low", "zero")[number % 3]
        product, _ = save_product(product_fields({
            "plu": str(number), "name": f"Product {number}", "vat_code": vat,
            "category": ("Koffie", "Brood")[number % 2]}), "test")
        if number >= 1007:
            continue
        moments = [dt.datetime(2025, 1, 1, 9, tzinfo=AMSTERDAM)] if number != 1006 else []
        moments += [dt.datetime(2025, 11, 1) + dt.timedelta(hours=rng.randint(0, 140 * 24))
                    for _ in range(rng.randint(1, 4))]
        moments.append(dt.datetime(2026, 2, 1, 0, 0))  # on a month's first day
        for when in moments:
            set_cost(product, rng.randint(10, 600), when.replace(tzinfo=AMSTERDAM))
        set_cost(product, rng.randint(10, 600), moments[-1].replace(tzinfo=AMSTERDAM)
                 + dt.timedelta(hours=3))  # later the same day: that day's last price wins


def _by_day_rows(first: dt.date, last: dt.date, store: str | None) -> dict[str, list[int]]:
    """Per product: pieces, gross, net, cost, uncosted pieces and gross, from the day rows."""
    from contract.config import NL_RATES
    from headoffice.aggregate_models import AggProduct
    from headoffice.catalogue.products import find_many
    from headoffice.margin_months import net_at
    from headoffice.web.margin_queries import CostBook

    query = AggProduct.select().where(AggProduct.bucket.between("d" + first.isoformat(),
                                                                "d" + last.isoformat()))
    if store:
        query = query.where(AggProduct.store == store)
    rows = list(query)
    master = find_many(sorted({r.product for r in rows}))
    book = CostBook(sorted({p.id for p in master.values() if p is not None}))
    out: dict[str, list[int]] = defaultdict(lambda: [0] * 6)
    for row in rows:
        day, product = row.bucket[1:], master[row.product]
        cost = book.at(product.id, day) if product else None
        sums = out[row.product]
        sums[0] += row.quantity
        sums[1] += row.gross
        if cost is None:
            sums[4] += row.quantity
            sums[5] += row.gross
            continue
        rates = [r for r in NL_RATES if r.code == product.vat_code
                 and r.valid_from <= dt.date.fromisoformat(day)]
        rate = max(rates, key=lambda r: r.valid_from).bp if rates else 0
        sums[2] += net_at(row.gross, rate)
        sums[3] += cost * row.quantity
    return out


def test_margin_from_months_equals_the_day_rows(office_db_url) -> None:
    from headoffice.exports.periods import Period
    from headoffice.web.margin_queries import margin

    rng = random.Random(18)
    _master(rng)
    _sell(rng)
    ranges = [(FIRST, LAST), (dt.date(2025, 12, 1), dt.date(2026, 2, 28)),
              (dt.date(2025, 12, 17), dt.date(2026, 3, 3)), (dt.date(2026, 1, 1),
                                                             dt.date(2026, 1, 31)),
              (dt.date(2026, 2, 1), dt.date(2026, 2, 1)), (dt.date(2025, 11, 25),
                                                           dt.date(2025, 12, 31))]
    for _ in range(6):
        a, b = sorted(FIRST + dt.timedelta(days=rng.randint(0, 112)) for _ in range(2))
        ranges.append((a, b))
    for first, last in ranges:
        for store in (None, "s2"):
            report = margin(Period(first, last, "range"), store)
            expected = _by_day_rows(first, last, store)
            found = {r.key: [r.quantity, r.gross, r.net, r.cost, r.uncosted, r.uncosted_gross]
                     for r in report.products}
            assert found == dict(expected), (first, last, store)
            total = report.total
            assert [total.quantity, total.gross, total.net, total.cost, total.uncosted,
                    total.uncosted_gross] == [sum(v[i] for v in expected.values())
                                              for i in range(6)]
            for table in (report.categories, report.shops):
                assert sum(r.net for r in table) == total.net
                assert sum(r.cost for r in table) == total.cost
            if store is None:
                for shop in report.shops:
                    alone = margin(Period(first, last, "range"), shop.key).total
                    assert (shop.net, shop.cost, shop.gross, shop.uncosted) == \
                        (alone.net, alone.cost, alone.gross, alone.uncosted)


def test_month_rows_summed_from_the_day_rows_equal_ingest(office_db_url) -> None:
    """An older database gets the same month rows from its day rows as ingest kept."""
    from headoffice import rollups
    from headoffice.aggregate_models import AggMargin
    from headoffice.db import database_proxy

    _sell(random.Random(7))

    def rows() -> list[tuple]:
        return sorted(AggMargin.select(AggMargin.store, AggMargin.product, AggMargin.month,
                                       AggMargin.quantity, AggMargin.gross, AggMargin.net_2100,
                                       AggMargin.net_900).tuples())
    kept = rows()
    assert kept and any(r[5] != r[6] for r in kept)
    AggMargin.delete().execute()
    rollups.fill_missing(database_proxy.obj)
    assert rows() == kept


def test_kept_months_follow_later_sales_and_master_changes(office_db_url) -> None:
    """The months the report keeps with their cost applied (headoffice/margin_cache.py) stay
    equal to the day rows after sales arrive, cost prices are entered later with a
    valid-from in the past (and changed), a product's VAT code changes and a code sold
    before joins the master."""
    from headoffice.catalogue.fields import product_fields
    from headoffice.catalogue.models import MasterProduct
    from headoffice.catalogue.products import save_product, set_cost
    from headoffice.exports.periods import Period
    from headoffice.margin_cache import MarginCacheMonth
    from headoffice.web.margin_queries import margin

    rng = random.Random(31)
    _master(rng)
    _sell(rng)
    ranges = [(FIRST, LAST), (dt.date(2025, 12, 1), dt.date(2026, 2, 28)),
              (dt.date(2025, 12, 17), dt.date(2026, 3, 3))]

    def check(step: str) -> None:
        for first, last in ranges:
            for store in (None, "s1"):
                for _ in range(2):  # computed and kept, then read back
                    report = margin(Period(first, last, "range"), store)
                    found = {r.key: [r.quantity, r.gross, r.net, r.cost, r.uncosted,
                                     r.uncosted_gross] for r in report.products}
                    assert found == dict(_by_day_rows(first, last, store)), (step, first, last)
                    shops = margin(Period(first, last, "range"), None).shops if store else []
                    for shop in shops:
                        if shop.key == store:
                            assert (shop.net, shop.cost) == (report.total.net,
                                                             report.total.cost), step

    check("first")
    assert MarginCacheMonth.select().where(MarginCacheMonth.filled.is_null(False)).exists()
    products = list(MasterProduct.select().where(MasterProduct.plu.in_(["1001", "1002",
                                                                        "1003", "1007"])))
    for _ in range(5):
        product = rng.choice(products)
        when = dt.datetime(2025, 11, 1) + dt.timedelta(hours=rng.randint(0, 130 * 24))
        set_cost(product, rng.randint(10, 600), when.replace(tzinfo=AMSTERDAM))
    check("costs entered later")
    kept = {m.month for m in MarginCacheMonth.select().where(
        MarginCacheMonth.scope == "", MarginCacheMonth.filled == MarginCacheMonth.version)}
    assert {"2025-12", "2026-01", "2026-02"} <= kept
    _sell(random.Random(32))
    assert kept == {m.month for m in MarginCacheMonth.select().where(  # sales added to them
        MarginCacheMonth.scope == "", MarginCacheMonth.filled == MarginCacheMonth.version)}
    check("later sales")
    product = products[0]
    save_product(product_fields({"plu": product.plu, "name": product.name,
                                 "vat_code": "low" if product.vat_code != "low" else "high",
                                 "category": product.category}), "test")
    check("VAT code changed")
    joined, _ = save_product(product_fields({"plu": "1010", "name": "Product 1010",
                                             "vat_code": "high"}), "test")
    set_cost(joined, 77, dt.datetime(2025, 1, 1, tzinfo=AMSTERDAM))
    check("a sold code joins the master")


def _kept_as_day_rows(scope: str, month: str) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """A kept month's rows (headoffice/margin_cache.py) per product and per shop, as
    _by_day_rows gives them: pieces, gross, net, cost, uncosted pieces and gross; rows of
    nothing but zeros left out (a month may keep one after a refund or a cost change)."""
    from headoffice.margin_cache import PRODUCT, MarginCacheRow

    out: tuple[dict[str, list[int]], dict[str, list[int]]] = (defaultdict(lambda: [0] * 6),
                                                              defaultdict(lambda: [0] * 6))
    for row in MarginCacheRow.select().where(MarginCacheRow.scope == scope,
                                             MarginCacheRow.month == month):
        sums = out[0 if row.kind == PRODUCT else 1][row.key]
        adds = ([row.quantity, row.gross, 0, 0, row.quantity, row.gross] if row.uncosted
                else [row.quantity, row.gross, row.net, row.cost, 0, 0])
        for index, value in enumerate(adds):
            sums[index] += value
    return tuple({k: v for k, v in table.items() if any(v)} for table in out)  # type: ignore


def _month_by_day_rows(month: str, store: str | None) -> tuple[dict[str, list[int]],
                                                              dict[str, list[int]]]:
    """_by_day_rows of a whole month: per product, and per shop (the shop's own total)."""
    first = dt.date.fromisoformat(month + "-01")
    last = (first + dt.timedelta(days=31)).replace(day=1) - dt.timedelta(days=1)
    products = {k: v for k, v in _by_day_rows(first, last, store).items() if any(v)}
    shops = {}
    for shop in ([store] if store else SHOPS):
        found = [sum(v[i] for v in _by_day_rows(first, last, shop).values()) for i in range(6)]
        if any(found):
            shops[shop] = found
    return products, shops


def _kept_months() -> set[tuple[str, str]]:
    from headoffice.margin_cache import MarginCacheMonth

    return {(m.scope, m.month) for m in MarginCacheMonth.select().where(
        MarginCacheMonth.filled == MarginCacheMonth.version)}


WHOLE = [f"{month:%Y-%m}" for month in (dt.date(2025, 11, 1), dt.date(2025, 12, 1),
                                        dt.date(2026, 1, 1), dt.date(2026, 2, 1),
                                        dt.date(2026, 3, 1))]


def test_fill_at_start_keeps_every_month(office_db_url, monkeypatch) -> None:
    """After the start's fill (headoffice/web/margin_fill.py) a report over every whole
    month computes nothing from the day rows, and its figures are the day rows' own; every
    month of every scope is kept as the day rows give it; a second fill finds nothing to do."""
    from headoffice.exports.periods import Period
    from headoffice.web import margin_fill, margin_queries

    rng = random.Random(44)
    _master(rng)
    _sell(rng)
    assert margin_fill.fill() == len(WHOLE) * (1 + len(SHOPS))
    assert _kept_months() == {(scope, month) for scope in ("", *SHOPS) for month in WHOLE}
    assert margin_fill.fill() == 0  # resumable: what is kept is skipped
    summed = []
    real = margin_queries._summed

    def counted(period, store, master, book, by_month=False):
        summed.append((period.start, period.end, by_month))
        return real(period, store, master, book, by_month)

    monkeypatch.setattr(margin_queries, "_summed", counted)
    for store in (None, "s2"):
        report = margin_queries.margin(Period(dt.date(2025, 11, 1), dt.date(2026, 3, 31),
                                              "range"), store)
        assert summed == [], store  # no day row read: every month was kept
        found = {r.key: [r.quantity, r.gross, r.net, r.cost, r.uncosted, r.uncosted_gross]
                 for r in report.products}
        assert found == dict(_by_day_rows(FIRST, LAST, store)), store
    report = margin_queries.margin(Period(FIRST, LAST, "range"), None)
    assert all(not by_month for *_, by_month in summed)  # only the edge days
    found = {r.key: [r.quantity, r.gross, r.net, r.cost, r.uncosted, r.uncosted_gross]
             for r in report.products}
    assert found == dict(_by_day_rows(FIRST, LAST, None))
    for scope in ("", *SHOPS):
        for month in WHOLE:
            assert _kept_as_day_rows(scope, month) == \
                _month_by_day_rows(month, scope or None), (scope, month)


def test_fill_runs_beside_the_web(office_db_url, monkeypatch) -> None:
    """The service answers while the fill is still computing, which it does in a thread of
    its own; a report meanwhile gives the day rows' figures."""
    import threading
    import urllib.request

    import uvicorn

    from headoffice.alerts import settings as settings_mod
    from headoffice.exports.periods import Period
    from headoffice.web import margin_queries
    from headoffice.web.app import create_app
    from tests.fixtures_services import free_port, wait_for_port

    rng = random.Random(45)
    _master(rng)
    _sell(rng)
    started, release = threading.Event(), threading.Event()
    threads = []
    real = margin_queries.keep_months

    def held(months, store):
        threads.append(threading.current_thread())
        started.set()
        release.wait(20)
        real(months, store)

    monkeypatch.setattr(margin_queries, "keep_months", held)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(
        create_app(settings_mod.OfficeSettings(), fill_margin=True), host="127.0.0.1",
        port=port, log_level="warning"))
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    try:
        wait_for_port(port, 20)
        assert started.wait(20)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as page:
            assert page.status == 200  # while the fill is held at its first step
        report = margin_queries.margin(Period(FIRST, LAST, "range"), "s1")
        found = {r.key: [r.quantity, r.gross, r.net, r.cost, r.uncosted, r.uncosted_gross]
                 for r in report.products}
        assert found == dict(_by_day_rows(FIRST, LAST, "s1"))
        assert threads[0] not in (threading.current_thread(), serving)
    finally:
        release.set()
        server.should_exit = True
        serving.join(20)
    assert not threads[0].is_alive()
    assert len(threads) > 1  # it went on after the first step


def test_back_dated_cost_changes_only_its_product(office_db_url) -> None:
    """A cost price entered with a valid-from in the past, on a product with costs and on
    one that had none, keeps every kept month kept, each equal to its day rows."""
    from headoffice.catalogue.importcsv import import_csv
    from headoffice.catalogue.models import MasterProduct
    from headoffice.catalogue.products import set_cost
    from headoffice.web import margin_fill

    rng = random.Random(46)
    _master(rng)
    _sell(rng)
    margin_fill.fill()
    kept = _kept_months()
    assert len(kept) == len(WHOLE) * (1 + len(SHOPS))
    costed = MasterProduct.get(MasterProduct.plu == "1002")
    uncosted = MasterProduct.get(MasterProduct.plu == "1007")
    set_cost(costed, 444, dt.datetime(2025, 12, 10, 23, 30, tzinfo=AMSTERDAM))  # UTC: the 10th
    set_cost(uncosted, 55, dt.datetime(2026, 1, 1, 0, 30, tzinfo=AMSTERDAM))  # UTC: December
    set_cost(costed, 12, dt.datetime(2026, 2, 1, 0, 0, tzinfo=AMSTERDAM))  # replaces one
    report = import_csv([  # the import's costs: two products, one without a cost before
        "gtin;barcodes;plu;name;category;vat_code;unit;age_limit;deposit;active;price;cost\n",
        ";;1003;Product 1003;Brood;low;;;;;;1,23\n", ";;1008;Product 1008;Koffie;high;;;;;;0,45\n"],
        "test", valid_from=dt.datetime(2026, 1, 17, 15, tzinfo=AMSTERDAM))
    assert (report.updated, report.errors) == (2, [])
    assert _kept_months() == kept  # only those products' figures were costed again
    for scope, month in sorted(kept):
        assert _kept_as_day_rows(scope, month) == _month_by_day_rows(month, scope or None), \
            (scope, month)


def test_ingest_costs_only_the_rows_of_kept_months(office_db_url, monkeypatch) -> None:
    """Ingest reads the master and the cost prices for a batch only when a month it touches
    is kept, and then for the rows of kept months alone."""
    from headoffice import margin_deltas
    from headoffice.aggregates import BatchTotals, apply
    from headoffice.db import database_proxy
    from headoffice.web import margin_fill

    rng = random.Random(47)
    _master(rng)
    looked_up: list[list[str]] = []
    real = margin_deltas.find_many

    def counted(codes):
        looked_up.append(codes)
        return real(codes)

    monkeypatch.setattr(margin_deltas, "find_many", counted)
    _sell(rng)
    assert looked_up == []  # nothing kept yet
    margin_fill.fill()

    def batch(day: str, code: str) -> None:
        totals = BatchTotals()
        totals.day[("s1", "s1-kassa1", day)]["turnover"] += 300
        for bucket in ("d" + day, "m" + day[:7]):
            totals.product[("s1", bucket, code)] = [f"Artikel {code}", 1, 300]
        with database_proxy.obj.atomic():
            apply(totals)

    batch("2026-07-01", "1001")  # a month not kept
    assert looked_up == []
    batch("2026-01-05", "1002")  # kept
    assert looked_up == [["1002"]]
    assert _kept_as_day_rows("", "2026-01") == _month_by_day_rows("2026-01", None)


def test_fill_beside_ingest(office_db_url) -> None:
    """The start's fill in its thread while sales arrive: every month it kept equals its day
    rows, and a second fill keeps those it left (changed while it computed them)."""
    from headoffice.web import margin_fill

    rng = random.Random(48)
    _master(rng)
    _sell(rng)
    filling = margin_fill.MarginFill(every_seconds=3600)
    filling.start()
    _sell(random.Random(49))
    _wait(lambda: filling.passes >= 1)
    filling.stop()
    assert filling.passes == 1 and not filling.is_alive()
    for scope, month in sorted(_kept_months()):
        assert _kept_as_day_rows(scope, month) == _month_by_day_rows(month, scope or None)
    margin_fill.fill()
    assert _kept_months() == {(scope, month) for scope in ("", *SHOPS) for month in WHOLE}
    for scope, month in sorted(_kept_months()):
        assert _kept_as_day_rows(scope, month) == _month_by_day_rows(month, scope or None)


def test_fill_keeps_again_what_a_vat_code_change_made_stale(office_db_url) -> None:
    """A product's VAT code changes every month's net; the running fill's next pass keeps
    them all again, as the day rows give them, without a report having to wait for it."""
    from headoffice.catalogue.fields import product_fields
    from headoffice.catalogue.models import MasterProduct
    from headoffice.catalogue.products import save_product
    from headoffice.web import margin_fill

    rng = random.Random(50)
    _master(rng)
    _sell(rng)
    everything = {(scope, month) for scope in ("", *SHOPS) for month in WHOLE}
    filling = margin_fill.MarginFill(every_seconds=0.2)
    filling.start()
    try:
        _wait(lambda: filling.passes >= 1)
        assert _kept_months() == everything
        product = MasterProduct.get(MasterProduct.plu == "1001")
        save_product(product_fields({"plu": product.plu, "name": product.name,
                                     "vat_code": "low" if product.vat_code != "low" else "high",
                                     "category": product.category}), "test")
        assert not _kept_months()  # every month of every scope is stale now
        passes = filling.passes
        _wait(lambda: filling.passes >= passes + 2)
        assert _kept_months() == everything
    finally:
        filling.stop()
    assert not filling.is_alive()
    for scope, month in sorted(everything):
        assert _kept_as_day_rows(scope, month) == _month_by_day_rows(month, scope or None)


def _wait(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
