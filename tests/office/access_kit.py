"""Shared by the access tests: two shops' days in head office, a user of every role, HTTPS from
a test fleet CA, and clients that log in as each user."""

from __future__ import annotations

import urllib.error
import urllib.parse
from pathlib import Path

from headoffice.web.roles import Role
from tests.office.helpers import OfficeWeb, enroll, feed, make_till, payloads, shop_day

PASSWORD = "lang-genoeg-wachtwoord"
USERS = {Role.OWNER: "baas", Role.MANAGER: "jan-noord", Role.ACCOUNTANT: "boekhouder",
         Role.FLEET: "beheer"}
MINE, OTHER = ("noord", "kassa-n1"), ("zuid", "kassa-z1")  # the manager's shop, and another


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
