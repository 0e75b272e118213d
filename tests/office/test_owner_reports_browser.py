"""The owner's report pages in headless Chromium: a custom range, the figures beside the
journal's, a drill-down to the tickets, the Excel file and the PDF of each report read back
(openpyxl; pypdf's text) and compared with the page, and screenshots of each page at phone and desktop size
(test-artifacts/screenshots/office-report-*-phone.png / -desktop.png)."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

from tests.office.helpers import OfficeWeb
from tests.office.owner_trading import AMSTERDAM, DAY, recompute, trade
from tests.office.test_owner_discounts import discounted_sale
from tests.office.test_owner_margin import master_product
from tests.office.test_report_pdf import flat, pdf_text


def _money(text: str) -> int:
    """'€ 1.234,56' / '€ -7,50' -> cents."""
    text = text.replace("€", "").replace("\u00a0", "").replace(" ", "")
    sign = -1 if "-" in text else 1
    euros, _, frac = text.replace("-", "").replace(".", "").partition(",")
    return sign * (int(euros) * 100 + int(frac or 0))


def _download(driver, suffix: str, timeout: float = 20, name: str = "") -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in driver.downloads.iterdir()
                if p.suffix == suffix and p.name.startswith(name)]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no {suffix} file downloaded")


def test_report_pages_in_the_browser(tmp_path, office_db_url, browser) -> None:
    from openpyxl import load_workbook
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from headoffice.catalogue.products import set_cost
    from headoffice.db import database_proxy
    from headoffice.exports.periods import Period
    from headoffice.web.margin_queries import margin
    from tests.office.browser import shoot

    bodies = trade(tmp_path, database_proxy.obj, sales=20, before_feed=discounted_sale)
    want = recompute(bodies, DAY, DAY)
    product = master_product("08700000000018", "Brood 1", "high", "Brood")  # PLU 1
    set_cost(product, 500, dt.datetime(2025, 1, 1, tzinfo=AMSTERDAM))
    margin_figures = margin(Period(DAY, DAY, "day")).total
    assert margin_figures.cost > 0
    web = OfficeWeb(office_db_url)
    try:
        base = web.base
        browser.get(base + "/login?next=/rapport")
        browser.find_element(By.ID, "name").send_keys("baas")
        browser.find_element(By.ID, "password").send_keys("geheim-wachtwoord")
        browser.find_element(By.ID, "submit").click()
        browser.find_element(By.ID, "range")
        # a custom range: the one trading day
        for field in ("from", "to"):
            box = browser.find_element(By.ID, field)
            browser.execute_script("arguments[0].value = arguments[1];"
                                   "arguments[0].dispatchEvent(new Event('change'))",
                                   box, DAY.isoformat())
        browser.find_element(By.ID, "show").click()
        WebDriverWait(browser, 20).until(lambda d: "preset=custom" in d.current_url)
        row = browser.find_element(By.CSS_SELECTOR, "#overview #now")
        cells = row.find_elements(By.TAG_NAME, "td")
        assert _money(cells[1].text) == want["turnover"]
        assert int(cells[2].text) == want["tickets"]
        query = browser.current_url.split("?", 1)[1]
        card = browser.find_element(By.CSS_SELECTOR, "#by-payment tr[data-key=card] a")
        assert _money(card.text) == want["tender"]["card"]
        # drill down from a cashier's turnover to the tickets behind it
        cashier, turnover = next(iter(want["cashier"].items()))
        browser.find_element(By.CSS_SELECTOR, f"#by-cashier tr[data-key='{cashier}'] a").click()
        WebDriverWait(browser, 20).until(lambda d: "/rapport/bonnen" in d.current_url)
        total = browser.find_element(By.CSS_SELECTOR, "#ticket-total strong")
        assert _money(total.text) == turnover
        assert browser.find_elements(By.CSS_SELECTOR, "#tickets tr[data-seq]")
        # the Excel button gives the figures the page shows
        browser.get(base + "/rapport?" + query)
        browser.find_element(By.ID, "xlsx").click()
        book = load_workbook(_download(browser, ".xlsx"))
        assert round(book["Overzicht"].cell(4, 2).value * 100) == want["turnover"]
        assert book["Overzicht"].cell(4, 3).value == want["tickets"]
        # the PDF button: the figures on screen, as the screen writes them, are in its text
        shown = [flat(browser.find_element(By.CSS_SELECTOR, f"#{table} {cell}").text)
                 for table, cell in (("overview #now", "td:nth-child(2)"),
                                     ("overview #last-year", "td:nth-child(2)"),
                                     ("by-payment tr[data-key=card]", "td:nth-child(2)"),
                                     ("by-cashier tr", "td:nth-child(3)"))]
        browser.find_element(By.ID, "pdf").click()
        text = flat(pdf_text(_download(browser, ".pdf", name="verkoop").read_bytes()))
        assert all(figure in text for figure in shown), (shown, text[:400])
        assert _money(shown[0]) == want["turnover"]
        browser.get(base + "/rapport/marge?" + query)
        assert browser.find_element(By.ID, "uncosted")  # products without a cost price
        assert _money(browser.find_element(By.ID, "margin").text) == margin_figures.margin
        assert _money(browser.find_element(By.ID, "cost").text) == margin_figures.cost
        browser.find_element(By.ID, "xlsx").click()
        book = load_workbook(_download(browser, ".xlsx", name="marge"))
        assert round(book["Totaal"].cell(4, 6).value * 100) == margin_figures.margin
        shown = [flat(browser.find_element(By.ID, i).text) for i in ("margin", "cost")]
        browser.find_element(By.ID, "pdf").click()
        text = flat(pdf_text(_download(browser, ".pdf", name="marge").read_bytes()))
        assert all(figure in text for figure in shown), shown
        browser.get(base + "/rapport/kortingen?" + query)
        cost = browser.find_element(By.CSS_SELECTOR, "#by-kind tr[data-key='promotion:'] td.cost")
        assert _money(cost.text) > 0
        row = browser.find_elements(By.CSS_SELECTOR, "#by-kind tr[data-key='promotion:'] td")
        tickets, pieces, spent, sold = (flat(td.text) for td in row[1:])
        browser.find_element(By.ID, "pdf").click()
        text = flat(pdf_text(_download(browser, ".pdf", name="kortingen").read_bytes()))
        assert re.search(rf"actie {tickets} \d+ {pieces} {re.escape(spent)} {re.escape(sold)}",
                         text), (row, text[:400])
        for name, path in (("report-sales", "/rapport?" + query),
                           ("report-tickets", "/rapport/bonnen?" + query + "&cut=payment&value=card"),
                           ("report-margin", "/rapport/marge?" + query),
                           ("report-discounts", "/rapport/kortingen?" + query),
                           ("summary-settings", "/dagoverzicht")):
            shoot(browser, base, name, path)
    finally:
        web.stop()
