"""Shared by the access tests: two shops' days in head office, a user of every role, HTTPS from
a test fleet CA, and clients that log in as each user."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

from starlette.routing import Mount

from headoffice.web.common import Rule, rule_of
from headoffice.web.roles import Role
from tests.office.helpers import OfficeWeb, enroll, feed, make_till, payloads, shop_day

PASSWORD = "lang-genoeg-wachtwoord"
USERS = {Role.OWNER: "baas", Role.MANAGER: "jan-noord", Role.ACCOUNTANT: "boekhouder",
         Role.FLEET: "beheer"}
MINE, OTHER = ("noord", "kassa-n1"), ("zuid", "kassa-z1")  # the manager's shop, and another
SAMPLE = {"lang": "nl", "token": "onbekend", "kind": "vat", "sku": "1", "name": "niemand",
          "action": "unlock"}  # what fills a path parameter the walk has no real value for


def two_shops(tmp_path: Path) -> None:
    """A trading day with a Z close in shop noord (till kassa-n1) and in shop zuid (kassa-z1)."""
    from headoffice.db import database_proxy

    for number, (store, terminal) in enumerate((MINE, OTHER)):
        till = make_till(tmp_path / terminal, store, terminal)
        enroll(till)
        shop_day(till, sales=10, seed=number + 7)
        feed(database_proxy.obj, payloads(till))
        till.db.close()


def role_users() -> None:
    from headoffice.web.users import add_user

    for role, name in USERS.items():
        add_user(name, PASSWORD, replace=True, role=role,
                 shops=[MINE[0]] if role is Role.MANAGER else [])


def fleet_ca(root: Path) -> Path:
    """A fleet directory with a new CA (as `kassa fleet init` makes it); returns the CA file."""
    from provisioning import ca as x509ca
    from provisioning.secure import write_file

    authority = x509ca.create_ca("Kassa test fleet CA")
    write_file(root / "ca" / "ca.key", x509ca.key_pem(authority.key))
    write_file(root / "ca" / "ca.crt", x509ca.cert_pem(authority.cert), 0o644)
    return root / "ca" / "ca.crt"


def https_office(db_url: str, tmp_path: Path, extra: tuple[str, ...] = ()) -> OfficeWeb:
    ca_file = fleet_ca(tmp_path / "fleet")
    return OfficeWeb(db_url, password=PASSWORD, ca_file=ca_file,
                     web_args=("--fleet-ca", str(tmp_path / "fleet"), "--tls-name", "localhost",
                               *extra))


def shops_office(tmp_path: Path, db_url: str, monkeypatch) -> OfficeWeb:
    """Two shops' days (every sale raising alerts), a user of every role, and `kassa office
    web` over HTTPS; stop it with .stop()."""
    from headoffice.alerts import settings as settings_mod

    rules = settings_mod.AlertSettings(opening_hours="00:00-00:01")  # every sale raises alerts
    monkeypatch.setattr(settings_mod, "_current", settings_mod.OfficeSettings(alerts=rules))
    two_shops(tmp_path)
    role_users()
    web = https_office(db_url, tmp_path)
    web.url = db_url
    return web


def login(web: OfficeWeb, name: str, password: str = PASSWORD, code: str = ""):
    """A client logged in as `name`; (client, the URL the login landed on)."""
    client = web.client()
    form = urllib.parse.urlencode({"name": name, "password": password, "code": code}).encode()
    with client.open(web.base + "/login", data=form, timeout=10) as response:
        return client, response.url


def fetch(client, url: str, data: bytes | None = None) -> tuple[int, str]:
    try:
        with client.open(url, data=data, timeout=10) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def route_paths(app, z_seq: dict[str, int], alert_id: dict[str, int],
                sample: dict[str, str] | None = None) -> Iterator[tuple[str, str, Rule | None]]:
    """(method, path, the route's rule) for every route, parameters filled in (from `sample`
    over SAMPLE); a route with a terminal or an alert in its path once for the manager's shop
    and once for the other."""
    values_of = {**SAMPLE, **(sample or {})}
    for route in app.routes:
        if isinstance(route, Mount):
            yield "GET", route.path + "/chart.umd.min.js", rule_of(route.app)
            continue
        rule = rule_of(route.endpoint)
        variants: list[dict[str, str]] = [{}]
        if "{terminal}" in route.path:
            variants = [{"terminal": t, "seq": str(z_seq[t])} for t in (MINE[1], OTHER[1])]
        if "{alert_id" in route.path:
            variants = [{"alert_id": str(alert_id[s])} for s in (MINE[0], OTHER[0])]
        for values in variants:
            path = re.sub(r"\{(\w+)(:\w+)?\}",
                          lambda m, v=values: v.get(m[1], values_of.get(m[1], "x")), route.path)
            for method in sorted(route.methods - {"HEAD"}):
                yield method, path, rule
