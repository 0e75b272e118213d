"""The dashboard's Z pages as the owner reads them: the list (Z number, Dutch date in
Europe/Amsterdam, terminal, turnover, cash variance) and one Z beside head office's rebuild,
money as `€ 1.234,56`, Dutch labels, a differing row marked. Served by `kassa office web`
as its own process, fed by real tills through the ingest's own batch code."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import itertools
import json
import re
from zoneinfo import ZoneInfo

import pytest

from contract.money import format_money
from headoffice.exports.zreports import check_z, local_date, z_rows
from tests.office.helpers import OfficeWeb, enroll, feed, make_till, payloads, shop_day

# t2 closes late in the evening UTC: after midnight on the owner's clock (winter, UTC+1)
LATE = dt.datetime(2026, 12, 1, 23, 0, tzinfo=dt.UTC)
ENGLISH = ("turnover", "tickets", "variance", "rounding", "refunds", "voids", "Cash", "Card",
           "expected", "counted", "grand", "approved", "Tenders", "Entry", "Time", "Store")


def _zs() -> dict[str, dict]:
    from headoffice.models import OfficeEntry

    rows = OfficeEntry.select().where(OfficeEntry.type == "z_close")
    return {row.terminal: {"seq": row.seq, "ts": row.ts, "data": json.loads(row.body)["data"]}
            for row in rows}


def _late_clock():
    """A journal clock from 23:00 UTC on 1 December 2026, one second per entry."""
    ticks = itertools.count()
    return lambda: (LATE + dt.timedelta(seconds=next(ticks))).isoformat(timespec="milliseconds")


@pytest.fixture
def zs(tmp_path, office_db_url):
    from headoffice.db import database_proxy

    db = database_proxy.obj
    for number, terminal in enumerate(("t1", "t2")):
        # firmware models bind to the last opened terminal database: finish one till first
        till = make_till(tmp_path / terminal, "s1", terminal)
        enroll(till)
        if terminal == "t2":
            till.journal.clock = _late_clock()
        shop_day(till, sales=12, seed=number + 7)
        feed(db, payloads(till))
        till.db.close()
    return office_db_url


def _row(page: str, key: str) -> tuple[str, list[str]]:
    """(class, cells' text) of the detail table's row of one figure."""
    match = re.search(rf'<tr class="([^"]*)" data-key="{re.escape(key)}">(.*?)</tr>', page, re.S)
    assert match, key
    cells = [html_lib.unescape(re.sub(r"<[^>]+>", "", c)).strip()
             for c in re.findall(r"<td[^>]*>(.*?)</td>", match[2], re.S)]
    return match[1], cells


def _visible(page: str) -> str:
    main = page[page.index("<main>"):]
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", main))


def test_z_list_shows_number_dutch_date_terminal_turnover_and_variance(zs):
    stored = _zs()
    web = OfficeWeb(zs)
    try:
        web.login()
        status, page = web.get("/z")
        assert status == 200, page
        rows = re.findall(r'<tr class="z" data-terminal="(\w+)" data-seq="(\d+)">(.*?)</tr>',
                          page, re.S)
        assert {r[0] for r in rows} == {"t1", "t2"}
        for terminal, seq, cells_html in rows:
            z = stored[terminal]
            cells = [html_lib.unescape(re.sub(r"<[^>]+>", "", c)).strip()
                     for c in re.findall(r"<td[^>]*>(.*?)</td>", cells_html, re.S)]
            assert int(seq) == z["seq"]
            number, date, _time, store, term, turnover, variance, link = cells
            assert (number, store, term) == ("1", "s1", terminal)
            assert re.fullmatch(r"\d\d-\d\d-\d{4}", date)
            assert date == local_date(z["ts"])
            assert turnover == format_money(z["data"]["turnover"]) and turnover.startswith("€")
            assert variance == format_money(-750)  # shop_day counts 7,50 short
            assert link == "bekijken en controleren"
        # the Z made at 23:0x UTC on 1 December is dated 2 December, 00:0x in Amsterdam
        late = next(r for r in rows if r[0] == "t2")[2]
        amsterdam = dt.datetime.fromisoformat(stored["t2"]["ts"]).astimezone(
            ZoneInfo("Europe/Amsterdam"))
        assert "02-12-2026" in late and amsterdam.strftime("%H:%M") in late
        assert "2026-12-01" not in page and "+00:00" not in page
        assert str(stored["t1"]["data"]["turnover"]) not in page  # no raw cents
        status, one_shop = web.get("/z?store=elders")
        assert status == 200 and "Nog geen Z-rapporten ontvangen." in one_shop
    finally:
        web.stop()


def test_z_detail_shows_the_terminals_z_beside_the_rebuild_in_dutch(zs):
    z = _zs()["t1"]
    web = OfficeWeb(zs)
    try:
        web.login()
        status, page = web.get(f"/z/t1/{z['seq']}")
        assert status == 200, page
        assert "Z-rapport nr 1" in page
        assert "klopt, elk bedrag is gelijk aan de Z van de terminal" in page
        data = z["data"]
        nbsp = "\u00a0"
        for key, value in (("turnover", data["turnover"]), ("variance", data["variance"]),
                           ("cash.expected", data["cash"]["expected"]),
                           ("grand_totals.sales", data["grand_totals"]["sales"])):
            kind, cells = _row(page, key)
            assert kind == "same"
            assert cells[1] == cells[2] == format_money(value), key
            assert cells[1].startswith(f"€{nbsp}") or cells[1].startswith(f"€{nbsp}-")
        assert _row(page, "turnover")[1][0] == "Omzet (incl. btw)"
        assert _row(page, "tickets")[1] == ["Aantal bonnen", str(data["tickets"]),
                                            str(data["tickets"]), "✓"]
        assert _row(page, "variance")[1][0] == "Kasverschil (geteld - verwacht)"
        high = next(v for v in data["vat"] if v["code"] == "high")
        assert _row(page, "vat.high.2100.vat")[1][:3] == ["Btw hoog 21%: btw",
                                                         format_money(high["vat"]),
                                                         format_money(high["vat"])]
        cash = next(t for t in data["tenders"] if t["kind"] == "cash")
        assert _row(page, "tenders.cash.amount")[1][:2] == ["Contant: bedrag",
                                                           format_money(cash["amount"])]
        assert "differs" not in page
        # every row of the rebuild is on the page, each with both columns
        rows = z_rows(check_z("t1", z["seq"]))
        assert len(re.findall(r'data-key="', page)) == len(rows) > 40
        text = _visible(page)
        for word in ENGLISH:
            assert not re.search(rf"\b{word}\b", text), word
        status, missing = web.get("/z/t1/99999")
        assert status == 404 and "heeft geen Z-rapport" in missing
    finally:
        web.stop()


def test_a_z_that_differs_from_its_journal_is_marked_row_by_row(zs):
    from headoffice.models import OfficeEntry

    z = _zs()["t2"]
    row = OfficeEntry.get((OfficeEntry.terminal == "t2") & (OfficeEntry.seq == z["seq"]))
    body = json.loads(row.body)
    body["data"]["turnover"] += 100  # a till that prints more turnover than it journaled
    OfficeEntry.update(body=json.dumps(body)).where(OfficeEntry.id == row.id).execute()
    web = OfficeWeb(zs)
    try:
        web.login()
        status, page = web.get(f"/z/t2/{z['seq']}")
        assert status == 200, page
        assert re.search(r'id="zresult">1 afwijkende regel', page)
        kind, cells = _row(page, "turnover")
        assert "differs" in kind
        assert cells == ["Omzet (incl. btw)", format_money(z["data"]["turnover"] + 100),
                         format_money(z["data"]["turnover"]), "≠ wijkt af"]
        assert _row(page, "tickets")[0] == "same"
        assert page.count('class="bad differs"') == 1
    finally:
        web.stop()
