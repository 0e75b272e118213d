"""Head office's audit trail (issue 19): every export and change the dashboard offers, walked as
the owner over HTTPS, leaves a row with who and from where, and viewing a page leaves none; a
route that hands out a file or takes a POST must name its audit action (the scan fails for one
that does not); logins, failed logins and logouts are there with the client's address; the
trail's own CSV export is audited too."""

from __future__ import annotations

import datetime as dt
import re
import urllib.error
import urllib.parse
from email.message import Message

import pytest
from starlette.routing import Route

from contract.shop_time import shop_today
from headoffice.alerts import settings as settings_mod
from headoffice.alerts.models import Alert
from headoffice.exports.zreports import z_list
from headoffice.web import audit_trail
from headoffice.web.app import create_app
from headoffice.web.common import requires, rule_of
from headoffice.web.roles import Role
from tests.office.access_kit import (
    MINE,
    OTHER,
    USERS,
    login,
    route_paths,
    shops_office,
)

OWNER = USERS[Role.OWNER]
ADDRESS = "127.0.0.1"  # the test's client, as the server sees it
# a path that names a file, or a method that changes something, must name its audit action
EXPORTISH = re.compile(r"export(/|$)|download|excel|xlsx|pdf|csv|etiketten|gegevens", re.I)
PUBLIC_WRITES = {  # public routes that take a POST, and what answers for them instead
    "/login": "records login, failed and refused login itself (auth_pages._attempt)",
    "/unsubscribe/{token}": "the customer's own link; the consent log records it",
    "/dagoverzicht/afmelden/{token}": "the owner's signed mail link; records summary_unsubscribe",
    "/webhooks/woocommerce": "the shop's signed order messages, no user",
}


def unaudited(app) -> list[str]:
    """The routes that hand out a file or take a write method without an audit action."""
    missing = []
    for route in app.routes:
        if not isinstance(route, Route):
            continue
        rule = rule_of(route.endpoint)
        writes = bool(set(route.methods) - {"GET", "HEAD"})
        if not (writes or EXPORTISH.search(route.path)):
            continue
        if rule is None or not rule.roles:
            if route.path not in PUBLIC_WRITES:
                missing.append(route.path)
        elif not rule.audited:
            missing.append(route.path)
    return missing


def test_every_route_that_exports_or_changes_names_its_audit_action():
    app = create_app(settings_mod.OfficeSettings())
    assert unaudited(app) == []
    assert sum(1 for r in app.routes if isinstance(r, Route) and rule_of(r.endpoint).audited) >= 10


def test_the_scan_finds_an_export_or_change_without_an_audit_action():
    app = create_app(settings_mod.OfficeSettings())
    view = requires(Role.OWNER)(lambda request: None)
    app.router.routes.append(Route("/rapport/kassa/pdf", view))
    app.router.routes.append(Route("/iets/wijzigen", view, methods=["POST"]))
    assert unaudited(app) == ["/rapport/kassa/pdf", "/iets/wijzigen"]
    with pytest.raises(ValueError, match="secrets"):
        requires(Role.OWNER, audited="user_add", audit_form=("name", "password"))


@pytest.fixture
def office(tmp_path, office_db_url, monkeypatch):
    from headoffice.customers import service

    web = shops_office(tmp_path, office_db_url, monkeypatch)
    web.customers = [service.create(name, f"{name.lower()}@example.nl", "nl", MINE[0]).customer_id
                     for name in ("Anna", "Anna-dubbel")]
    yield web
    web.stop()


def answer(client, url: str, form: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
    """(status, headers, body) of a GET, or of a form POST (its redirect followed)."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with client.open(url, data=data, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def newest_id() -> int:
    rows = audit_trail.recent(1)
    return rows[0].id if rows else 0


def rows_since(last: int) -> list[audit_trail.OfficeAudit]:
    return [row for row in reversed(audit_trail.recent(None)) if row.id > last]


def _one_row(before: int, action: str, what: str, actor: str = OWNER) -> audit_trail.OfficeAudit:
    rows = rows_since(before)
    assert len(rows) == 1, f"{what}: {[(r.action, r.detail) for r in rows]}"
    row = rows[0]
    assert (row.action, row.actor, row.address) == (action, actor, ADDRESS), what
    return row


def test_every_export_and_change_leaves_a_row_with_who_and_where(office):
    from headoffice.catalogue.models import MasterProduct

    base, (keep, duplicate) = office.base, office.customers
    before = newest_id()
    answer(login(office, OWNER, "een-fout-wachtwoord")[0], base + "/")
    _one_row(before, "login_failed", "a wrong password", actor=OWNER)
    before = newest_id()
    owner, _ = login(office, OWNER)
    _one_row(before, "login", "the login")
    alert = Alert.select().where(Alert.store == MINE[0]).first().id
    today = shop_today().isoformat()

    changes = [  # (path, form, audit action, what the row's detail must hold)
        ("/assortiment/nieuw", {"action": "save", "plu": "4011", "name": "Appels los",
                                "category": "fruit", "vat_code": "low", "unit": "piece",
                                "active": "1"}, "catalogue", "name=Appels los"),
        ("/assortiment/product/{sku}", {"action": "price", "price": "2,49", "valid_from": "",
                                        "store": ""}, "catalogue", "price=2,49"),
        ("/assortiment/product/{sku}", {"action": "cost", "cost": "1,10", "valid_from": ""},
         "catalogue", "cost=1,10"),
        ("/assortiment/acties", {"action": "save", "id": "appel-10", "name": "10% op appels",
                                 "type": "percent", "percent": "10", "products": "4011"},
         "catalogue", "id=appel-10"),
        ("/assortiment/acties", {"action": "toggle", "id": "appel-10", "active": "0"},
         "catalogue", "action=toggle"),
        (f"/klanten/{keep}", {"action": "save", "name": "Anna de Vries",
                              "email": "anna@example.nl", "language": "nl",
                              "home_store": MINE[0]}, "customer", f"/klanten/{keep}"),
        (f"/klanten/{keep}", {"action": "consent", "consent": "yes"}, "customer", "consent=yes"),
        (f"/klanten/{keep}", {"action": "merge", "other": duplicate}, "customer",
         f"other={duplicate}"),
        (f"/alerts/{alert}/ack", {}, "alert_ack", f"/alerts/{alert}/ack"),
        (f"/users/{USERS[Role.MANAGER]}/role", {"role": "manager", "shops": "noord,zuid"},
         "user_role", "shops=noord,zuid"),
        (f"/users/{USERS[Role.FLEET]}/unlock", {}, "user_unlock", "/unlock"),
        (f"/users/{USERS[Role.FLEET]}/remove", {}, "user_remove", "/remove"),
    ]
    sku = ""
    for path, form, action, detail in changes:
        path = path.replace("{sku}", sku)
        before = newest_id()
        status, _, body = answer(owner, base + path, form)
        assert status == 200, f"{path} {form}: {status} {body[:300]!r}"
        row = _one_row(before, action, path)
        assert row.detail.startswith(f"POST {path}") and detail in row.detail, row.detail
        if not sku:
            sku = MasterProduct.get(MasterProduct.name == "Appels los").sku
    # the profile's fields stay out of the trail (it is kept forever; an erasure is not)
    assert not any("example.nl" in r.detail or "Anna" in r.detail for r in rows_since(0))

    exports = [  # every file the dashboard hands out
        ("/export/vat?period=2026", "export"), ("/export/xaf?period=2026", "export"),
        ("/export/csv?period=2026", "export"), ("/export/jsonl?period=2026", "export"),
        ("/rapport/excel/sales?preset=this_year", "export"),
        ("/rapport/excel/margin?preset=this_year", "export"),
        ("/rapport/excel/discounts?preset=this_year", "export"),
        (f"/assortiment/etiketten?day={today}", "export"),
        (f"/klanten/{keep}/gegevens?format=json", "customer_export"),
        (f"/klanten/{keep}/gegevens?format=pdf", "customer_export"),
        ("/audit/export?action=user_*", "audit_export"),
    ]
    for path, action in exports:
        before = newest_id()
        status, headers, body = answer(owner, base + path)
        assert status == 200 and "attachment" in headers.get("Content-Disposition", ""), \
            f"{path}: {status} {body[:200]!r}"
        row = _one_row(before, action, path)
        assert row.detail == f"GET {path}", row.detail
    trail_csv = body.decode()
    assert trail_csv.startswith("id,at,actor,address,action,detail,prev,hash")
    assert ",user_role," in trail_csv and ",user_remove," in trail_csv and ",login," not in trail_csv

    # every other route, walked: a download leaves a row, looking at a page leaves none
    app = create_app(settings_mod.OfficeSettings())
    z_seq = {row["terminal"]: row["seq"] for row in z_list()}
    alert_id = {store: Alert.select().where(Alert.store == store).first().id
                for store in (MINE[0], OTHER[0])}
    walked = downloads = 0
    for method, path, rule in route_paths(app, z_seq, alert_id, {"sku": sku, "cid": keep}):
        if method != "GET" or rule is None or not rule.roles:
            continue
        before = newest_id()
        status, headers, _ = answer(owner, base + path)
        walked += 1
        if "attachment" in headers.get("Content-Disposition", ""):
            downloads += 1
            _one_row(before, rule.audited, path)
        else:
            assert rows_since(before) == [], f"GET {path} ({status}) left a row"
    assert walked > 25 and downloads >= 2  # /export/vat (the sample kind), /audit/export

    before = newest_id()
    answer(owner, base + "/logout")
    _one_row(before, "logout", "the logout")
    assert audit_trail.verify() == (len(rows_since(0)), None)


def test_the_audit_page_filters_by_action_and_day(office):
    owner, _ = login(office, OWNER)
    answer(owner, office.base + "/export/vat?period=2026")
    status, _, body = answer(owner, office.base + "/audit?action=export")
    page = body.decode()
    assert status == 200 and 'data-action="export"' in page and 'data-action="login"' not in page
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    status, _, body = answer(owner, office.base + f"/audit?since={tomorrow}")
    assert status == 200 and "data-action=" not in body.decode()
    assert answer(owner, office.base + "/audit?since=gisteren")[0] == 400
    for role in (Role.MANAGER, Role.ACCOUNTANT, Role.FLEET):  # the owner's alone
        other, _ = login(office, USERS[role])
        assert answer(other, office.base + "/audit/export")[0] == 403
