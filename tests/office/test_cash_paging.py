"""The cash page a page at a time (SQLite and PostgreSQL): on random Zs and movements the
grouped per-cashier and per-day sums and the totals equal the sums over the full lists, as
the page summed them before; the pages, newest first, are the full list cut in 100s; page
2, the last page and a page beyond it; the page links keep the range, the shop and the
other list's page; the Excel file still lists every row."""

from __future__ import annotations

import datetime as dt
import io
import random
import re
from collections import defaultdict
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from headoffice.web.paging import Pager, page_number, shown_page

SHOPS = ("s1", "s2", "s3")
CASHIERS = ("Anna", "Bram", "Chantal", "")
FIRST = dt.date(2026, 9, 1)


def _random_rows(rng: random.Random, zs: int, moves: int) -> list[dict[str, Any]]:
    """Cash rows as ingest writes them: Zs and movements on random tills and times (some
    near midnight, so the local day differs from the UTC date), variances of both signs
    and zero."""
    from headoffice.cash_records import SIGN, local_day

    rows = []
    seqs: dict[str, int] = defaultdict(int)
    for number in range(zs + moves):
        store = rng.choice(SHOPS)
        terminal = f"{store}-kassa{rng.randint(1, 2)}"
        seqs[terminal] += 1
        when = dt.datetime.combine(FIRST, dt.time(), dt.UTC) + dt.timedelta(
            days=rng.randint(0, 90), minutes=rng.choice((rng.randint(0, 1439), 22 * 60 + 59,
                                                         23 * 60 + 30)))
        ts = when.isoformat()
        row = {"store": store, "terminal": terminal, "seq": seqs[terminal], "ts": ts,
               "day": local_day(ts), "cashier": rng.choice(CASHIERS), "approved_by": "",
               "z_number": 0, "float_": 0, "cash_in": 0, "cash_out": 0, "cash_tenders": 0,
               "expected": 0, "counted": 0, "variance": 0, "amount": 0, "reason": ""}
        if number < zs:
            expected = rng.randint(10000, 90000)
            variance = rng.choice((0, 0, rng.randint(-2000, -1), rng.randint(1, 1500)))
            row.update(type="z_close", z=True, z_number=seqs[terminal], float_=15000,
                       cash_in=rng.randint(0, 3000), cash_out=-rng.randint(0, 3000),
                       cash_tenders=expected - 15000, expected=expected,
                       counted=expected + variance, variance=variance)
        else:
            kind = rng.choice(("float", "cash_in", "cash_out"))
            row.update(type=kind, z=False, amount=SIGN[kind] * rng.randint(100, 20000),
                       reason=rng.choice(("", "bank", "boodschappen")))
        rows.append(row)
    return rows


def _store_rows(rows: list[dict[str, Any]]) -> None:
    from headoffice.cash_records import CashRecord

    for start in range(0, len(rows), 200):
        CashRecord.insert_many(rows[start:start + 200]).execute()


def _old_sums(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The per-cashier, per-day and total figures summed over the full lists, the way the
    page summed them before it took them from grouped reads."""
    cashiers: dict[str, dict[str, Any]] = {}
    days: dict[str, int] = defaultdict(int)
    totals = {"zs": 0, "variance": 0, "short": 0, "over": 0, "float": 0, "cash_in": 0,
              "cash_out": 0, "moves": 0}
    for r in rows:
        if not r["z"]:
            totals[r["type"]] += r["amount"]
            totals["moves"] += 1
            continue
        v = r["variance"]
        row = cashiers.setdefault(r["cashier"], {"cashier": r["cashier"], "zs": 0,
                                                 "variance": 0, "short": 0, "over": 0})
        row["zs"] += 1
        row["variance"] += v
        row["short" if v < 0 else "over"] += v
        days[r["day"]] += v
        totals["zs"] += 1
        totals["variance"] += v
        totals["short" if v < 0 else "over"] += v
    return {"cashiers": sorted(cashiers.values(), key=lambda r: (r["variance"], r["cashier"])),
            "days": [{"day": d, "variance": v} for d, v in sorted(days.items())],
            "totals": totals}


def _in(rows: list[dict[str, Any]], first: dt.date, last: dt.date,
        shops: frozenset[str] | None, store: str | None) -> list[dict[str, Any]]:
    return [r for r in rows if first.isoformat() <= r["day"] <= last.isoformat()
            and (shops is None or r["store"] in shops) and (not store or r["store"] == store)]


def _newest_first(rows: list[dict[str, Any]], z: bool) -> list[tuple[str, int]]:
    kept = sorted((r for r in rows if r["z"] is z),
                  key=lambda r: (r["ts"], r["terminal"], r["seq"]), reverse=True)
    return [(r["terminal"], r["seq"]) for r in kept]


SCOPES = [(dt.date(2026, 9, 1), dt.date(2026, 11, 30), None, None),
          (dt.date(2026, 9, 15), dt.date(2026, 10, 14), None, None),
          (dt.date(2026, 9, 1), dt.date(2026, 11, 30), None, "s2"),
          (dt.date(2026, 10, 1), dt.date(2026, 10, 31), frozenset({"s1", "s3"}), None),
          (dt.date(2026, 10, 1), dt.date(2026, 10, 1), None, "s1"),
          (dt.date(2025, 1, 1), dt.date(2025, 1, 31), None, None)]  # nothing in it


@pytest.mark.parametrize("seed", [1, 2])
def test_grouped_sums_and_pages_equal_the_full_lists(office_db_url, seed) -> None:
    from headoffice.exports.periods import Period
    from headoffice.web import cash_queries as cash

    rng = random.Random(seed)
    rows = _random_rows(rng, zs=rng.randint(380, 460), moves=rng.randint(250, 320))
    _store_rows(rows)
    for first, last, shops, store in SCOPES:
        period = Period(first, last, "range")
        chosen = _in(rows, first, last, shops, store)
        want = _old_sums(chosen)
        got = cash.summary(period, shops, store)
        assert got == want, (first, last, shops, store)
        full = cash.cash_report(period, shops, store)
        assert {k: full[k] for k in ("cashiers", "days", "totals")} == want
        assert len(full["zs"]) == want["totals"]["zs"]  # the Excel file: every row
        assert len(full["moves"]) == want["totals"]["moves"]
        for z, kinds in ((True, "zs"), (False, "moves")):
            newest = _newest_first(chosen, z)
            assert [(r.terminal, r.seq) for r in reversed(full[kinds])] == newest
            pages = -(-len(newest) // 100) or 1
            seen = []
            for number in range(1, pages + 1):
                shown = cash.cash_page(period, shops, store, number if z else 1,
                                       1 if z else number)
                assert shown["z_page" if z else "move_page"] == number
                assert {k: shown[k] for k in ("cashiers", "days", "totals")} == want
                seen += [(r.terminal, r.seq) for r in shown[kinds]]
                assert len(shown[kinds]) == (100 if number < pages else
                                             len(newest) - 100 * (pages - 1))
            assert seen == newest
            beyond = cash.cash_page(period, shops, store, 10_000, 10_000)
            assert beyond["z_page" if z else "move_page"] == pages  # the last page
            assert [(r.terminal, r.seq) for r in beyond[kinds]] == newest[100 * (pages - 1):]


def test_page_numbers_and_links() -> None:
    assert [page_number(t) for t in (None, "", "0", "-2", "x", "3", "12")] == \
        [1, 1, 1, 1, 1, 3, 12]
    assert [shown_page(a, 250) for a in (1, 3, 4, 99)] == [1, 3, 3, 3]
    assert shown_page(5, 0) == 1
    pager = Pager(7, 1234, "z_pagina", "/kas", {"preset": "custom", "from": "2026-01-01",
                                                 "geld_pagina": "2"}, "z-lijst")
    assert (pager.pages, pager.offset, pager.first_row, pager.last_row) == (13, 600, 601, 700)
    assert pager.numbers() == [1, None, 5, 6, 7, 8, 9, None, 13]
    assert Pager(1, 250, "p", "/kas").numbers() == [1, 2, 3]
    assert Pager(13, 1234, "p", "/kas").numbers() == [1, None, 11, 12, 13]
    assert Pager(13, 1234, "p", "/kas").last_row == 1234
    assert pager.href(8) == \
        "/kas?preset=custom&from=2026-01-01&geld_pagina=2&z_pagina=8#z-lijst"


def _links(html: str, nav_id: str) -> dict[str, dict[str, list[str]]]:
    """The page links of one pager: {link text: its query}."""
    nav = re.search(rf'<nav class="pager" id="{nav_id}"[^>]*>(.*?)</nav>', html, re.S)
    assert nav, nav_id
    return {text.strip(): parse_qs(urlsplit(unescape(href)).query)
            for href, text in re.findall(r'<a[^>]*href="([^"]+)"[^>]*>([^<]+)</a>',
                                         nav.group(1))}


def _seqs(html: str, table: str) -> list[tuple[str, int]]:
    body = re.search(rf'<table id="{table}".*?</table>', html, re.S).group(0)
    return [(t, int(s)) for t, s in re.findall(r'data-terminal="([^"]+)" data-seq="(\d+)"',
                                                body)]


def test_the_page_over_http_pages_and_keeps_its_filters(tmp_path, office_db_url) -> None:
    from openpyxl import load_workbook

    from tests.office.helpers import OfficeWeb

    rows = _random_rows(random.Random(7), zs=430, moves=260)
    _store_rows(rows)
    first, last = dt.date(2026, 9, 1), dt.date(2026, 11, 30)
    chosen = _in(rows, first, last, None, "s2")
    zs, moved = _newest_first(chosen, True), _newest_first(chosen, False)
    want = _old_sums(chosen)
    z_pages = -(-len(zs) // 100)
    assert z_pages >= 2 and len(moved) > 0
    web = OfficeWeb(office_db_url)
    try:
        web.login()
        filters = f"preset=custom&from={first}&to={last}&store=s2"
        status, html = web.get(f"/kas?{filters}")
        assert status == 200
        assert _seqs(html, "per-z") == zs[:100]
        assert _seqs(html, "moves") == moved[:100]
        assert f'<span class="total">{want["totals"]["zs"]}</span>' in html
        assert f'<span class="total">{want["totals"]["moves"]}</span>' in html
        keep = {"preset": ["custom"], "from": [str(first)], "to": [str(last)],
                "store": ["s2"]}
        links = _links(html, "per-z-pages")
        assert links["2"] == {**keep, "geld_pagina": ["1"], "z_pagina": ["2"]}
        assert links[str(z_pages)]["z_pagina"] == [str(z_pages)]
        assert "volgende ›" in links and "‹ vorige" not in links
        # page 2 of the Zs, then the last page; the movements' page stays where it was
        status, html = web.get(f"/kas?{filters}&z_pagina=2&geld_pagina=1")
        assert status == 200 and _seqs(html, "per-z") == zs[100:200]
        assert _seqs(html, "moves") == moved[:100]
        assert _links(html, "per-z-pages")["‹ vorige"]["z_pagina"] == ["1"]
        status, html = web.get(f"/kas?{filters}&z_pagina={z_pages}")
        assert _seqs(html, "per-z") == zs[100 * (z_pages - 1):]
        assert "volgende ›" not in _links(html, "per-z-pages")
        status, html = web.get(f"/kas?{filters}&z_pagina=9999&geld_pagina=x")
        assert status == 200 and _seqs(html, "per-z") == zs[100 * (z_pages - 1):]
        # the sums at the top are the same on every page
        cashiers = re.findall(r'<tr data-key="([^"]*)">', html)
        assert cashiers == [r["cashier"] for r in want["cashiers"]]
        # the Excel file lists every row, whatever page one is on
        with web.opener.open(f"{web.base}/kas/excel?{filters}&z_pagina=2",
                             timeout=20) as response:
            book = load_workbook(io.BytesIO(response.read()))
        assert len(list(book["Per Z"].iter_rows(min_row=4))) == len(zs)
        assert len(list(book["Kasbewegingen"].iter_rows(min_row=4))) == len(moved)
    finally:
        web.stop()


def test_the_chart_over_time_adds_the_days_up_per_week_or_month() -> None:
    from headoffice.exports.periods import Period
    from headoffice.web.cash_pages import over_time

    rng = random.Random(11)
    start = dt.date(2023, 12, 1)
    days = [{"day": (start + dt.timedelta(days=n)).isoformat(),
             "variance": rng.randint(-3000, 2000)} for n in range(0, 1096, 2)]
    short = Period(dt.date(2026, 3, 1), dt.date(2026, 4, 30), "range")
    in_short = [d for d in days if short.first <= d["day"] <= short.last]
    assert over_time(in_short, short) == (
        "dag", [f"{d['day'][8:]}-{d['day'][5:7]}-{d['day'][:4]}" for d in in_short],
        [d["variance"] for d in in_short])
    year = Period(dt.date(2025, 12, 1), dt.date(2026, 11, 30), "1y")
    in_year = [d for d in days if year.first <= d["day"] <= year.last]
    unit, labels, values = over_time(in_year, year)
    weeks: dict[tuple[int, int], int] = defaultdict(int)
    for d in in_year:
        weeks[dt.date.fromisoformat(d["day"]).isocalendar()[:2]] += d["variance"]
    assert unit == "week" and labels[0] == "wk 49 2025" and labels[-1] == "wk 48 2026"
    assert values == [weeks[k] for k in sorted(weeks)]
    whole = Period(start, dt.date(2026, 11, 30), "3y")
    unit, labels, values = over_time(days, whole)
    assert unit == "maand" and len(labels) == 36 and labels[:2] == ["12-2023", "01-2024"]
    assert sum(values) == sum(d["variance"] for d in days)
    assert over_time([], whole) == ("maand", [], [])
