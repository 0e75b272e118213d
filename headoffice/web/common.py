"""What every dashboard view shares: the access declaration (`@requires(...)` or `@public`),
the audit of what a user did, the reader's language, page rendering.

Every route must carry one of the two declarations; tests/office/test_route_access.py scans
the app and fails for a route without. `requires` answers 401/login-redirect without a
session, 403 for a role not listed, and for a shop-scoped route 403 when a shop manager asks
for a shop (a `store` query or path parameter) that is not theirs; the view then narrows its
figures with `scoped_store` / `shops_of`.

Auditing is part of the same declaration, so a route cannot hand out a file or change
something without a row in the audit trail: after a successful answer (below 400) that is a
download (`Content-Disposition: attachment`) or answers a method other than GET, the guard
records who, from where, the method and path with its query, and the form fields the route
names in `audit_form` (only those: a form may hold personal data, and the trail keeps
everything forever). `audited=` names the action (`export`, `catalogue`, `user_{action}` with
path parameters filled in); a route without it still gets a row (`export` or `change`). A view
that records something the declaration cannot see calls `audit(request, action, detail)`.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from functools import wraps
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from headoffice.web import audit_trail
from headoffice.web.i18n import language, translator
from headoffice.web.roles import DUTCH, Access, Role
from headoffice.web.templating import templates

ACCESS_ATTR = "__office_access__"
SECRET_FIELDS = ("password", "code", "secret", "token", "totp")  # never in an audit row


@dataclass(frozen=True)
class Rule:
    """A route's declaration: the roles that may open it (empty: public, no login)."""

    roles: frozenset[Role]
    shop_scoped: bool = False
    why_public: str = ""
    audited: str = ""  # the audit action of a download or change ("" : export or change)
    audit_form: tuple[str, ...] = ()  # the form fields the audit row may keep


def access(request: Request) -> Access | None:
    """The signed-in user's reach (set by the session middleware), or None."""
    return getattr(request.state, "access", None)


def shops_of(request: Request) -> frozenset[str] | None:
    """The shops the user may see: None for every shop."""
    reach = access(request)
    return None if reach is None else reach.shops


class ShopRefused(PermissionError):
    """A shop manager asked for a shop that is not theirs."""

    def __init__(self, store: str) -> None:
        super().__init__(f"shop {store!r} is not one of yours")
        self.store = store


def scoped_store(request: Request, asked: str | None) -> str | None:
    """The shop a view shows: what was asked if the user may see it; for a shop manager who
    asked for none, their first shop (never the whole company)."""
    shops = shops_of(request)
    if shops is None:
        return asked or None
    if asked:
        if asked not in shops:
            raise ShopRefused(asked)
        return asked
    return sorted(shops)[0]


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path.startswith("/export/")


def forbidden(request: Request, detail: str = "") -> Response:
    if _is_api(request):
        return JSONResponse({"error": translator(lang(request))("geen toegang"),
                             "detail": detail}, status_code=403)
    return page(request, "error.html", status_code=403, message="geen toegang", detail=detail)


def _refused(request: Request, rule: Rule) -> Response | None:
    reach = access(request)
    if reach is None:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": translator(lang(request))("niet ingelogd")},
                                status_code=401)
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    if reach.role not in rule.roles:
        return forbidden(request, reach.role.value)
    if reach.shops is not None:
        if not rule.shop_scoped:
            return forbidden(request, reach.role.value)
        asked = request.query_params.get("store") or request.path_params.get("store")
        if asked and asked not in reach.shops:
            return forbidden(request, asked)
    return None


def client_address(request: Request) -> str:
    """Where a request came from: the client's address (behind a reverse proxy, the one the
    server was told to trust; see docs/operations/office-access.md)."""
    return request.client.host if request.client else ""


def audit(request: Request, action: str, detail: str = "") -> None:
    """One row in the audit trail for what the signed-in user just did."""
    reach = access(request)
    audit_trail.record(action, reach.user if reach else "?", client_address(request), detail)


def is_download(response: Response) -> bool:
    return "attachment" in response.headers.get("content-disposition", "")


def _audit_row(request: Request, rule: Rule, response: Response,
               form: Any) -> tuple[str, str] | None:
    """(action, detail) when the answer is a download or a change that succeeded."""
    download = is_download(response)
    if response.status_code >= 400 or (request.method in ("GET", "HEAD") and not download):
        return None
    action = rule.audited.format(**request.path_params) if rule.audited else (
        "export" if download else "change")
    where = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    fields = [f"{key}={form.get(key)}" for key in rule.audit_form
              if form is not None and form.get(key) not in (None, "")]
    return action, " ".join([request.method, where, *fields])[:2000]


def _has_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return request.method == "POST" and kind.startswith(("application/x-www-form-urlencoded",
                                                         "multipart/form-data"))


def _guard(view: Any, rule: Rule) -> Any:
    if inspect.iscoroutinefunction(view):
        @wraps(view)
        async def async_wrapper(request: Request) -> Response:
            from starlette.concurrency import run_in_threadpool

            try:
                refused = _refused(request, rule)
                if refused is not None:
                    return refused
                form = await request.form() if _has_form(request) else None  # kept for the view
                response = await view(request)
            except ShopRefused as exc:
                return forbidden(request, exc.store)
            row = _audit_row(request, rule, response, form)
            if row is not None:
                await run_in_threadpool(audit, request, *row)
            return response
        setattr(async_wrapper, ACCESS_ATTR, rule)
        return async_wrapper

    @wraps(view)
    def wrapper(request: Request) -> Response:
        try:
            refused = _refused(request, rule)
            if refused is not None:
                return refused
            response = view(request)
        except ShopRefused as exc:
            return forbidden(request, exc.store)
        row = _audit_row(request, rule, response, None)
        if row is not None:
            audit(request, *row)
        return response
    setattr(wrapper, ACCESS_ATTR, rule)
    return wrapper


def requires(*roles: Role, shop_scoped: bool = False, audited: str = "",
             audit_form: tuple[str, ...] = ()):
    """The roles that may open a route; `shop_scoped=True` lets a shop manager in, limited to
    their shops (only then is Role.MANAGER meaningful). `audited` names the audit action of
    the route's downloads and changes, `audit_form` the form fields its row may keep."""
    if not roles:
        raise ValueError("requires() needs at least one role; use @public for no login")
    if Role.MANAGER in roles and not shop_scoped:
        raise ValueError("a route a shop manager may open must be shop_scoped")
    secret = [key for key in audit_form
              if key in SECRET_FIELDS or any(word in key for word in ("password", "secret"))]
    if secret:
        raise ValueError(f"audit_form may not keep secrets: {', '.join(secret)}")
    rule = Rule(frozenset(roles), shop_scoped, audited=audited, audit_form=tuple(audit_form))
    return lambda view: _guard(view, rule)


def public(why: str):
    """Declares a route open without login (login page, static files, a signed webhook, an
    unsubscribe link): `why` says what protects it instead. Works on views and ASGI apps."""
    def mark(target: Any) -> Any:
        setattr(target, ACCESS_ATTR, Rule(frozenset(), why_public=why))
        return target
    return mark


def rule_of(endpoint: Any) -> Rule | None:
    return getattr(endpoint, ACCESS_ATTR, None)


def login_required(view):
    """The old declaration, kept so a view written before roles still works: owner only (the
    safe default) until it says with `requires` which roles it is for; its downloads and
    changes are audited as `export` and `change`."""
    return _guard(view, Rule(frozenset({Role.OWNER})))


def may_open(request: Request, path: str) -> bool:
    """Whether the signed-in user's role may open `path` (for the menu)."""
    from starlette.routing import Match

    reach = access(request)
    scope = {"type": "http", "path": path, "method": "GET"}
    for route in request.app.routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            rule = rule_of(getattr(route, "endpoint", None) or getattr(route, "app", None))
            if rule is None or reach is None:
                return False
            if not rule.roles:
                return True
            return reach.role in rule.roles and (reach.shops is None or rule.shop_scoped)
    return False


def lang(request: Request) -> str:
    return language(dict(request.cookies))


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    """Renders template `name`; `nav` (the highlighted menu entry) is its first word unless
    the view gives one."""
    reader = lang(request)
    reach = access(request)
    context.setdefault("nav", name.split(".")[0])
    context.update(request=request, user=reach.user if reach else None, lang=reader,
                   role=DUTCH[reach.role] if reach else "", role_names=DUTCH,
                   may=lambda path: may_open(request, path),
                   _=translator(reader))
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def bad_page(request: Request, message: str, detail: str = "") -> Response:
    """A 400 page in the reader's language: `message` is the Dutch message id."""
    return page(request, "error.html", status_code=400, message=message, detail=detail)
