"""The owner's sales report over a range, its comparisons, drill-down and Excel file, checked
against figures recomputed from the journal entries a real till wrote (SQLite and
PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from tests.office.owner_trading import BEFORE, DAY, YEAR_EARLIER, assert_cuts, recompute, trade


def test_sales_report_matches_the_journal(tmp_path, office_db_url) -> None:
    from headoffice.db import database_proxy
    from headoffice.exports.periods import Period
    from headoffice.web import queries
    from headoffice.web import report_queries as reports

    bodies = trade(tmp_path, database_proxy.obj)
    period = Period(DAY, DAY, "day")
    want = recompute(bodies, DAY, DAY)
    got = reports.report(period)
    o = got["overview"]
    assert want["tickets"] > 20 and want["turnover"] > 0
    assert (o.now["turnover"], o.now["tickets"]) == (want["turnover"], want["tickets"])
    assert o.now["basket"] == (2 * want["turnover"] + want["tickets"]) // (2 * want["tickets"])
    # the previous period (the day before) and the same day a year earlier
    assert o.previous == Period(BEFORE, BEFORE, "previous")
    assert (o.earlier.start, o.earlier.end) == (YEAR_EARLIER, YEAR_EARLIER)
    before, earlier = recompute(bodies, BEFORE, BEFORE), recompute(bodies, YEAR_EARLIER,
                                                                   YEAR_EARLIER)
    assert o.before["turnover"] == before["turnover"] != 0
    assert o.last_year["turnover"] == earlier["turnover"] != 0
    assert o.last_year["tickets"] == earlier["tickets"]
    delta = (want["turnover"] - earlier["turnover"]) * 1000 // abs(earlier["turnover"])
    assert o.vs_last_year["turnover"] == f"{'+' if delta >= 0 else '-'}{abs(delta) // 10}," \
                                         f"{abs(delta) % 10}%"
    # every cut adds up to the journal's own figures
    assert [(r["store"], r["turnover"]) for r in got["shop"]] == [("s1", want["turnover"])]
    assert [(r["terminal"], r["turnover"]) for r in got["terminal"]] == [("t1", want["turnover"])]
    assert_cuts(got, want)
    assert {r["product"]: r["gross"] for r in got["product"]} == \
        {k: v for k, v in want["product"].items() if v or want["product_qty"][k]}
    assert sum(r["gross"] for r in got["category"]) == sum(want["product"].values())
    # each cut's row beside the previous day and a year earlier
    [cashier] = [r for r in got["cashier"] if r["cashier"] == "Sanne"]
    assert (cashier["previous"], cashier["last_year"]) == \
        (before["cashier"]["Sanne"], earlier["cashier"]["Sanne"])
    [card] = [r for r in got["payment"] if r["kind"] == "card"]
    assert (card["previous"], card["last_year"]) == \
        (before["tender"]["card"], earlier["tender"]["card"])
    assert card["vs_previous"] == queries.change_percent(card["amount"], card["previous"])
    # drill-down: the tickets behind a figure add up to it
    for cut, value, figure in [("", "", want["turnover"]),
                               ("payment", "card", want["tender"]["card"]),
                               ("cashier", next(iter(want["cashier"])),
                                next(iter(want["cashier"].values())))]:
        tickets = reports.tickets_behind(period, cut=cut, value=value)
        assert tickets and all(t.ts.startswith(DAY.isoformat()) for t in tickets)
        if cut != "payment":  # a split payment's ticket holds more than its card part
            assert sum(t.total for t in tickets) == figure
    # every sold product is unknown to the master here: one category holds every ticket
    [category] = got["category"]
    assert len(reports.tickets_behind(period, cut="category", value=category["category"])) == \
        len(reports.tickets_behind(period))
    assert reports.tickets_behind(period, cut="category", value="Fruit") == []
    weekday, hour = max(want["heat"], key=lambda k: abs(want["heat"][k]))
    tickets = reports.tickets_behind(period, cut="heat", value=f"{weekday}:{hour}")
    assert sum(t.total for t in tickets) == want["heat"][(weekday, hour)]
    with pytest.raises(reports.ReportError):
        reports.tickets_behind(period, cut="colour", value="red")


def test_presets_and_year_earlier() -> None:
    from headoffice.web.report_queries import ReportError, preset, year_earlier

    today = dt.date(2026, 5, 14)  # a Thursday
    assert (preset("yesterday", today).start, preset("this_week", today).start) == \
        (dt.date(2026, 5, 13), dt.date(2026, 5, 11))
    assert (preset("last_week", today).start, preset("last_week", today).end) == \
        (dt.date(2026, 5, 4), dt.date(2026, 5, 10))
    assert (preset("last_month", today).start, preset("last_month", today).end) == \
        (dt.date(2026, 4, 1), dt.date(2026, 4, 30))
    assert (preset("this_quarter", today).start, preset("last_quarter", today).end) == \
        (dt.date(2026, 4, 1), dt.date(2026, 3, 31))
    assert preset("last_year", today).start == dt.date(2025, 1, 1)
    custom = preset("custom", today, "2024-02-29", "2024-03-02")
    assert (year_earlier(custom).start, year_earlier(custom).end) == \
        (dt.date(2023, 2, 28), dt.date(2023, 3, 2))
    for bad in [("soon", "", ""), ("custom", "2026-13-01", "2026-12-01"),
                ("custom", "2026-03-02", "2026-03-01")]:
        with pytest.raises(ReportError):
            preset(bad[0], today, bad[1], bad[2])


def test_sales_xlsx_reads_back(tmp_path, office_db_url) -> None:
    from openpyxl import load_workbook

    from headoffice.db import database_proxy
    from headoffice.exports.periods import Period
    from headoffice.web import report_queries as reports
    from headoffice.web.report_sheets import sales_xlsx

    trade(tmp_path, database_proxy.obj, sales=10)
    period = Period(DAY, DAY, "day")
    data = reports.report(period)
    book = load_workbook(io.BytesIO(sales_xlsx(period)))
    overview = book["Overzicht"]
    assert overview.cell(4, 2).value * 100 == pytest.approx(data["overview"].now["turnover"])
    assert overview.cell(4, 3).value == data["overview"].now["tickets"]
    assert overview.cell(6, 2).value * 100 == pytest.approx(data["overview"].last_year["turnover"])
    cashiers = {row[0]: (round(row[1] * 100), round(row[4] * 100), round(row[5] * 100))
                for row in book["Kassieres"].iter_rows(min_row=4, values_only=True)}
    assert cashiers == {r["cashier"]: (r["turnover"], r["previous"], r["last_year"])
                        for r in data["cashier"]}
    heat = book["Uur x weekdag"]
    assert round(heat.cell(4 + DAY.weekday(), 2 + 9).value * 100) == data["heat"][DAY.weekday()][9]


def test_cli_report_text_and_xlsx(tmp_path, office_db_url) -> None:
    import subprocess
    import sys

    from openpyxl import load_workbook

    from headoffice import db as office_db
    from headoffice.exports.periods import Period
    from headoffice.web import report_queries as reports
    from tests.uplink.harness import ROOT

    trade(tmp_path, office_db.database_proxy.obj, sales=8)
    now = reports.overview(Period(DAY, DAY, "day")).now
    base = [sys.executable, "-m", "cli", "office", "--db", office_db_url, "report"]
    shown = subprocess.run([*base, "sales", "--period", DAY.isoformat()], cwd=ROOT,
                           capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert "== Kassieres" in shown.stdout and f" {now['tickets']}" in shown.stdout
    out = tmp_path / "verkoop.xlsx"
    made = subprocess.run([*base, "sales", "--period", DAY.isoformat(), "--xlsx", str(out)],
                          cwd=ROOT, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert round(load_workbook(out)["Overzicht"].cell(4, 2).value * 100) == now["turnover"]
    for kind, sheet in (("margin", "== Zonder kostprijs"), ("discounts", "== Per kassier")):
        shown = subprocess.run([*base, kind, "--period", f"{DAY}..{DAY}"], cwd=ROOT,
                               capture_output=True, text=True)
        assert shown.returncode == 0 and sheet in shown.stdout, shown.stderr
    bad = subprocess.run([*base, "sales", "--period", "someday"], cwd=ROOT, capture_output=True,
                         text=True)
    assert bad.returncode == 2 and "someday" in bad.stderr
    bad = subprocess.run([*base, "weather"], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and "weather" in bad.stderr
