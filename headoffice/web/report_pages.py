"""The owner's report pages: sales over any range (with the previous period and a year
earlier), the tickets behind a figure, and each report as an Excel file and a PDF.

The figures come from headoffice.web.report_queries (the aggregates, contract.figures'
definitions); the Excel file from headoffice.web.report_sheets and the PDF from its sheets
(headoffice.web.report_pdf), so page and files agree."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from headoffice.exports.periods import Period
from headoffice.web import discount_queries as discounts
from headoffice.web import margin_queries as margins
from headoffice.web import report_pdf, report_sheets
from headoffice.web import report_queries as reports
from headoffice.web.common import bad_page, lang, page, requires
from headoffice.web.i18n import now_local
from headoffice.web.roles import Role

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _chosen(request: Request) -> tuple[Period, str | None, dict[str, str]]:
    """The range and shop of a request (preset, from, to, store); ReportError when bad."""
    q = request.query_params
    name = q.get("preset") or ("custom" if q.get("from") else "this_month")
    period = reports.preset(name, now_local().date(), q.get("from", ""), q.get("to", ""))
    store = q.get("store") or None
    params = {"preset": name, "store": store or ""}
    if name == "custom":
        params.update({"from": period.first, "to": period.last})
    return period, store, params


def _stores() -> list[str]:
    today = now_local().date()
    return sorted({r["store"] for r in reports.by_shop(Period(today.replace(year=today.year - 3),
                                                              today, "stores"))})


def _common(request: Request, period: Period, store: str | None,
            params: dict[str, str]) -> dict[str, Any]:
    return {"period": period, "store": store or "", "params": params, "query": urlencode(params),
            "presets": reports.PRESETS, "preset_names": reports.PRESET_NAMES,
            "stores": _stores()}


def ranged(view: Callable[[Request, Period, str | None, dict[str, str]], Response]):
    """A report view given the request's range and shop; a bad range gets a 400 page naming it."""
    @wraps(view)
    def wrapper(request: Request) -> Response:
        try:
            period, store, params = _chosen(request)
        except reports.ReportError as exc:
            return bad_page(request, "Ongeldige periode", str(exc))
        return view(request, period, store, params)
    return wrapper


@requires(Role.OWNER, Role.ACCOUNTANT)  # company-wide figures, no personal data
@ranged
def sales_page(request: Request, period: Period, store: str | None,
               params: dict[str, str]) -> Response:
    data = reports.report(period, store)
    peak = max((v for row in data["heat"] for v in row), default=0)
    return page(request, "report_sales.html", nav="report", r=data, peak=peak,
                weekdays=reports.WEEKDAYS, **_common(request, period, store, params))


@requires(Role.OWNER, Role.ACCOUNTANT)  # company-wide figures, no personal data
def tickets_page(request: Request) -> Response:
    """The drill-down: the tickets behind one figure (cut and value as in the links)."""
    q = request.query_params
    try:
        period, store, params = _chosen(request)
        cut, value = q.get("cut", ""), q.get("value", "")
        terminal = q.get("terminal") or (value if cut == "terminal" else None)
        store = value if cut == "shop" and value else store
        tickets = reports.tickets_behind(period, store, terminal, cut, value)
    except ValueError as exc:  # a ReportError, or a drill value that is not weekday:hour
        return bad_page(request, "Ongeldige keuze", str(exc))
    return page(request, "report_tickets.html", nav="report", tickets=tickets,
                cut=cut, value=value, terminal=terminal or "",
                total=sum(t.total for t in tickets), **_common(request, period, store, params))


@requires(Role.OWNER, Role.ACCOUNTANT)  # company-wide figures, no personal data
@ranged
def margin_page(request: Request, period: Period, store: str | None,
                params: dict[str, str]) -> Response:
    report = margins.margin(period, store)
    return page(request, "report_margin.html", nav="report", m=report,
                row=margins.as_dict, **_common(request, period, store, params))


@requires(Role.OWNER, Role.ACCOUNTANT)  # company-wide figures, no personal data
@ranged
def discounts_page(request: Request, period: Period, store: str | None,
                   params: dict[str, str]) -> Response:
    return page(request, "report_discounts.html", nav="report",
                d=discounts.discounts(period, store), kinds=discounts.KINDS,
                kind_names=discounts.KIND_NAMES, **_common(request, period, store, params))


def download(body: bytes, name: str, media_type: str = XLSX) -> Response:
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def file_tag(period: Period, store: str | None) -> str:
    return f"{store or 'alle'}-{period.first}-{period.last}"


FILE_NAMES = {"sales": "verkoop", "margin": "marge", "discounts": "kortingen"}


@requires(Role.OWNER, Role.ACCOUNTANT, audited="export")  # company-wide, no personal data
@ranged
def report_file(request: Request, period: Period, store: str | None,
                _params: dict[str, str]) -> Response:
    """The report as Excel (/rapport/excel/KIND) or as PDF in the reader's language
    (/rapport/pdf/KIND): the same sheets, so the same figures."""
    kind = request.path_params["kind"]
    if kind not in FILE_NAMES:
        return bad_page(request, "Onbekend rapport", kind)
    name = f"{FILE_NAMES[kind]}-{file_tag(period, store)}"
    if request.url.path.startswith("/rapport/pdf/"):
        return download(report_pdf.pdf(kind, period, store, lang(request)), f"{name}.pdf",
                        report_pdf.PDF)
    return download(report_sheets.xlsx(kind, period, store), f"{name}.xlsx")


ROUTES = [
    Route("/rapport", sales_page),
    Route("/rapport/bonnen", tickets_page),
    Route("/rapport/marge", margin_page),
    Route("/rapport/kortingen", discounts_page),
    Route("/rapport/excel/{kind}", report_file),
    Route("/rapport/pdf/{kind}", report_file),
]
