"""Each role in headless Chromium over HTTPS (a certificate from a test fleet CA; Chromium pins
its key): what the role may open works, what it may not answers 403, a shop manager's pages
hold nothing of another shop, the pages run under the Content-Security-Policy without a
violation (charts and live refresh from static scripts); a refused page's status is 403 and
the manager's JSON holds no other shop either; a session ends in the browser the moment the
user's role is changed; the owner unlocks a locked user and downloads the audit trail as CSV
(both audited), and the users and audit pages are photographed at phone and desktop size."""

from __future__ import annotations

import base64
import hashlib
import time

import pytest
from selenium.webdriver.common.by import By

from headoffice.web import audit_trail, throttle
from headoffice.web.roles import Role
from headoffice.web.users import set_role
from tests.office.access_kit import MINE, OTHER, PASSWORD, USERS, shops_office
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
    web = shops_office(tmp_path, office_db_url, monkeypatch)
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


def status_of(driver, path: str) -> tuple[int, str]:
    """(status, body) of a request the page makes with the browser's own session."""
    return tuple(driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.text().then(t => done([r.status, t])));", path))


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
            assert status_of(driver, refused)[0] == 403, refused
        if role is Role.MANAGER:
            status, body = status_of(driver, "/api/live")
            assert status == 200 and MINE[1] in body and OTHER[1] not in body
            assert status_of(driver, f"/api/live?store={OTHER[0]}")[0] == 403
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
    # a changed role ends the session in the browser at once
    sign_in(driver, base, USERS[Role.ACCOUNTANT])
    set_role(USERS[Role.ACCOUNTANT], Role.ACCOUNTANT)
    driver.get(base + "/vat")
    assert "/login" in driver.current_url
    # ten wrong passwords from elsewhere lock the fleet admin; the owner lifts it on the page
    for _ in range(throttle.LOCK_AFTER):
        throttle.failed(USERS[Role.FLEET], "192.0.2.9")
    sign_in(driver, base, USERS[Role.OWNER])
    shoot(driver, base, "users", "/users")
    locked = driver.find_element(By.CSS_SELECTOR, f'tr[data-user="{USERS[Role.FLEET]}"]')
    assert "geblokkeerd" in locked.text
    locked.find_element(By.CSS_SELECTOR, "button.unlock").click()
    driver.find_element(By.ID, "users")  # may still be the page before the click's answer
    deadline = time.monotonic() + 20
    while USERS[Role.FLEET] in throttle.locked_users() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert USERS[Role.FLEET] not in throttle.locked_users()
    shoot(driver, base, "audit", "/audit")
    rows = driver.find_elements(By.CSS_SELECTOR, "#audit tbody tr")
    assert len(rows) >= 5 and "Keten gecontroleerd" in driver.find_element(By.ID, "chain").text
    unlock = driver.find_element(By.CSS_SELECTOR, '#audit tr[data-action="user_unlock"]').text
    assert USERS[Role.OWNER] in unlock and "127.0.0.1" in unlock
    driver.find_element(By.ID, "csv").click()
    for _ in range(50):
        if (driver.downloads / "audittrail.csv").exists():
            break
        time.sleep(0.1)
    trail = (driver.downloads / "audittrail.csv").read_text(encoding="utf-8")
    assert trail.startswith("id,at,actor,address,action") and ",user_unlock," in trail
    assert audit_trail.recent(1)[0].action == "audit_export"
    assert csp_violations(driver) == []
