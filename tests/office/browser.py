"""Headless Chromium for the dashboard's browser tests: a driver, and screenshots at phone and
desktop size that also check the page fits a phone and folds its menu away."""

from __future__ import annotations

import time

import pytest

from tests.uplink.harness import ROOT

SHOTS = ROOT / "test-artifacts" / "screenshots"
SIZES = {"phone": (390, 844, True), "desktop": (1366, 900, False)}


@pytest.fixture
def browser(tmp_path):
    driver = make_driver(tmp_path)
    yield driver
    driver.quit()


def make_driver(tmp_path, extra_flags: tuple[str, ...] = ()):
    """Headless Chromium with downloads into tmp_path/downloads; `extra_flags` for a test's own
    needs (an HTTPS test pins its server's key)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1280,1000",
                 "--lang=nl-NL", *extra_flags):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # CSP reports land there
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.downloads = downloads
    # After a click the next page may not be there yet: look for elements for up to 10 s.
    driver.implicitly_wait(10)
    return driver


def shoot(driver, base: str, page: str, path: str, logged_in: bool = True) -> None:
    """The page at phone and desktop size (the viewport exactly, as a phone reports it)."""
    from selenium.webdriver.common.by import By

    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, (width, height, mobile) in SIZES.items():
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
        driver.get(base + path)
        time.sleep(0.6)  # charts draw after load
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{page} is {overflow}px wider than a {width}px screen"
        if logged_in:
            nav = driver.find_element(By.ID, "nav")
            assert nav.is_displayed() is (size == "desktop"), f"{page}: nav at {size} width"
            if size == "phone":  # the menu button unfolds it
                driver.find_element(By.ID, "menu").click()
                assert nav.is_displayed(), f"{page}: the menu does not open"
                driver.find_element(By.ID, "menu").click()
        driver.save_screenshot(str(SHOTS / f"office-{page}-{size}.png"))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
