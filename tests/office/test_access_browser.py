"""Each role in headless Chromium over HTTPS (a certificate from a test fleet CA; Chromium pins
its key): what the role may open works, what it may not answers 403, a shop manager's pages
hold nothing of another shop, the pages run under the Content-Security-Policy without a
violation (charts and live refresh from static scripts), and the owner's users and audit pages
are photographed at phone and desktop size."""

from __future__ import annotations

import base64
import hashlib

import pytest
from selenium.webdriver.common.by import By

from headoffice.alerts import settings as settings_mod
from headoffice.web.roles import Role
from tests.office.access_kit import MINE, OTHER, PASSWORD, USERS, https_office, role_users, two_shops
from tests.office.browser import make_driver, shoot

PAGES = {  # role: (pages it may open, one page it may not)
    Role.OWNER: (["/", "/period?kind=week", "/z", "/alerts", "/shop", "/vat", "/users", "/audit",
                  "/terminals", "/assortiment"], None),
    Role.MANAGER: (["/", "/period?kind=week", "/z", "/alerts", "/voorraad", "/sessions"], "/shop"),
    Role.ACCOUNTANT: (["/", "/period?kind=month", "/z", "/vat", "/exports"], "/shop"),
    Role.FLEET: (["/terminals", "/assortiment", "/sessions"], "/vat"),
}


def spki_pin(cert_path) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    der = cert.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


@pytest.fixture
def office(tmp_path, office_db_url, monkeypatch):
    rules = settings_mod.AlertSettings(opening_hours="00:00-00:01")
    monkeypatch.setattr(settings_mod, "_current", settings_mod.OfficeSettings(alerts=rules))
    two_shops(tmp_path)
    role_users()
    web = https_office(office_db_url, tmp_path)
    web.cert = tmp_path / "fleet" / "office-web" / "localhost.crt"
    yield web
    web.stop()


@pytest.fixture
def chromium(office, tmp_path):
    driver = make_driver(tmp_path, (f"--ignore-certificate-errors-spki-list={spki_pin(office.cert)}",))
    yield driver
    driver.quit()


def sign_in(driver, base: str, name: str) -> None:
    driver.get(base + "/login")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "submit").click()
    driver.find_element(By.ID, "nav")  # signed in: the menu is there


def csp_violations(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser")
            if "Content Security Policy" in entry["message"]]


@pytest.mark.parametrize("office_db_url", ["sqlite"], indirect=True)
def test_each_role_in_the_browser(office, chromium):
    driver, base = chromium, office.base
    assert base.startswith("https://")
    for role, (allowed, refused) in PAGES.items():
        sign_in(driver, base, USERS[role])
        for path in allowed:
            driver.get(base + path)
            source = driver.page_source  # (find_elements would wait 10 s for an absent one)
            assert 'id="error"' not in source and "<h1>Fout" not in source, f"{role.value} {path}"
            if role is Role.MANAGER:
                assert OTHER[0] not in source and OTHER[1] not in source, path
        if role is Role.MANAGER:
            driver.get(base + "/z")
            assert MINE[1] in driver.page_source
        if refused:
            driver.get(base + refused)
            assert "geen toegang" in driver.find_element(By.ID, "error").text, refused
        menu = driver.find_element(By.ID, "nav").text
        assert ("Gebruikers" in menu) is (role is Role.OWNER)  # the menu shows what it may open
        assert ("Btw-aangifte" in menu) is (role in (Role.OWNER, Role.ACCOUNTANT))
        driver.get(base + "/")  # the live page: chart and refresh from static scripts
        if role is not Role.FLEET:
            driver.find_element(By.ID, "hourly")
            drawn = driver.execute_script(
                "return Chart.getChart(document.getElementById('hourly')) !== undefined")
            assert drawn, f"{role.value}: the chart did not draw under the CSP"
        assert csp_violations(driver) == [], role.value
        driver.get(base + "/logout")
        assert "/login" in driver.current_url
    sign_in(driver, base, USERS[Role.OWNER])
    shoot(driver, base, "users", "/users")
    shoot(driver, base, "audit", "/audit")
    rows = driver.find_elements(By.CSS_SELECTOR, "#audit tbody tr")
    assert len(rows) >= 5 and "Keten gecontroleerd" in driver.find_element(By.ID, "chain").text
    assert csp_violations(driver) == []
