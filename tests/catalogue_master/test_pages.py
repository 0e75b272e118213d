"""The assortment pages of the dashboard, as an owner uses them over HTTP against `kassa
office web` on SQLite and PostgreSQL: find a product, change it, schedule a price for Monday,
cancel it, set a cost, take a product out of one shop, create a promotion and switch it off,
read who changed what, and download the shelf labels of a day (read back, barcode decoded)."""

from __future__ import annotations

import datetime as dt
import html
import re
import urllib.error
import urllib.parse

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader

from headoffice.catalogue.importcsv import import_csv
from headoffice.catalogue.models import PriceEntry, Promotion, StoreProduct
from headoffice.catalogue.products import ensure_dutch_deposits, find
from headoffice.catalogue.times import SHOP_ZONE, parse_moment
from tests.office.helpers import OfficeWeb

HEADER = "gtin;barcodes;plu;name;category;vat_code;unit;age_limit;deposit;active;price;cost\n"
ROWS = ["8712345678906;;;Pils 33cl;Bier;high;piece;18;statiegeld-015;ja;1,29;0,60\n",
        ";;42;Brood wit;Brood;low;piece;;;;2,89;1,10\n",
        "4006381333931;;;Cola 1,5l;Fris;low;;;statiegeld-025;;2,19;\n"]


def post(web: OfficeWeb, path: str, fields: dict[str, str] | list[tuple[str, str]]) -> tuple[int, str, str]:
    """(status, final url, body) of a form post; redirects are followed like a browser's."""
    data = urllib.parse.urlencode(fields).encode()
    try:
        with web.opener.open(web.base + path, data=data, timeout=10) as response:
            return response.status, response.url, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, path, exc.read().decode()


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))).replace("\xa0", " ")


@pytest.fixture
def web(office_db_url):
    ensure_dutch_deposits("setup")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    report = import_csv([HEADER, *ROWS], "setup", partial=False, progress=lambda d, t: None,
                        valid_from=now)
    assert report.errors == []
    office = OfficeWeb(office_db_url)
    office.login()
    yield office
    office.stop()


def test_find_edit_and_schedule_a_price(web):
    status, page = web.get("/assortiment?q=pils")
    assert status == 200
    shown = text_of(page)
    assert "Pils 33cl" in shown and "€ 1,29" in shown and "Brood wit" not in shown
    assert "18+" in shown  # the age limit is visible in the list

    # a bad barcode is refused with the master's reason; nothing changes
    status, _url, page = post(web, "/assortiment/product/08712345678906", {
        "action": "save", "name": "Pils 33cl", "gtin": "8712345678900", "vat_code": "high",
        "unit": "piece", "active": "1"})
    assert status == 400 and "check digit" in text_of(page)
    assert find("8712345678906").name == "Pils 33cl"

    status, url, page = post(web, "/assortiment/product/08712345678906", {
        "action": "save", "name": "Pils 33 cl blik", "gtin": "8712345678906", "category": "Bier",
        "vat_code": "high", "unit": "piece", "age_limit": "18", "deposit": "statiegeld-015",
        "active": "1", "content": "33 cl"})
    assert status == 200 and url.endswith("done=opgeslagen"), url
    assert find("8712345678906").name == "Pils 33 cl blik"

    monday = dt.date.today() + dt.timedelta(days=7 - dt.date.today().weekday())
    status, _url, page = post(web, "/assortiment/product/08712345678906", {
        "action": "price", "store": "", "price": "1,49", "valid_from": f"{monday} 07:00"})
    assert status == 200
    shown = text_of(page)
    assert f"vanaf {monday:%d-%m-%Y} 07:00: € 1,49" in shown, shown[:2000]
    entry = PriceEntry.get(PriceEntry.price_cents == 149)
    assert entry.valid_from == parse_moment(f"{monday} 07:00").astimezone(dt.UTC).strftime(
        "%Y-%m-%dT%H:%M:%S+00:00")
    status, page = web.get("/assortiment?q=pils")
    assert f"€ 1,49 vanaf {monday:%d-%m-%Y} 07:00" in text_of(page)

    # the shelf labels of Monday: the new price, read back from the PDF and scanned
    with web.opener.open(f"{web.base}/assortiment/etiketten?day={monday}", timeout=20) as response:
        assert response.headers["Content-Type"] == "application/pdf"
        pdf = response.read()
    path = web_tmp_pdf(pdf)
    label = PdfReader(path).pages[0].extract_text().replace("\xa0", " ")
    assert "Pils 33 cl blik" in label and "€ 1,49" in label and f"{monday:%d-%m-%Y}" in label
    assert "€ 4,52 per l" in label  # 1,49 for 0,33 l: the unit price the law asks for
    image = pypdfium2.PdfDocument(str(path))[0].render(scale=300 / 72).to_pil()
    assert [r.text for r in zxingcpp.read_barcodes(image)] == ["8712345678906"]

    # cancel the planned price; set a cost; take it out of shop s2
    status, _url, page = post(web, "/assortiment/product/08712345678906", {
        "action": "cancel_price", "store": "", "valid_from": entry.valid_from})
    assert status == 200 and PriceEntry.get_or_none(PriceEntry.price_cents == 149) is None
    status, _url, page = post(web, "/assortiment/product/08712345678906",
                              {"action": "cost", "cost": "0,65", "valid_from": ""})
    assert status == 200 and "Nu: € 0,65" in text_of(page)
    status, _url, _page = post(web, "/assortiment/product/08712345678906",
                               {"action": "range", "store": "s2", "active": "0"})
    assert status == 200
    assert StoreProduct.get(StoreProduct.store == "s2").active is False

    # who changed what: every change above, by the logged-in user
    status, page = web.get("/assortiment/wijzigingen?key=08712345678906")
    shown = text_of(page)
    for what in ("product update", "price schedule", "price delete", "cost", "store update"):
        assert what in shown, what
    assert shown.count("web:baas") >= 5
    assert "name: Pils 33cl" in shown and "name: Pils 33 cl blik" in shown


def web_tmp_pdf(data: bytes):
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "labels.pdf"
    path.write_bytes(data)
    return path


def test_a_new_product_and_a_promotion(web):
    status, url, _page = post(web, "/assortiment/nieuw", {
        "action": "save", "name": "Chips paprika", "gtin": "8710398500403", "category": "Chips",
        "vat_code": "low", "unit": "piece", "active": "1"})
    assert status == 200 and "/assortiment/product/08710398500403" in url, url

    # a promotion the contract refuses (nothing covered) names why and stores nothing
    status, _url, page = post(web, "/assortiment/acties", [
        ("id", "chips-2e-half"), ("name", "2e halve prijs"), ("type", "nth_percent"), ("n", "2"),
        ("percent", "50"), ("products", "")])
    assert status == 400 and "covers nothing" in text_of(page)
    assert Promotion.select().count() == 0

    status, _url, page = post(web, "/assortiment/acties", [
        ("id", "chips-2e-half"), ("name", "2e halve prijs"), ("type", "nth_percent"), ("n", "2"),
        ("percent", "50"), ("products", "8710398500403"), ("valid_from", "2026-12-01"),
        ("valid_until", "2026-12-31"), ("weekday", "6"), ("weekday", "7")])
    assert status == 200, text_of(page)[:500]
    shown = text_of(page)
    assert "2e halve prijs" in shown and "elke 2e 50% korting" in shown and "za, zo" in shown
    assert "Chips paprika" in shown  # the covered product by name
    promo = Promotion.get_by_id("chips-2e-half")
    assert promo.products == '["08710398500403"]' and promo.active

    status, _url, page = post(web, "/assortiment/acties",
                              {"action": "toggle", "id": "chips-2e-half", "active": "0"})
    assert status == 200 and not Promotion.get_by_id("chips-2e-half").active
    status, page = web.get("/assortiment/wijzigingen?entity=promotion")
    assert text_of(page).count("promotion") >= 2


def test_pages_need_a_login_and_unknown_codes_say_so(web, office_db_url):
    fresh = OfficeWeb.__new__(OfficeWeb)
    import http.cookiejar
    import urllib.request
    fresh.base = web.base
    fresh.opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    status, page = fresh.get("/assortiment")
    assert status == 200 and "Inloggen" in page  # redirected to the login form
    status, page = web.get("/assortiment/product/99999999")
    assert status == 404 and "99999999" in page
    status, page = web.get("/assortiment/etiketten?day=gisteren")
    assert status == 400
    today = dt.datetime.now(SHOP_ZONE).date()
    status, page = web.get(f"/assortiment/etiketten?day={today - dt.timedelta(days=400)}")
    assert status == 404 and "Geen prijswijzigingen op deze dag" in page  # said, not a blank sheet


def test_pack_sizes_read_as_grams_or_millilitres():
    from headoffice.catalogue.errors import BadField
    from headoffice.catalogue.fields import content

    assert content("500 g") == (500, "g") and content("1,5 l") == (1500, "ml")
    assert content("33cl") == (330, "ml") and content("0.75 L") == (750, "ml")
    assert content("1 kg") == (1000, "g") and content("") == (None, None)
    for bad in ("abc", "0 g", "6x33 cl", "2 stuks"):
        with pytest.raises(BadField, match="content"):
            content(bad)


def test_labels_from_the_command_line(office_db_url, tmp_path):
    import subprocess
    import sys

    from tests.uplink.harness import ROOT

    ensure_dutch_deposits("setup")
    monday = dt.date.today() + dt.timedelta(days=7 - dt.date.today().weekday())
    lines = [HEADER.replace("\n", ";content\n"),
             ROWS[2].replace("\n", ";1,5 l\n")]
    report = import_csv(lines, "setup", partial=False, progress=lambda d, t: None,
                        valid_from=parse_moment(f"{monday} 07:00"))
    assert report.errors == []
    out = tmp_path / "labels.pdf"
    done = subprocess.run([sys.executable, "-m", "cli", "office", "--db", office_db_url,
                           "catalogue", "labels", "--day", str(monday), "-o", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "1 labels on 1 page(s)" in done.stdout
    text = PdfReader(out).pages[0].extract_text().replace("\xa0", " ")
    assert "Cola 1,5l" in text and "€ 2,19" in text and "€ 1,46 per l" in text
    bad = subprocess.run([sys.executable, "-m", "cli", "office", "--db", office_db_url,
                          "catalogue", "labels", "--day", "maandag", "-o", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "day: not a date" in bad.stderr

