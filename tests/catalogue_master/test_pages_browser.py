"""The assortment pages in headless Chromium at phone and desktop size: each one fits the
screen, and a screenshot of each is saved (test-artifacts/screenshots/office-assortiment-*)
to be looked at."""

from __future__ import annotations

import datetime as dt

from headoffice.catalogue.importcsv import import_csv
from headoffice.catalogue.products import ensure_dutch_deposits, find, set_price
from headoffice.catalogue.promotions import save_promotion
from headoffice.catalogue.times import SHOP_ZONE
from headoffice.db import open_office_db
from tests.office.browser import shoot
from tests.office.helpers import OfficeWeb

HEADER = "gtin;barcodes;plu;name;category;vat_code;unit;age_limit;deposit;active;price;cost\n"
ROWS = ["8712345678906;;;Hertog Jan pils 33cl;Bier;high;piece;18;statiegeld-015;ja;1,29;0,60\n",
        ";;42;Brood wit heel;Brood;low;piece;;;;2,89;1,10\n",
        "4006381333931;;;Cola 1,5 liter;Fris;low;;;statiegeld-025;;2,19;\n",
        ";;7;Appels Elstar;Fruit;low;kg;;;;3,49;\n"]


def test_assortment_pages_on_a_phone_and_a_desktop(tmp_path, browser):
    from selenium.webdriver.common.by import By

    url = f"sqlite:///{tmp_path / 'office.sqlite3'}"
    open_office_db(url)
    ensure_dutch_deposits("setup")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    assert import_csv([HEADER, *ROWS], "setup", partial=False, progress=lambda d, t: None,
                      valid_from=now).errors == []
    monday = dt.datetime.combine(dt.date.today() + dt.timedelta(days=7 - dt.date.today().weekday()),
                                 dt.time(7), SHOP_ZONE)
    set_price(find("8712345678906"), 149, monday, actor="anna")
    save_promotion({"id": "bier-3-voor-3", "name": "3 voor € 3,00", "type": "n_for_price", "n": 3,
                    "price_cents": 300, "products": ["08712345678906"], "weekdays": [5, 6]}, "anna")
    web = OfficeWeb(url)
    try:
        browser.get(web.base + "/login")
        browser.find_element(By.NAME, "name").send_keys("baas")
        browser.find_element(By.NAME, "password").send_keys("geheim-wachtwoord")
        browser.find_element(By.CSS_SELECTOR, "form button").click()
        browser.find_element(By.ID, "nav")
        shoot(browser, web.base, "assortiment", "/assortiment")
        assert "€ 1,49 vanaf" in browser.find_element(By.ID, "products").text.replace("\xa0", " ")
        shoot(browser, web.base, "assortiment-product", "/assortiment/product/08712345678906")
        shoot(browser, web.base, "assortiment-acties", "/assortiment/acties")
        shoot(browser, web.base, "assortiment-wijzigingen", "/assortiment/wijzigingen")
        # a refused change on screen: the reason beside the form
        browser.get(web.base + "/assortiment/product/08712345678906")
        field = browser.find_element(By.ID, "f-gtin")
        field.clear()
        field.send_keys("8712345678900")
        browser.find_element(By.ID, "save").click()
        assert "check digit" in browser.find_element(By.ID, "error").text
        browser.save_screenshot(str(tmp_path / "refused.png"))
    finally:
        web.stop()
