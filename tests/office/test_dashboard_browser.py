"""End to end in headless Chromium: `kassa sim` -> uplink -> Mosquitto -> ingest -> dashboard.

Logs in, watches the sale appear live, downloads the VAT report and the XAF auditfile
(validated against the XSD), receives the alert mails over SMTP (aiosmtpd): one per kind,
terminal and window, with a count; closes the day with `kassa report z` and opens the Z in
the archive beside its rebuild. Saves a screenshot of every page at phone (390x844) and
desktop (1366x900) size, as test-artifacts/screenshots/office-<page>-phone.png and
-desktop.png, and checks on the phone that no page is wider than the screen and that the
navigation folds away behind its menu button.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from tests.fixtures_services import free_port, wait_for_port
from tests.office.browser import shoot
from tests.uplink.harness import ROOT, kassa, make_till, start_ingest, start_uplink, stop, wait_until


def _text(driver, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id).text


def _download(driver, button_id: str, suffix: str, timeout: float = 20) -> Path:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, button_id).click()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in driver.downloads.iterdir() if p.suffix == suffix]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no {suffix} file downloaded")


def _z_listed(driver, base: str) -> bool:
    from selenium.webdriver.common.by import By

    if driver.find_elements(By.CSS_SELECTOR, "#z-list tr.z"):
        return True
    driver.get(base + "/z")
    return False


def test_sale_appears_live_and_tax_files_download(tmp_path, mosquitto, smtp_inbox, browser):
    from selenium.webdriver.common.by import By

    from headoffice import registry
    from headoffice.db import open_office_db
    from headoffice.exports.xaf import validate_xaf

    smtp_port, inbox = smtp_inbox
    broker = mosquitto()
    till = make_till(tmp_path / "till", broker.port, store="amsterdam", terminal="kassa1")
    url = str(tmp_path / "office.sqlite3")
    open_office_db(url)
    registry.add_terminal(till.terminal, till.store, till.public_key_hex)
    settings = tmp_path / "office.toml"
    settings.write_text(
        '[alerts]\nopening_hours = "00:00-00:01"\nsmtp_host = "127.0.0.1"\n'
        f'smtp_port = {smtp_port}\nmail_to = ["eigenaar@example.nl"]\n'
        '[company]\nname = "Winkel Amsterdam"\nvat_number = "NL001234567B01"\n')
    user = subprocess.run([sys.executable, "-m", "cli", "office", "--db", url, "user", "add",
                           "baas", "--password-stdin"], input="geheim-wachtwoord\n", text=True,
                          cwd=ROOT, capture_output=True)
    assert user.returncode == 0, user.stderr
    web_port = free_port()
    env_settings = {"KASSA_OFFICE_SETTINGS": str(settings)}
    procs: list[subprocess.Popen] = []
    os.environ.update(env_settings)  # the ingest evaluates the entry rules with these settings
    try:
        procs = [start_ingest(url, broker.port, workers=1), start_uplink(till),
                 kassa("office", "--db", url, "web", "--port", str(web_port), "--settings",
                       str(settings))]
        wait_for_port(web_port, 20, procs[2])
        base = f"http://127.0.0.1:{web_port}"
        browser.get(base + "/")
        assert "/login" in browser.current_url
        shoot(browser, base, "login", "/login", logged_in=False)
        browser.find_element(By.ID, "name").send_keys("baas")
        browser.find_element(By.ID, "password").send_keys("fout")
        browser.find_element(By.ID, "submit").click()
        assert "verkeerd wachtwoord" in _text(browser, "error")
        browser.find_element(By.ID, "name").send_keys("baas")
        browser.find_element(By.ID, "password").send_keys("geheim-wachtwoord")
        browser.find_element(By.ID, "submit").click()
        assert _text(browser, "tickets") == "0"
        sim = subprocess.run([sys.executable, "-m", "cli", "--config",
                              str(till.config_path), "sim", "--sales", "6", "--seed", "4"],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert sim.returncode == 0, sim.stderr
        wait_until(lambda: _text(browser, "tickets") == "6", 20, "6 tickets on the dashboard")
        assert "kassa1" in _text(browser, "terminals")
        assert _text(browser, "turnover") != "€ 0,00"
        time.sleep(1.5)  # let the chart redraw before the picture
        shoot(browser, base, "dashboard", "/")
        browser.get(base + "/period?kind=month")
        assert "Omzet" in _text(browser, "compare") and "built-in" not in _text(browser, "compare")
        shoot(browser, base, "period", "/period?kind=month")
        browser.get(base + "/terminals")
        wait_until(lambda: "kassa1" in _text(browser, "terminal-state"), 10, "terminal listed")
        shoot(browser, base, "terminals", "/terminals")
        shoot(browser, base, "shop", "/shop")
        shoot(browser, base, "exports", "/exports")
        browser.get(base + "/exports")
        vat = _download(browser, "download-vat", ".csv")
        assert "1b" in vat.read_text() and "5a" in vat.read_text()
        xaf = _download(browser, "download-xaf", ".xaf")
        assert validate_xaf(xaf.read_bytes()) == []
        assert b"Winkel Amsterdam" in xaf.read_bytes()
        browser.get(base + "/vat")  # the VAT return on screen, this month, every shop
        assert "Leveringen/diensten belast met laag tarief" in _text(browser, "box-1b")
        assert "Verschuldigde omzetbelasting" in _text(browser, "box-5a")
        assert "art. 11 Wet OB" in _text(browser, "exempt")
        shoot(browser, base, "vat", "/vat")

        def after_hours() -> list[str]:
            return [m["X-Kassa-Alert"] for m in inbox if "after_hours" in m["X-Kassa-Alert"]]

        wait_until(lambda: _counted("after_hours") == 6 and after_hours(), 15,
                   "the 6 after-hours sales counted and mailed")
        time.sleep(1.5)  # several sender rounds: nothing more may be sent
        keys = [m["X-Kassa-Alert"] for m in inbox]
        assert len(keys) == len(set(keys)), "an alert was mailed twice"
        # one mail per window (a sim run may straddle a window's end), never one per sale
        assert len(after_hours()) == len(_alert_keys("after_hours")) <= 2, after_hours()
        mail = next(m for m in inbox if "after_hours" in m["X-Kassa-Alert"])
        assert "aantal:" in mail.get_payload() and "buiten" in mail["Subject"]
        browser.get(base + "/alerts")
        assert "buiten openingstijd" in _text(browser, "alert-list")
        shoot(browser, base, "alerts", "/alerts")
        # the manager closes the day: the Z reaches the archive, then its page beside the rebuild
        z = subprocess.run([sys.executable, "-m", "cli", "--config", str(till.config_path),
                            "report", "z", "--pin", "9999", "--count", "5000=1"],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert z.returncode == 0, z.stderr
        browser.get(base + "/z")
        wait_until(lambda: _z_listed(browser, base), 20, "the Z in the archive")
        row = browser.find_element(By.CSS_SELECTOR, "#z-list tr.z")
        cells = [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        assert cells[0] == "1" and cells[4] == "kassa1"
        assert re.fullmatch(r"\d\d-\d\d-\d{4}", cells[1])
        assert cells[5].startswith("€") and cells[6].startswith("€")
        shoot(browser, base, "z", "/z")
        row = browser.find_element(By.CSS_SELECTOR, "#z-list tr.z")
        row.find_element(By.LINK_TEXT, "bekijken en controleren").click()
        assert "klopt" in _text(browser, "zresult")
        assert "Omzet (incl. btw)" in _text(browser, "z-compare")
        detail = browser.current_url.removeprefix(base)
        shoot(browser, base, "z-detail", detail)
    finally:
        for proc in procs:
            stop(proc)
        for key in env_settings:
            os.environ.pop(key, None)


def _alert_keys(kind: str) -> list[str]:
    from headoffice.alerts.models import Alert

    return [a.key for a in Alert.select().where(Alert.kind == kind)]


def _counted(kind: str) -> int:
    """How many causes the alerts of `kind` count together (as the web process sees them)."""
    from headoffice.alerts import board

    return sum(g.count for g in board.groups(_alert_keys(kind)).values())
