"""Who may see what at head office, against `kassa office web` over HTTPS with a certificate
from a test fleet CA: every route walked as every role (403 where the role may not; a shop
manager sees nothing of another shop, in HTML or JSON), the route scan that fails for a route
without a declared role, the security headers, and the audit trail of what was done."""

from __future__ import annotations

import re
import ssl
import urllib.error
import urllib.parse
import urllib.request

import pytest
from starlette.routing import Mount, Route

from headoffice.alerts import settings as settings_mod
from headoffice.alerts.models import Alert
from headoffice.exports.zreports import z_list
from headoffice.web import audit_trail
from headoffice.web.app import create_app
from headoffice.web.common import public, requires, rule_of
from headoffice.web.roles import Role
from tests.office.access_kit import (
    MINE,
    OTHER,
    USERS,
    fetch,
    login,
    route_paths,
    shops_office,
)

OW, M, A, F = Role.OWNER, Role.MANAGER, Role.ACCOUNTANT, Role.FLEET
# What each main page is for (issue 19); the walk below also derives every other route's
# expectation from its declaration, so this table guards the declarations themselves.
EXPECT = {
    "/": {OW, M, A}, "/api/live": {OW, M, A}, "/period?kind=week": {OW, M, A}, "/z": {OW, M, A},
    "/alerts": {OW, M}, "/voorraad": {OW, M}, "/voorraad?store=noord": {OW, M},
    "/terminals": {OW, F}, "/shop": {OW}, "/vat": {OW, A}, "/exports": {OW, A},
    "/export/vat?period=2026": {OW, A}, "/export/csv?period=2026": {OW, A},
    "/assortiment": {OW, F}, "/assortiment/wijzigingen": {OW, F}, "/users": {OW}, "/audit": {OW},
    "/sessions": {OW, M, A, F},
}


def undeclared(app) -> list[str]:
    """The routes (and mounts) of `app` that declare neither roles nor public access."""
    missing = []
    for route in app.routes:
        target = route.endpoint if isinstance(route, Route) else getattr(route, "app", None)
        if rule_of(target) is None:
            missing.append(getattr(route, "path", repr(route)))
    return missing


def test_every_route_declares_who_may_open_it():
    app = create_app(settings_mod.OfficeSettings())
    assert undeclared(app) == []
    assert len(app.routes) > 20  # the scan saw the real table (catalogue pages included)


def test_the_route_scan_finds_a_route_without_a_declaration():
    app = create_app(settings_mod.OfficeSettings())
    app.router.routes.append(Route("/vergeten", lambda request: None))
    app.router.routes.append(Mount("/ook-vergeten", app=lambda scope, receive, send: None))
    assert undeclared(app) == ["/vergeten", "/ook-vergeten"]


def test_a_manager_route_must_be_shop_scoped_and_public_says_why():
    with pytest.raises(ValueError, match="shop_scoped"):
        requires(Role.OWNER, Role.MANAGER)
    with pytest.raises(ValueError, match="at least one role"):
        requires()

    @public("a signed webhook: the signature is checked in the view")
    def hook(request):
        return None
    rule = rule_of(hook)
    assert rule is not None and not rule.roles and "signature" in rule.why_public


def test_an_old_login_required_view_is_for_the_owner_only():
    from headoffice.web.common import login_required

    rule = rule_of(login_required(lambda request: None))
    assert rule is not None and rule.roles == {Role.OWNER}


def _may(role: Role, rule) -> bool:
    return role in rule.roles and (role is not Role.MANAGER or rule.shop_scoped)


@pytest.fixture
def office(tmp_path, office_db_url, monkeypatch):
    web = shops_office(tmp_path, office_db_url, monkeypatch)
    yield web
    web.stop()


def test_every_route_as_every_role(office):
    app = create_app(settings_mod.OfficeSettings())
    z_seq = {row["terminal"]: row["seq"] for row in z_list()}
    alert_id = {store: Alert.select().where(Alert.store == store).first().id
                for store in (MINE[0], OTHER[0])}
    clients = {role: login(office, name)[0] for role, name in USERS.items()}
    checked = 0
    for method, path, rule in route_paths(app, z_seq, alert_id):
        if not rule.roles:
            continue  # public: login, logout, language, static, unsubscribe (tested elsewhere)
        for role, client in clients.items():
            other_shop = role is Role.MANAGER and OTHER[1] in path or (
                role is Role.MANAGER and path.endswith(f"/{alert_id[OTHER[0]]}/ack"))
            allowed = _may(role, rule) and not other_shop
            if method == "POST" and allowed:
                continue  # no side effects in the walk; the POSTs are tested on their own
            status, body = fetch(client, office.base + path, b"" if method == "POST" else None)
            checked += 1
            if not allowed:
                assert status == 403, f"{role.value} {method} {path}: {status}"
                continue
            assert status not in (401, 403), f"{role.value} {method} {path}: {status}"
            if role is Role.MANAGER:
                assert OTHER[0] not in body and OTHER[1] not in body, \
                    f"{path} shows the manager another shop"
    assert checked > 80  # 4 roles x every route not public, POSTs of the allowed left out
    for path, roles in EXPECT.items():
        for role, client in clients.items():
            status, body = fetch(client, office.base + path)
            assert (status == 403) is (role not in roles), f"{role.value} {path}: {status}"
    # a manager's own shop is there; asking for another one by name is refused
    manager = clients[Role.MANAGER]
    status, body = fetch(manager, office.base + "/z")
    assert status == 200 and MINE[1] in body
    status, live = fetch(manager, office.base + "/api/live")
    assert MINE[1] in live and OTHER[1] not in live
    for asked in ("/voorraad?store=zuid", "/z?store=zuid", "/period?kind=week&store=zuid",
                  "/api/live?store=zuid"):
        assert fetch(manager, office.base + asked)[0] == 403, asked
    # the owner sees both shops
    status, live = fetch(clients[Role.OWNER], office.base + "/api/live")
    assert MINE[1] in live and OTHER[1] in live


def test_https_headers_cookie_and_audit(office):
    """The certificate chains to the fleet CA; HSTS, CSP and a Secure, HttpOnly cookie holding
    only a random id; logins, failed logins and exports land in the hash-chained trail."""
    context = ssl.create_default_context(cafile=str(office.ca_file))
    with urllib.request.urlopen(office.base + "/login", context=context, timeout=10) as response:
        headers = response.headers
    assert "max-age=" in headers["Strict-Transport-Security"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    with pytest.raises(urllib.error.URLError):  # another CA's client does not trust it
        urllib.request.urlopen(office.base + "/login", context=ssl.create_default_context(),
                               timeout=10)
    form = urllib.parse.urlencode({"name": "baas", "password": "lang-genoeg-wachtwoord"}).encode()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(office.base + "/login", data=form, timeout=10)
    cookie = answer.value.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    token = re.match(r"kassa_office=([^;]+)", cookie)[1]
    assert "baas" not in token and len(token) >= 40
    fetch(login(office, "baas", "fout-wachtwoord-123")[0], office.base + "/")
    owner, _ = login(office, "baas")
    assert fetch(owner, office.base + "/export/vat?period=2026")[0] == 200
    actions = [row.action for row in audit_trail.recent(50)]
    assert {"login", "login_failed", "export"} <= set(actions)
    status, page = fetch(owner, office.base + "/audit")
    assert status == 200 and 'data-action="login_failed"' in page
    assert "GET /export/vat?period=2026" in page and "inloggen mislukt" in page
    assert audit_trail.verify()[1] is None
    # the trail refuses changes (tests/office/test_audit_trail.py); past the trigger, a changed
    # row breaks the chain and the page says so
    db = audit_trail.OfficeAudit._meta.database
    db.execute_sql("DROP TRIGGER IF EXISTS office_audit_no_update" if "sqlite" in office.url
                   else "DROP TRIGGER office_audit_no_change ON office_audit")
    db.execute_sql("UPDATE office_audit SET actor = 'iemand-anders' WHERE action = 'export'")
    assert audit_trail.verify()[1] is not None  # a changed row breaks the chain
    status, page = fetch(owner, office.base + "/audit")
    assert "De keten is verbroken" in page
