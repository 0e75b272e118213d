"""The cash page: cash variance per day and per cashier over a date range (charts and a
table), every Z and the float and cash in/out history a page at a time (newest first), and
all of it as an Excel file. A shop manager sees their own shops only."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from headoffice.exports.periods import Period
from headoffice.exports.report_xlsx import Sheet, workbook
from headoffice.exports.zreports import z_stores
from headoffice.web import cash_queries as cash
from headoffice.web import report_queries as reports
from headoffice.web.common import bad_page, page, requires, scoped_store, shops_of
from headoffice.web.i18n import now_local
from headoffice.web.paging import Pager, page_number
from headoffice.web.report_pages import download, file_tag
from headoffice.web.roles import Role

Z_PAGE, MOVE_PAGE = "z_pagina", "geld_pagina"  # the lists' page numbers in the address
OVER_TIME_TITLES = {"dag": "Kasverschil per dag", "week": "Kasverschil per week",
                    "maand": "Kasverschil per maand"}
MOVE_NAMES = {"float": "wisselgeld begin", "cash_in": "geld in", "cash_out": "geld uit"}


def _chosen(request: Request) -> tuple[Period, str | None, dict[str, str]]:
    """The range (preset or from/to) and shop of a request; ReportError when bad."""
    q = request.query_params
    name = q.get("preset") or ("custom" if q.get("from") else "this_month")
    period = reports.preset(name, now_local().date(), q.get("from", ""), q.get("to", ""))
    store = scoped_store(request, q.get("store"))
    params = {"preset": name, "store": store or ""}
    if name == "custom":
        params.update({"from": period.first, "to": period.last})
    return period, store, params


def cash_sheets(data: dict[str, Any]) -> list[Sheet]:
    t = data["totals"]
    return [
        Sheet("Overzicht", ["", "Bedrag"], [
            ["Z-rapporten", t["zs"]], ["Kasverschil", t["variance"]], ["Tekort", t["short"]],
            ["Over", t["over"]], ["Wisselgeld begin", t["float"]], ["Geld in", t["cash_in"]],
            ["Geld uit", t["cash_out"]]], money=(1,)),
        Sheet("Per Z", ["Datum", "Winkel", "Terminal", "Z-nr", "Kassier", "Wisselgeld begin",
                        "Geld in", "Geld uit", "Contant ontvangen", "Verwacht", "Geteld",
                        "Verschil"],
              [[z.day, z.store, z.terminal, z.z_number, z.cashier, z.float, z.cash_in,
                z.cash_out, z.cash_tenders, z.expected, z.counted, z.variance]
               for z in data["zs"]], money=range(5, 12)),
        Sheet("Per kassier", ["Kassier", "Z-rapporten", "Verschil", "Tekort", "Over"],
              [[r["cashier"], r["zs"], r["variance"], r["short"], r["over"]]
               for r in data["cashiers"]], money=(2, 3, 4)),
        Sheet("Kasbewegingen", ["Datum", "Tijd", "Winkel", "Terminal", "Nr", "Soort", "Kassier",
                                "Bedrag", "Reden", "Goedgekeurd door"],
              [[m.day, m.ts[11:19], m.store, m.terminal, m.seq, MOVE_NAMES[m.type], m.cashier,
                m.amount, m.reason, m.approved_by] for m in data["moves"]], money=(7,)),
    ]


def over_time(days: list[dict[str, Any]], period: Period) -> tuple[str, list[str], list[int]]:
    """The variance over time for the chart: per day over up to two months, per week
    (ISO) up to a year, per month beyond, as a bar per day over years is too thin to read.
    (unit, labels, cents); the figures are the per-day sums added up."""
    length = (period.end - period.start).days + 1
    unit = "dag" if length <= 62 else "week" if length <= 366 else "maand"
    sums: dict[str, int] = {}
    for row in days:  # oldest first, so the labels come in order
        day = dt.date.fromisoformat(row["day"])
        if unit == "dag":
            label = f"{day:%d-%m-%Y}"
        elif unit == "week":
            year, week, _weekday = day.isocalendar()
            label = f"wk {week} {year}"
        else:
            label = f"{day:%m-%Y}"
        sums[label] = sums.get(label, 0) + row["variance"]
    return unit, list(sums), list(sums.values())


def _stores(request: Request) -> list[str]:
    shops = shops_of(request)
    return [s for s in z_stores() if shops is None or s in shops]


@requires(Role.OWNER, Role.MANAGER, Role.ACCOUNTANT, shop_scoped=True)
def cash_page(request: Request) -> Response:
    try:
        period, store, params = _chosen(request)
    except reports.ReportError as exc:
        return bad_page(request, "Ongeldige periode", str(exc))
    q = request.query_params
    data = cash.cash_page(period, shops_of(request), store, page_number(q.get(Z_PAGE)),
                          page_number(q.get(MOVE_PAGE)))
    t = data["totals"]
    z_pager = Pager(data["z_page"], t["zs"], Z_PAGE, "/kas",
                    {**params, MOVE_PAGE: str(data["move_page"])}, "z-lijst")
    move_pager = Pager(data["move_page"], t["moves"], MOVE_PAGE, "/kas",
                       {**params, Z_PAGE: str(data["z_page"])}, "geld-lijst")
    unit, labels, values = over_time(data["days"], period)
    chart = {"title": OVER_TIME_TITLES[unit], "day_labels": labels, "day_values": values,
             "cashier_labels": [r["cashier"] or "-" for r in data["cashiers"]],
             "cashier_values": [r["variance"] for r in data["cashiers"]]}
    return page(request, "cash.html", nav="cash", c=data, chart=chart, period=period,
                store=store or "", params=params, query=urlencode(params),
                presets=reports.PRESETS, preset_names=reports.PRESET_NAMES,
                stores=_stores(request), move_names=MOVE_NAMES, z_pager=z_pager,
                move_pager=move_pager)


@requires(Role.OWNER, Role.MANAGER, Role.ACCOUNTANT, shop_scoped=True,
          audited="export")
def cash_xlsx(request: Request) -> Response:
    try:
        period, store, _params = _chosen(request)
    except reports.ReportError as exc:
        return bad_page(request, "Ongeldige periode", str(exc))
    data = cash.cash_report(period, shops_of(request), store)
    heading = f"Kasgeld {period.first} t/m {period.last} {store or 'alle winkels'}"
    return download(workbook(cash_sheets(data), heading),
                    f"kasgeld-{file_tag(period, store)}.xlsx")


ROUTES = [
    Route("/kas", cash_page),
    Route("/kas/excel", cash_xlsx),
]
