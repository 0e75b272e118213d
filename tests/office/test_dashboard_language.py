"""The dashboard speaks Dutch: every page, logged in, rendered by `kassa office web` with
real data (two tills' days, alerts of every entry kind, device states), holds none of the
English words it used to show, and dates and times are Dutch and local. English is a switch
(a cookie) that holds across pages and on the login page. An owner's acknowledgement of an
alert is stored with who and when and shown on the alerts page."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import urllib.parse

import pytest

from headoffice.alerts import settings as settings_mod
from headoffice.alerts.models import Alert, AlertAck
from headoffice.models import TerminalState
from tests.office.helpers import OfficeWeb, enroll, feed, make_till, payloads, shop_day

PAGES = ["/", "/period?kind=week", "/period?kind=month", "/period?kind=year", "/terminals",
         "/alerts", "/shop", "/vat", "/exports", "/z", "/z/t1/21"]
ERRORS = {"/?day=gisteren": 400, "/period?kind=eeuw": 400, "/vat?period=ooit": 400,
          "/export/vat?period=ooit": 400, "/export/xaf?period=ooit": 400, "/export/iets": 404}

# what these pages showed in English before, and nothing else may show now (whole words)
ENGLISH = [
    "head office", "Unknown user", "wrong password", "login required", "must be", "n/a", "new",
    "online", "ready", "printing", "paper_out", "cover_open", "connected", "disconnected",
    "closed", "unknown", "open_too_long", "after_hours", "no_sale", "price_override",
    "cash_variance", "reversal_rate", "offline_backlog", "outside opening hours",
    "drawer opened", "without a sale", "approved by", "manual price", "exceeds",
    "voids/refunds", "sent", "failed", "sending", "Turnover", "Alerts", "previous", "at Z",
    "sale", "since", "built-in", "Today", "Period", "Tickets",
]
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
DUTCH_DATE = re.compile(r"\b\d{2}-\d{2}-\d{4}\b")


def visible(page: str) -> str:
    """What a reader sees: text and button labels, placeholders; no scripts, styles or tags."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    placeholders = " ".join(re.findall(r'placeholder="([^"]*)"', page))
    return html.unescape(re.sub(r"<[^>]+>", " ", page) + " " + placeholders)


def english_in(text: str) -> list[str]:
    return [w for w in ENGLISH if re.search(rf"(?<![\w/]){re.escape(w)}(?![\w/])", text)]


@pytest.fixture
def office(tmp_path, office_db_url, monkeypatch):
    """Two tills' trading days in head office, every sale after hours (so every alert kind the
    entries raise is there), device states reported, and the dashboard running."""
    from headoffice.db import database_proxy

    rules = settings_mod.AlertSettings(opening_hours="00:00-00:01")
    monkeypatch.setattr(settings_mod, "_current", settings_mod.OfficeSettings(alerts=rules))
    db = database_proxy.obj
    for number, terminal in enumerate(("t1", "t2")):
        till = make_till(tmp_path / terminal, "s1", terminal)
        enroll(till)
        shop_day(till, sales=12, seed=number + 5)
        feed(db, payloads(till))
        till.db.close()
    since = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    devices = {"printer": {"state": "paper_out", "detail": "out of paper", "since": since},
               "drawer": {"state": "closed", "detail": "", "since": since},
               "scanner": {"state": "connected", "detail": "", "since": since}}
    TerminalState.update(status=json.dumps({"devices": devices}), online=True,
                         last_seen=since).where(TerminalState.terminal == "t1").execute()
    TerminalState.update(online=False, last_seen=since, backlog=3).where(
        TerminalState.terminal == "t2").execute()
    web = OfficeWeb(office_db_url)
    web.login()
    yield web
    web.stop()


def test_every_page_is_dutch_with_dutch_dates(office):
    kinds = {a.kind for a in Alert.select()}
    assert {"after_hours", "no_sale", "price_override", "cash_variance"} <= kinds
    shown = {}
    for path in PAGES:
        status, page = office.get(path)
        assert status == 200, path
        assert '<html lang="nl">' in page and 'name="viewport"' in page, path
        shown[path] = text = visible(page)
        assert english_in(text) == [], (path, english_in(text))
        assert not ISO_TIME.search(text), (path, ISO_TIME.search(text))
        assert not ISO_DATE.search(text), (path, ISO_DATE.search(text))
    today = dt.datetime.now(dt.UTC).astimezone(settings_mod_local()).strftime("%d-%m-%Y")
    assert today in shown["/"] and "Omzet vandaag" in shown["/"]
    assert "buiten openingstijd" in shown["/alerts"] and "kasverschil" in shown["/alerts"]
    assert "lade geopend zonder verkoop" in shown["/alerts"]
    assert "goedgekeurd door" in shown["/alerts"]
    assert DUTCH_DATE.search(shown["/alerts"]) and DUTCH_DATE.search(shown["/terminals"])
    for words in ("papier op", "dicht", "verbonden", "niet verbonden"):
        assert words in shown["/terminals"], words
    for path, code in ERRORS.items():
        status, page = office.get(path)
        assert status == code, path
        text = visible(page)
        assert "Fout" in text and english_in(text) == [], (path, text)
        assert re.search(r"\b(period|must|choose|unknown|store)\b", text) is None, (path, text)
    anonymous = OfficeWeb.__new__(OfficeWeb)  # the same server, a browser without a session
    _fresh_client(anonymous, office)
    assert english_in(visible(anonymous.get("/login")[1])) == []
    assert "Kassa hoofdkantoor" in visible(anonymous.get("/login")[1])


def settings_mod_local():
    from headoffice.alerts.texts import LOCAL

    return LOCAL


def _fresh_client(client: OfficeWeb, like: OfficeWeb) -> None:
    import http.cookiejar
    import urllib.request

    client.base, client.user, client.password = like.base, like.user, like.password
    client.opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def test_english_is_a_switch_that_holds(office):
    status, page = office.get("/taal/en?next=" + urllib.parse.quote("/alerts"))
    assert status == 200 and '<html lang="en">' in page
    text = visible(page)
    assert "Alerts" in text and "after hours" in text and "cash variance" in text
    assert "drawer opened without a sale" in text and "Meldingen" not in text
    dashboard = visible(office.get("/")[1])
    assert "Turnover today" in dashboard and "Omzet vandaag" not in dashboard
    terminals = visible(office.get("/terminals")[1])
    assert "out of paper" in terminals and "closed" in terminals and "online" in terminals
    period = visible(office.get("/period?kind=week")[1])
    assert "Average ticket" in period and "previous" in period
    assert "Invalid date" in visible(office.get("/?day=gisteren")[1])
    assert "Tax reports" in visible(office.get("/exports")[1])
    assert "Stock and customers" in visible(office.get("/shop")[1])
    anonymous = OfficeWeb.__new__(OfficeWeb)
    _fresh_client(anonymous, office)
    assert "Log in" not in visible(anonymous.get("/login")[1])  # a new browser: Dutch
    anonymous.get("/taal/en?next=/login")
    assert "Log in" in visible(anonymous.get("/login")[1])
    back = visible(office.get("/taal/nl?next=/alerts")[1])
    assert "Meldingen" in back and english_in(back) == []


def test_an_owner_acknowledges_an_alert_on_the_alerts_page(office):
    alert = Alert.select().order_by(Alert.id).first()
    with office.opener.open(office.base + f"/alerts/{alert.id}/ack", data=b"",
                            timeout=10) as response:
        assert response.url.endswith("/alerts")
        page = response.read().decode()
    ack = AlertAck.get(AlertAck.alert == alert.key)
    assert ack.user == office.user
    at = dt.datetime.fromisoformat(ack.at)
    assert abs(dt.datetime.now(dt.UTC) - at) < dt.timedelta(minutes=1)
    row = re.search(rf'<tr id="alert-{alert.id}">(.*?)</tr>', page, re.S)
    assert row, "the alert is listed"
    local = at.astimezone(settings_mod_local()).strftime("%d-%m-%Y %H:%M:%S")
    assert f"gezien door {office.user} om {local}" in visible(row[1])
    status, _page = office.get("/alerts")  # a second acknowledgement is a row of its own
    with office.opener.open(office.base + f"/alerts/{alert.id}/ack", data=b"", timeout=10):
        pass
    assert AlertAck.select().where(AlertAck.alert == alert.key).count() == 2
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as missing:
        office.opener.open(office.base + "/alerts/999999/ack", data=b"", timeout=10)
    assert missing.value.code == 404


def test_english_reaches_the_vat_return_and_the_z_pages(office):
    """The switch holds on the pages whose texts come from the exports too (box descriptions,
    the Z's figure labels, built from parts such as "Verkopen: aantal")."""
    office.get("/taal/en?next=/vat")
    try:
        expected = {
            "/vat": ["VAT return", "Box 1: supplies within the Netherlands", "VAT payable",
                     "Exempt turnover (art. 11 Wet OB)", "Supplies/services at the standard rate"],
            "/z": ["Z reports", "Cash variance", "view and check"],
            "/z/t1/21": ["Z report no", "Terminal's Z", "Rebuilt by head office", "Sales: count",
                         "Sales: amount", "Tenders", "Perpetual total of sales"],
        }
        dutch = ["Rubriek", "Omschrijving", "Verkopen: aantal", "bekijken en controleren",
                 "Verschuldigde omzetbelasting", "Herberekend door hoofdkantoor", "Totalen"]
        for path, words in expected.items():
            status, page = office.get(path)
            assert status == 200, path
            text = visible(page)
            assert [w for w in words if w not in text] == [], (path, text[:2000])
            assert [w for w in dutch if w in text] == [], path
    finally:
        office.get("/taal/nl?next=/")
    assert "Rubriek" in visible(office.get("/vat")[1])
