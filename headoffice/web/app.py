"""The dashboard application: login, live today, periods, terminals, Z archive, alerts, VAT
return, exports."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from headoffice import registry
from headoffice.alerts import board
from headoffice.alerts.settings import OfficeSettings
from headoffice.exports.manifest import build_export
from headoffice.exports.periods import Period, PeriodError, around, parse_period
from headoffice.exports.vat import vat_csv, vat_report
from headoffice.exports.xaf import build_xaf
from headoffice.exports.zreports import check_z, z_list, z_rows, z_stores
from headoffice.promotion_report import promotion_figures
from headoffice.releases import rollout
from headoffice.web import (
    auth_pages,
    cash_pages,
    catalogue_pages,
    customer_pages,
    queries,
    receipt_pages,
    report_pages,
    sessions,
    shop,
    stock_pages,
    summary_pages,
    webshop_pages,
)
from headoffice.web.auth import SecurityHeaders, ServerSessions
from headoffice.web.common import (
    bad_page,
    forbidden,
    lang,
    page,
    public,
    requires,
    scoped_store,
    shops_of,
)
from headoffice.web.i18n import COOKIE, LANGUAGES, chart_label, now_local, translator
from headoffice.web.margin_fill import MarginFill
from headoffice.web.roles import Role
from headoffice.web.templating import HERE


def _today() -> dt.date:
    return now_local().date()


def _day(request: Request) -> dt.date:
    text = request.query_params.get("day")
    return dt.date.fromisoformat(text) if text else _today()


@public("sets the language cookie only")
def set_language(request: Request) -> Response:
    """The English/Dutch switch: a cookie, so it holds on the login page and after logout."""
    chosen = request.path_params["lang"]
    target = request.query_params.get("next", "/")
    response = RedirectResponse(target if target.startswith("/") else "/", status_code=303)
    if chosen in LANGUAGES:
        response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="strict")
    return response


@requires(Role.OWNER, Role.MANAGER, Role.ACCOUNTANT, shop_scoped=True)
def dashboard(request: Request) -> Response:
    try:
        day = _day(request)
    except ValueError:
        return bad_page(request, "Ongeldige datum: gebruik JJJJ-MM-DD")
    return page(request, "dashboard.html", data=queries.live(day, lang(request),
                                                             shops_of(request)))


@requires(Role.OWNER, Role.MANAGER, Role.ACCOUNTANT, shop_scoped=True)
def api_live(request: Request) -> Response:
    try:
        day = _day(request)
    except ValueError:
        return JSONResponse({"error": translator(lang(request))(
            "Ongeldige datum: gebruik JJJJ-MM-DD")}, status_code=400)
    return JSONResponse(queries.live(day, lang(request), shops_of(request)))


def _period_of(request: Request) -> Period:
    kind = request.query_params.get("kind", "day")
    text = request.query_params.get("date")
    day = dt.date.fromisoformat(text) if text else _today()
    return around(kind, day)


@requires(Role.OWNER, Role.MANAGER, Role.ACCOUNTANT, shop_scoped=True)
def period_view(request: Request) -> Response:
    try:
        period = _period_of(request)
    except (ValueError, PeriodError):
        return bad_page(request, "Ongeldige periode",
                    f"{request.query_params.get('kind', '')} {request.query_params.get('date', '')}")
    store = scoped_store(request, request.query_params.get("store"))
    shops = shops_of(request)
    previous = period.previous()
    now, before = queries.totals(period, store), queries.totals(previous, store)
    labels, values = queries.series(period, store)
    _, previous_values = queries.series(previous, store)
    compare = {key: queries.change_percent(now[key], before[key])
               for key in ("turnover", "tickets", "basket", "items", "refunds", "voids",
                             "voided_open")}
    return page(request, "period.html", period=period, previous=previous, now=now, before=before,
                 compare=compare, labels=[chart_label(label) for label in labels], values=values,
                 previous_values=previous_values,
                 top=queries.top_products(period, store),
                 stores=[r for r in queries.by_store(period) if shops is None or r["store"] in shops],
                 promotions=promotion_figures(period.first, period.last, store),
                 kind=request.query_params.get("kind", "day"), store=store or "")


@requires(Role.OWNER, Role.FLEET)
def terminals(request: Request) -> Response:
    keys = {t.terminal_id: t for t in registry.list_terminals()}  # public key, fingerprint
    return page(request, "terminals.html", terminals=queries.terminals(), keys=keys,
                 seq_text=queries.SEQUENCE_TEXT,
                 refused=queries.dead_letters_by_terminal(),
                 versions=rollout.terminal_versions(), rollouts=rollout.progress()[:5])


@requires(Role.OWNER, Role.MANAGER, Role.ACCOUNTANT, shop_scoped=True)
def z_archive(request: Request) -> Response:
    """The newest Z closes: number, Dutch date, terminal, turnover and cash variance."""
    store = scoped_store(request, request.query_params.get("store"))
    shops = shops_of(request)
    return page(request, "z.html", rows=z_list(store), store=store or "",
                 stores=[s for s in z_stores() if shops is None or s in shops])


@requires(Role.OWNER, Role.MANAGER, Role.ACCOUNTANT, shop_scoped=True)
def z_detail(request: Request) -> Response:
    """One Z beside head office's rebuild of it, row by row; a differing row is marked."""
    terminal, seq = request.path_params["terminal"], int(request.path_params["seq"])
    shops = shops_of(request)
    if shops is not None and queries.store_of_entry(terminal, seq) not in shops:
        return forbidden(request, terminal)
    try:
        check = check_z(terminal, seq)
    except LookupError:
        return PlainTextResponse(f"Terminal {terminal} heeft geen Z-rapport bij journaalregel "
                                 f"{seq}.", status_code=404)
    rows = z_rows(check)
    return page(request, "z_detail.html", check=check, rows=rows,
                 differing=sum(1 for row in rows if row.differs) + len(check.gaps))


@requires(Role.OWNER, Role.MANAGER, shop_scoped=True)
def alerts(request: Request) -> Response:
    return page(request, "alerts.html",
                alerts=queries.recent_alerts(200, lang(request), shops_of(request)))


@requires(Role.OWNER, Role.MANAGER, shop_scoped=True, audited="alert_ack")
def acknowledge_alert(request: Request) -> Response:
    """The owner's 'seen' button: stored with who and when (append-only), then back to the list;
    the guard writes the audit row with where from."""
    shops = shops_of(request)
    if shops is not None and queries.store_of_alert(request.path_params["alert_id"]) not in shops:
        return forbidden(request, str(request.path_params["alert_id"]))
    try:
        board.acknowledge(request.path_params["alert_id"], str(request.session["user"]))
    except board.UnknownAlert:
        return page(request, "error.html", status_code=404,
                     message="Deze melding bestaat niet", detail="")
    return RedirectResponse("/alerts", status_code=303)


@requires(Role.OWNER)
def shop_status(request: Request) -> Response:
    return page(request, "shop.html", s=shop.status())


@requires(Role.OWNER, Role.ACCOUNTANT)
def vat_return(request: Request) -> Response:
    """The VAT return of a period on screen, box by box, with exempt turnover beside it."""
    today = _today()
    text = request.query_params.get("period") or today.strftime("%Y-%m")
    store = request.query_params.get("store") or None
    try:
        period = parse_period(text)
    except PeriodError:
        return bad_page(request, "Ongeldige periode", text)
    month = today.replace(day=1)
    last_month = (month - dt.timedelta(days=1)).strftime("%Y-%m")
    quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    previous_quarter = parse_period(quarter).previous().start
    choices = [(month.strftime("%Y-%m"), "deze maand"), (last_month, "vorige maand"),
               (quarter, "dit kwartaal"),
               (f"{previous_quarter.year}-Q{(previous_quarter.month - 1) // 3 + 1}",
                "vorig kwartaal"), (str(today.year), "dit jaar")]
    stores = sorted({r["store"] for r in queries.by_store(around("year", today))})
    return page(request, "vat.html", report=vat_report(period, store), period=period,
                 period_text=text, store=store or "", stores=stores, choices=choices)


@requires(Role.OWNER, Role.ACCOUNTANT)
def exports(request: Request) -> Response:
    today = _today()
    return page(request, "exports.html", month=today.strftime("%Y-%m"), year=str(today.year),
                 stores=sorted({r["store"] for r in queries.by_store(around("year", today))}))


def _download(body: str | bytes, filename: str, media: str) -> Response:
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@requires(Role.OWNER, Role.ACCOUNTANT, audited="export")
def export_file(request: Request) -> Response:
    """VAT CSV, XAF auditfile or the signed journal; the guard audits each file handed out."""
    kind = request.path_params["kind"]
    store = request.query_params.get("store") or None
    try:
        period = parse_period(request.query_params.get("period", str(_today().year)))
    except PeriodError:
        return bad_page(request, "Ongeldige periode", request.query_params.get("period", ""))
    settings: OfficeSettings = request.app.state.settings
    tag = f"{store or 'all'}-{period.label}".replace("..", "_")
    if kind == "vat":
        return _download(vat_csv(vat_report(period, store)), f"btw-{tag}.csv",
                         "text/csv; charset=utf-8")
    if kind == "xaf":  # no shop chosen: every shop of the company in one auditfile
        data = build_xaf(store, period, settings.company, settings.accounts)
        return _download(data, f"auditfile-{tag}.xaf", "application/xml")
    if kind in ("csv", "jsonl"):  # the data with its signed manifest, in one zip
        export = build_export(period, kind, store, name=f"journal-{tag}.{kind}")
        return _download(export.zip_bytes(), f"journal-{tag}.zip", "application/zip")
    return page(request, "error.html", status_code=404, message="Onbekend soort export",
                 detail=kind)


class ServerTiming:
    """Adds `Server-Timing: app;dur=<ms>` so the time spent in the server can be measured."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def timed_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                ms = (time.perf_counter() - start) * 1000
                message["headers"] = [*message.get("headers", []),
                                      (b"server-timing", f"app;dur={ms:.2f}".encode())]
            await send(message)

        await self.app(scope, receive, timed_send)


def _lifespan(fill_margin: bool) -> Callable[[Starlette], Any]:
    """What runs beside the web service: the margin's kept months filled in the background
    (headoffice/web/margin_fill.py), so the first report over years does not compute them."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        filling = MarginFill() if fill_margin else None
        if filling is not None:
            filling.start()
        try:
            yield
        finally:
            if filling is not None:
                filling.stop()

    return lifespan


def create_app(settings: OfficeSettings, idle_seconds: float = sessions.IDLE_SECONDS,
               fill_margin: bool = False) -> Starlette:
    """The dashboard; `fill_margin`: fill the margin's kept months once it starts (the
    service does; tests and benchmarks that build their own data leave it off)."""
    app = Starlette(
        lifespan=_lifespan(fill_margin),
        routes=[
            *auth_pages.ROUTES,
            Route("/taal/{lang}", set_language),
            Route("/", dashboard),
            Route("/api/live", api_live),
            Route("/period", period_view),
            Route("/terminals", terminals),
            Route("/z", z_archive),
            Route("/z/{terminal}/{seq:int}", z_detail),
            Route("/alerts", alerts),
            Route("/alerts/{alert_id:int}/ack", acknowledge_alert, methods=["POST"]),
            Route("/shop", shop_status),
            Route("/unsubscribe/{token}", public("the mail's own unguessable token")(
                shop.unsubscribe), methods=["GET", "POST"]),
            Route("/vat", vat_return),
            Route("/exports", exports),
            Route("/export/{kind}", export_file),
            *catalogue_pages.ROUTES,
            *stock_pages.ROUTES,
            *customer_pages.ROUTES,
            *webshop_pages.ROUTES,
            *report_pages.ROUTES,
            *receipt_pages.ROUTES,
            *cash_pages.ROUTES,
            *summary_pages.ROUTES,
            Mount("/static", public("the page's own script and style files, no data")(
                StaticFiles(directory=str(HERE / "static"))), name="static"),
        ],
        middleware=[Middleware(ServerTiming), Middleware(SecurityHeaders),
                    Middleware(ServerSessions, idle_seconds=idle_seconds)],
    )
    app.state.settings = settings
    return app
