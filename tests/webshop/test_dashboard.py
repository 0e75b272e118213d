"""The webshop on the dashboard (`kassa office web`, page /shop): last round, orders taken,
parked orders with their reasons, failures and refused webhooks; the webhook endpoint needs
no login but a valid signature, and is off without a secret. SQLite and PostgreSQL."""

from __future__ import annotations

import urllib.error
import urllib.request

from headoffice.webshop.sync import sync
from tests.customers.fake_woo import FakeWoo, sign
from tests.office.helpers import OfficeWeb
from tests.webshop.test_orders import stocked

SECRET = "whsec-dashboard"


def post(base: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(base + "/webhooks/woocommerce", data=body, method="POST",
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_shop_page_shows_the_webshop_and_the_endpoint_checks_signatures(office_db_url,
                                                                         monkeypatch):
    with FakeWoo() as woo:
        shop = stocked(woo, 10)
        woo.add_product("GIFT-25", stock=3)
        parked = woo.checkout([("GIFT-25", 1)])
        woo.checkout([("plu:1", 2)])
        sync(shop)
        woo.checkout([("plu:2", 1)])
        sync(shop)
    monkeypatch.setenv("KASSA_WC_WEBHOOK_SECRET", SECRET)
    web = OfficeWeb(office_db_url)
    try:
        body = b'{"id": 1, "status": "processing"}'
        assert post(web.base, body, {"X-WC-Webhook-Topic": "order.updated",
                                     "X-WC-Webhook-Signature": sign("wrong", body)}) == 401
        assert post(web.base, body, {"X-WC-Webhook-Topic": "order.updated"}) == 401
        assert post(web.base, b"webhook_id=3", {}) == 200  # WooCommerce's ping on saving
        good = b'{"id": 77, "status": "pending", "date_created_gmt": "2030-01-01T09:00:00"}'
        assert post(web.base, good, {"X-WC-Webhook-Topic": "order.created",
                                     "X-WC-Webhook-Signature": sign(SECRET, good)}) == 200
        web.login()
        status, page = web.get("/shop")
        assert status == 200
        table = page.split('id="webshops"')[1].split("</table>")[0]
        cells = [c.split(">", 1)[1].split("<")[0] for c in table.split("<td")[1:]]
        assert cells[0] == "woocommerce (webshop)" and cells[1]  # the last round's time
        assert cells[2:] == ["2", "1", "0", "2"]  # taken, parked, errors, refused
        parked_table = page.split("Geparkeerde bestellingen")[1].split("</table>")[0]
        assert str(parked) in parked_table and "GIFT-25" in parked_table
    finally:
        web.stop()
    monkeypatch.delenv("KASSA_WC_WEBHOOK_SECRET")
    web = OfficeWeb(office_db_url)
    try:
        assert post(web.base, good, {"X-WC-Webhook-Topic": "order.created",
                                     "X-WC-Webhook-Signature": sign(SECRET, good)}) == 503
    finally:
        web.stop()
