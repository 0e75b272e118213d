"""The customer pages of `kassa office web` (its own process, SQLite and PostgreSQL): the
owner edits a profile and consent (the log names the user), merges a duplicate, and the
access buttons hand over JSON and PDF that match what is stored, recorded with who asked."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.parse

import pypdf
import pytest

from headoffice.customers import service
from headoffice.customers.models import AccessRequest, Customer
from tests.office.helpers import OfficeWeb


@pytest.fixture
def web(office_db_url):
    server = OfficeWeb(office_db_url)
    yield server
    server.stop()


def _post(web: OfficeWeb, path: str, fields: dict[str, str]) -> tuple[int, str, str]:
    data = urllib.parse.urlencode(fields).encode()
    try:
        with web.opener.open(web.base + path, data=data, timeout=10) as response:
            return response.status, response.url, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, "", exc.read().decode()


def _download(web: OfficeWeb, path: str) -> tuple[str, bytes]:
    with web.opener.open(web.base + path, timeout=20) as response:
        return response.headers["Content-Type"], response.read()


def test_owner_edits_profile_and_consent_merges_and_exports(web):
    eva = service.create("Eva Jansen", "eva@example.nl", "nl", "s1", card_prefix="299")
    dup = service.create("Eva Jansen", "eva@oud.example", "nl", "s1", consent=True,
                         consent_source="till", card_prefix="299", recorded_by="anna")
    service.add_favourite(dup.customer_id, "plu:7", "till")
    assert web.get(f"/klanten/{eva.customer_id}")[0] == 200  # behind the login: login page
    web.login()
    status, listing = web.get("/klanten?q=jansen")
    assert status == 200 and eva.email in listing and 'id="duplicates"' in listing

    status, url, _ = _post(web, f"/klanten/{eva.customer_id}", {
        "action": "save", "name": "Eva de Jong", "email": "Eva.Jong@example.nl",
        "language": "en", "home_store": "s2"})
    assert status == 200 and "done=" in url
    row = Customer.get_by_id(eva.customer_id)
    assert (row.name, row.email, row.language, row.home_store) == (
        "Eva de Jong", "eva.jong@example.nl", "en", "s2")
    status, _, page = _post(web, f"/klanten/{eva.customer_id}", {
        "action": "save", "name": "Eva", "email": dup.email, "language": "nl",
        "home_store": "s1"})
    assert status == 400 and "already has an account" in page  # the reason beside the form
    assert Customer.get_by_id(eva.customer_id).email == "eva.jong@example.nl"

    _post(web, f"/klanten/{eva.customer_id}", {"action": "consent", "consent": "yes"})
    log = service.consent_log(eva.customer_id)
    assert [(c.consent, c.source, c.recorded_by) for c in log] == [(True, "office", "web:baas")]
    status, _, page = _post(web, f"/klanten/{eva.customer_id}", {"action": "merge",
                                                                "other": dup.card})
    assert status == 200
    merged = service.get(eva.customer_id)
    assert merged.favourites == ("plu:7",) and service.is_erased(dup.customer_id)
    page = web.get(f"/klanten/{eva.customer_id}")[1]
    assert 'id="consent-log"' in page and "anna" in page and "web:baas" in page
    assert 'id="export-pdf"' in page

    kind, body = _download(web, f"/klanten/{eva.customer_id}/gegevens?format=json")
    data = json.loads(body)
    assert kind.startswith("application/json")
    assert data["profile"]["email"] == "eva.jong@example.nl" and data["favourites"] == ["plu:7"]
    assert [(c["source"], c["recorded_by"]) for c in data["consent_log"]][:2] == [
        ("till", "anna"), ("office", "web:baas")]
    kind, body = _download(web, f"/klanten/{eva.customer_id}/gegevens?format=pdf")
    assert kind == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(body)).pages[0].extract_text()
    assert "Eva de Jong" in text and "eva.jong@example.nl" in text and "web:baas" in text
    assert [(a.asked_by, a.via) for a in AccessRequest.select().order_by(AccessRequest.id)] == [
        ("web:baas", "dashboard")] * 2
    assert web.get("/klanten/c-nobody")[0] == 404
