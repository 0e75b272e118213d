"""Login, logout, the user's own sessions, and for the owner the users page and the audit
trail (on screen and as CSV). Every login, failed login and logout is written to the audit
trail here; user changes and the trail's own export by the guard (`audited=`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from headoffice.catalogue import audit as catalogue_audit
from headoffice.web import audit_trail, sessions, throttle
from headoffice.web.auth import COOKIE
from headoffice.web.common import access, client_address, page, public, requires
from headoffice.web.roles import ANY_ROLE, Role, RoleError, parse_role
from headoffice.web.users import (
    UserError,
    access_of,
    authenticate,
    list_users,
    remove_user,
    set_role,
    totp_secret,
)

address = client_address


ACTION_NAMES = {  # the audit trail's actions as the owner reads them (message ids, Dutch)
    "login": "ingelogd", "login_failed": "inloggen mislukt", "login_refused": "inloggen geweigerd",
    "logout": "uitgelogd", "logout_everywhere": "overal uitgelogd", "export": "export",
    "alert_ack": "melding gezien", "user_add": "gebruiker toegevoegd",
    "user_role": "rol gewijzigd", "user_remove": "gebruiker verwijderd",
    "user_unlock": "gebruiker gedeblokkeerd", "user_totp": "tweede factor gewijzigd",
    "user_password": "wachtwoord gewijzigd",
    "catalogue": "assortiment gewijzigd", "catalogue_publish": "assortiment verstuurd",
    "customer": "klant gewijzigd", "customer_export": "klantgegevens opgevraagd",
    "customer_erase": "klant gewist", "audit_export": "audittrail geëxporteerd",
    "stock": "voorraad gewijzigd", "terminal": "terminal gewijzigd", "change": "wijziging",
    "release": "release uitgerold", "config": "instellingen verstuurd",
}
HOME = {Role.FLEET: "/terminals"}  # where a role lands when "today" is not for it


def _target(request: Request, name: str) -> str:
    target = request.query_params.get("next", "/")
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    if target == "/":
        reach = access_of(name)
        target = HOME.get(reach.role, "/") if reach else "/"
    return target


def _totp_ok(secret: str, code: str) -> bool:
    import pyotp

    return bool(code) and pyotp.TOTP(secret).verify(code.strip(), valid_window=1)


def _attempt(name: str, password: str, code: str, where: str) -> tuple[bool, str]:
    """(signed in?, Dutch error id). Throttled first, so a locked name is not even checked."""
    refusal = throttle.refused(name, where)
    if refusal is not None:
        throttle.failed(name, where)  # hammering during the wait counts, and leads to the lock
        audit_trail.record("login_refused", name, where,
                           "locked" if refusal.locked else f"wait {refusal.seconds}s")
        return False, ("Dit account is geblokkeerd; vraag de eigenaar het te deblokkeren"
                       if refusal.locked else "Te veel mislukte pogingen; probeer het later opnieuw")
    user = authenticate(name, password)
    secret = totp_secret(name) if user else ""
    if user is None or (secret and not _totp_ok(secret, code)):
        locked = throttle.failed(name, where)
        audit_trail.record("login_failed", name, where, "locked now" if locked else
                           ("second factor" if user else "password"))
        return False, "Onbekende gebruiker of verkeerd wachtwoord"
    throttle.succeeded(name, where)
    audit_trail.record("login", name, where)
    return True, ""


@public("the login form itself")
async def login(request: Request) -> Response:
    error = ""
    if request.method == "POST":
        form = await request.form()
        name = str(form.get("name", "")).strip()
        from starlette.concurrency import run_in_threadpool

        ok, error = await run_in_threadpool(_attempt, name, str(form.get("password", "")),
                                            str(form.get("code", "")), address(request))
        if ok:
            token = await run_in_threadpool(sessions.start, name, address(request),
                                            request.headers.get("user-agent", ""))
            target = await run_in_threadpool(_target, request, name)
            response = RedirectResponse(target, status_code=303)
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict",
                                secure=request.url.scheme == "https")
            return response
    return page(request, "login.html", error=error)


@public("ends the caller's own session, if any")
def logout(request: Request) -> Response:
    token = request.scope.get("session_token", "")
    reach = access(request)
    if token:
        sessions.end(token)
    if reach is not None:
        audit_trail.record("logout", reach.user, address(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@requires(*ANY_ROLE, shop_scoped=True)
def my_sessions(request: Request) -> Response:
    """The signed-in user's active sessions; a POST ends all of them (logout everywhere)."""
    reach = access(request)
    assert reach is not None
    return page(request, "sessions.html", sessions=sessions.active(reach.user), nav="sessions")


@requires(*ANY_ROLE, shop_scoped=True, audited="logout_everywhere")
def end_my_sessions(request: Request) -> Response:
    reach = access(request)
    assert reach is not None
    sessions.end_all(reach.user)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


def _users(request: Request, error: str = "", status_code: int = 200) -> Response:
    return page(request, "users.html", status_code=status_code, users=list_users(),
                locked=throttle.locked_users(), roles=list(Role), nav="users", error=error)


@requires(Role.OWNER)
def users_page(request: Request) -> Response:
    return _users(request)


@requires(Role.OWNER, audited="user_{action}", audit_form=("role", "shops"))
async def user_action(request: Request) -> Response:
    """The owner's buttons: unlock, remove, change role (and shops). A refused change shows
    the page again with the reason (400), so only a change made is audited."""
    from starlette.concurrency import run_in_threadpool

    reach = access(request)
    assert reach is not None
    form = await request.form()
    name, action = request.path_params["name"], request.path_params["action"]

    def act() -> str:
        if action == "unlock":
            throttle.unlock(name)
        elif action == "remove":
            if name == reach.user:
                return "U kunt uzelf niet verwijderen"
            remove_user(name)
        elif action == "role":
            shops = [s for s in str(form.get("shops", "")).replace(" ", ",").split(",") if s]
            set_role(name, parse_role(str(form.get("role", ""))), shops)
        else:
            return "Onbekende actie"
        return ""

    try:
        error = await run_in_threadpool(act)
    except (UserError, RoleError) as exc:
        error = str(exc)
    if error:
        return await run_in_threadpool(_users, request, error, 400)
    return RedirectResponse("/users", status_code=303)


def _filters(request: Request) -> tuple[str, str]:
    """(action, since) from the query: an action name or prefix*, a date YYYY-MM-DD."""
    import datetime as dt

    action = request.query_params.get("action", "").strip()
    since = request.query_params.get("since", "").strip()
    if since:
        dt.date.fromisoformat(since[:10])  # ValueError: the page says so
    return action, since


@requires(Role.OWNER)
def audit_page(request: Request) -> Response:
    """The head-office trail, newest first (filtered by action and date), with the chain
    check; the product master's own rows (prices, products, promotions) beside it."""
    try:
        action, since = _filters(request)
    except ValueError:
        return page(request, "error.html", status_code=400,
                    message="Ongeldige datum: gebruik JJJJ-MM-DD", detail="")
    checked, broken = audit_trail.verify()
    return page(request, "audit.html", rows=audit_trail.recent(300, action, since),
                checked=checked, broken=broken, catalogue=catalogue_audit.trail(limit=50),
                nav="audit", action_names=ACTION_NAMES, action=action, since=since)


@requires(Role.OWNER, audited="audit_export")
def audit_csv(request: Request) -> Response:
    """The whole trail (or the filtered part) as CSV with each row's hash; handing it out is
    itself a row of the trail."""
    try:
        action, since = _filters(request)
    except ValueError:
        return page(request, "error.html", status_code=400,
                    message="Ongeldige datum: gebruik JJJJ-MM-DD", detail="")
    rows = reversed(audit_trail.recent(None, action, since))
    return Response(audit_trail.as_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="audittrail.csv"'})


ROUTES = [
    Route("/login", login, methods=["GET", "POST"]),
    Route("/logout", logout),
    Route("/sessions", my_sessions),
    Route("/sessions/end", end_my_sessions, methods=["POST"]),
    Route("/users", users_page),
    Route("/users/{name}/{action}", user_action, methods=["POST"]),
    Route("/audit", audit_page),
    Route("/audit/export", audit_csv),
]
