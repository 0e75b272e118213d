"""Finding a receipt and the cash page in headless Chromium: the QR data pasted into the search
opens the receipt as printed with its signature check, refund and copy; a report figure drills
down to a ticket and on to its receipt; the cash page over a custom range shows the variance
the journal gives and its Excel file says the same. Access per role and shop over HTTP.
Three months of Zs and movements of three shops page through, newest first, the links
keeping the range and the other list's page while the figures at the top stay.
Screenshots at phone and desktop width: test-artifacts/screenshots/office-receipt-find-*,
office-receipt-*, office-cash-*, office-cash-page-2-* (.png)."""

from __future__ import annotations

import datetime as dt
import random
from urllib.parse import parse_qs, quote, urlsplit

from tests.office.owner_trading import BEFORE, DAY, recompute
from tests.office.receipt_trading import trade_with_receipts
from tests.office.test_cash_paging import _in, _newest_first, _old_sums, _random_rows, _store_rows
from tests.office.test_owner_reports_browser import _download, _money
from tests.office.test_receipt_find import recompute_cash

SETTINGS = ('[company]\nname = "Bakkerij De Korenaar"\naddress = "Dorpsstraat 1, Utrecht"\n'
            'vat_number = "NL123456789B01"\ncommerce_nr = "12345678"\n')


def _printed_total(text: str) -> int:
    [line] = [ln for ln in text.splitlines() if ln.startswith("TOTAAL")]
    return _money(line[len("TOTAAL"):])


def _shown(browser, table: str) -> list[tuple[str, int]]:
    from selenium.webdriver.common.by import By

    return [(r.get_attribute("data-terminal"), int(r.get_attribute("data-seq")))
            for r in browser.find_elements(By.CSS_SELECTOR, f"#{table} tr[data-seq]")]


def _page_through(browser, base: str, shoot) -> None:
    """Three months of random Zs and movements in three shops: the page lists them 100 at
    a time, newest first; page links keep the range and the other list's page; the
    variance at the top and per cashier stays the same on every page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    stored = _random_rows(random.Random(3), zs=250, moves=150)
    _store_rows(stored)
    rows = _in(stored, dt.date(2026, 9, 1), dt.date(2026, 11, 30), None, None)
    zs, moved, want = _newest_first(rows, True), _newest_first(rows, False), _old_sums(rows)
    filters = {"preset": ["custom"], "from": ["2026-09-01"], "to": ["2026-11-30"]}
    browser.get(base + "/kas?preset=custom&from=2026-09-01&to=2026-11-30")

    def top() -> tuple:
        cashiers = {r.get_attribute("data-key"): _money(r.find_element(
            By.CSS_SELECTOR, "td.variance").text)
            for r in browser.find_elements(By.CSS_SELECTOR, "#per-cashier tr[data-key]")}
        return _money(browser.find_element(By.ID, "variance").text), cashiers

    first_top = top()
    assert first_top == (want["totals"]["variance"],
                         {r["cashier"]: r["variance"] for r in want["cashiers"]})
    assert _shown(browser, "per-z") == zs[:100] and _shown(browser, "moves") == moved[:100]
    pages = browser.find_element(By.ID, "per-z-pages")
    assert (pages.get_attribute("data-page"), pages.get_attribute("data-pages")) == ("1", "3")
    for number, want_rows in (("2", zs[100:200]), ("3", zs[200:])):
        browser.find_element(By.CSS_SELECTOR, f"#per-z-pages a[data-page='{number}']").click()
        WebDriverWait(browser, 20).until(lambda d, n=number: f"z_pagina={n}" in d.current_url)
        query = parse_qs(urlsplit(browser.current_url).query)
        assert {k: query[k] for k in filters} == filters and query["geld_pagina"] == ["1"]
        assert _shown(browser, "per-z") == want_rows
        assert _shown(browser, "moves") == moved[:100]
        assert top() == first_top
    assert not browser.find_elements(By.CSS_SELECTOR, "#per-z-pages a[rel=next]")
    browser.find_element(By.CSS_SELECTOR, "#moves-pages a[rel=next]").click()
    WebDriverWait(browser, 20).until(lambda d: "geld_pagina=2" in d.current_url)
    query = parse_qs(urlsplit(browser.current_url).query)
    assert query["z_pagina"] == ["3"] and {k: query[k] for k in filters} == filters
    assert _shown(browser, "moves") == moved[100:] and _shown(browser, "per-z") == zs[200:]
    assert top() == first_top
    shoot(browser, base, "cash-paged", "/kas?preset=custom&from=2026-09-01&to=2026-11-30")
    _shoot_list(browser, base + "/kas?preset=custom&from=2026-09-01&to=2026-11-30&z_pagina=2",
                "z-lijst", "cash-page-2")


def _shoot_list(browser, url: str, anchor: str, name: str) -> None:
    """A page scrolled to one of its lists, at phone and desktop size (the menu is off
    screen there, so not browser.shoot)."""
    from tests.office.browser import SHOTS, SIZES

    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, (width, height, mobile) in SIZES.items():
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
        browser.get(url)
        browser.execute_script("document.getElementById(arguments[0]).scrollIntoView()", anchor)
        assert browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth") <= 0, size
        browser.save_screenshot(str(SHOTS / f"office-{name}-{size}.png"))
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_find_a_receipt_and_the_cash_page_in_the_browser(tmp_path, office_db_url,
                                                          browser) -> None:
    from openpyxl import load_workbook
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from contract.receipt import qr_payload
    from headoffice.db import database_proxy
    from headoffice.models import OfficeEntry
    from headoffice.web.roles import Role
    from headoffice.web.users import add_user
    from tests.office.access_kit import fetch, login
    from tests.office.browser import shoot
    from tests.office.helpers import OfficeWeb

    marked = trade_with_receipts(tmp_path, database_proxy.obj)
    bodies = marked.bodies
    sale = next(b for b in bodies if b["seq"] == marked.sale)
    stored = OfficeEntry.get(OfficeEntry.terminal == "t1", OfficeEntry.seq == marked.sale)
    qr = qr_payload("s1", "t1", marked.sale, stored.hash)
    settings = tmp_path / "office.toml"
    settings.write_text(SETTINGS)
    web = OfficeWeb(office_db_url, settings=settings)
    try:
        base = web.base
        browser.get(base + "/login?next=/bonnen/zoeken")
        browser.find_element(By.ID, "name").send_keys("baas")
        browser.find_element(By.ID, "password").send_keys("geheim-wachtwoord")
        browser.find_element(By.ID, "submit").click()
        # the QR's data, as a phone camera reads it, pasted into the search
        browser.find_element(By.ID, "nummer").send_keys(qr)
        browser.find_element(By.ID, "search").click()
        WebDriverWait(browser, 20).until(lambda d: "nummer=KASSA1" in d.current_url)
        [row] = browser.find_elements(By.CSS_SELECTOR, "#found tr[data-seq]")
        assert row.get_attribute("data-seq") == str(marked.sale)
        assert not browser.find_elements(By.CSS_SELECTOR, ".qr-mismatch")
        row.find_element(By.TAG_NAME, "a").click()
        WebDriverWait(browser, 20).until(lambda d: f"/bon/t1/{marked.sale}" in d.current_url)
        printed = browser.find_element(By.ID, "printed").text
        assert _printed_total(printed) == sale["data"]["total"]
        assert "Bakkerij De Korenaar" in printed and qr in printed
        assert all(line["name"] in printed for line in sale["data"]["lines"])
        assert browser.find_element(By.ID, "signature").get_attribute("data-ok") == "1"
        refund = browser.find_element(By.CSS_SELECTOR, f"#refunds tr[data-seq='{marked.refund}']")
        refund_total = next(b for b in bodies if b["seq"] == marked.refund)["data"]["total"]
        assert _money(refund.find_elements(By.TAG_NAME, "td")[-1].text) == refund_total
        assert browser.find_element(By.CSS_SELECTOR, f"#copies tr[data-seq='{marked.copy}']")
        receipt_path = f"/bon/t1/{marked.sale}"
        # a report figure drills down to its tickets, a ticket to its receipt
        query = f"preset=custom&from={DAY}&to={DAY}"
        want = recompute(bodies, DAY, DAY)
        browser.get(base + "/rapport?" + query)
        card = browser.find_element(By.CSS_SELECTOR, "#by-payment tr[data-key=card] a")
        assert _money(card.text) == want["tender"]["card"]
        card.click()
        WebDriverWait(browser, 20).until(lambda d: "/rapport/bonnen" in d.current_url)
        ticket = browser.find_element(By.CSS_SELECTOR, "#tickets tr[data-seq]")
        seq = int(ticket.get_attribute("data-seq"))
        amount = _money(ticket.find_elements(By.TAG_NAME, "td")[-1].text)
        ticket.find_element(By.CSS_SELECTOR, "a[href^='/bon/']").click()
        WebDriverWait(browser, 20).until(lambda d: f"/bon/t1/{seq}" in d.current_url)
        body = next(b for b in bodies if b["seq"] == seq)
        assert any(t["kind"] == "card" for t in body["data"]["tenders"])
        assert _printed_total(browser.find_element(By.ID, "printed").text) == amount == \
            body["data"]["total"]
        # the cash page over a custom range: the day before and the day
        browser.get(base + "/kas")
        for field, day in (("from", BEFORE), ("to", DAY)):
            box = browser.find_element(By.ID, field)
            browser.execute_script("arguments[0].value = arguments[1];"
                                   "arguments[0].dispatchEvent(new Event('change'))",
                                   box, day.isoformat())
        browser.find_element(By.ID, "show").click()
        WebDriverWait(browser, 20).until(lambda d: "preset=custom" in d.current_url)
        cash = recompute_cash(bodies, BEFORE, DAY)
        assert _money(browser.find_element(By.ID, "variance").text) == \
            sum(z[3] for z in cash["zs"])
        rows = browser.find_elements(By.CSS_SELECTOR, "#per-z tr[data-seq]")
        assert [(int(r.get_attribute("data-seq")),
                 _money(r.find_element(By.CSS_SELECTOR, "td.variance").text)) for r in rows] == \
            [(z[0], z[3]) for z in reversed(cash["zs"])]  # newest first
        cashier_rows = browser.find_elements(By.CSS_SELECTOR, "#per-cashier tr[data-key]")
        assert {r.get_attribute("data-key"): _money(r.find_element(By.CSS_SELECTOR,
                                                                     "td.variance").text)
                for r in cashier_rows} == dict(cash["cashier"])
        moves = browser.find_elements(By.CSS_SELECTOR, "#moves tr[data-seq]")
        assert [(int(m.get_attribute("data-seq")), m.get_attribute("data-type"),
                 _money(m.find_element(By.CSS_SELECTOR, "td.amount").text)) for m in moves] == \
            [(seq, kind, amount) for seq, kind, amount, _ in reversed(cash["moves"])]
        assert browser.execute_script(
            "return Chart.getChart(document.getElementById('day-chart')).data.datasets[0].data"
        ) == [value / 100 for _day, value in sorted(cash["days"].items())]
        assert not browser.find_elements(By.CSS_SELECTOR, "nav.pager")  # one page only
        cash_query = browser.current_url.split("?", 1)[1]
        browser.find_element(By.ID, "xlsx").click()
        book = load_workbook(_download(browser, ".xlsx", name="kasgeld"))
        sheet = list(book["Per Z"].iter_rows(min_row=4, values_only=True))
        assert [round(r[-1] * 100) for r in sheet] == [z[3] for z in cash["zs"]]
        assert round(book["Overzicht"].cell(5, 2).value * 100) == sum(z[3] for z in cash["zs"])
        csp = [e["message"] for e in browser.get_log("browser")
               if "Content Security Policy" in e["message"]]
        assert csp == []
        for name, path in (("receipt-find", "/bonnen/zoeken?nummer=" + quote(qr)),
                           ("receipt", receipt_path),
                           ("cash", "/kas?" + cash_query)):
            shoot(browser, base, name, path)
        _page_through(browser, base, shoot)
        # access: a shop manager sees their own shop's receipts and cash only
        add_user("noord", "geheim-wachtwoord", replace=True, role=Role.MANAGER, shops=("s2",))
        add_user("filiaal", "geheim-wachtwoord", replace=True, role=Role.MANAGER, shops=("s1",))
        add_user("boeken", "geheim-wachtwoord", replace=True, role=Role.ACCOUNTANT)
        other, _ = login(web, "noord", "geheim-wachtwoord")
        assert fetch(other, base + receipt_path)[0] == 403
        assert fetch(other, base + "/kas?store=s1")[0] == 403
        status, found = fetch(other, base + "/bonnen/zoeken?nummer=" + quote(qr))
        assert status == 200 and 'id="found-count">0 ' in found and "data-seq=" not in found
        own, _ = login(web, "filiaal", "geheim-wachtwoord")
        assert fetch(own, base + receipt_path)[0] == 200
        status, page = fetch(own, base + "/kas?" + cash_query)
        assert status == 200 and f'data-seq="{cash["zs"][0][0]}"' in page
        accountant, _ = login(web, "boeken", "geheim-wachtwoord")
        assert fetch(accountant, base + receipt_path)[0] == 200
        assert fetch(accountant, base + "/bonnen/zoeken?klant=" + marked.card)[0] == 403
    finally:
        web.stop()
