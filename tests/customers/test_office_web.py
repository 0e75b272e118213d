"""The customer side of `kassa office web`: the unsubscribe link of the mails (no login, Dutch
or English, idempotent, RFC 8058 one-click) and the page with the reorder list, the
back-in-stock mails and the offer campaigns. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import urllib.parse
import urllib.request

import pytest

from headoffice.customers import service
from headoffice.customers.models import Customer
from headoffice.notify.backinstock import send_back_in_stock
from headoffice.notify.mailer import Mailer, MailSettings
from headoffice.offers.compute import create_campaign
from headoffice.stock import ledger
from tests.customers.conftest import PREFIX
from tests.office.helpers import OfficeWeb

SKU = "08712345678906"
T0 = 1_700_000_000_000


class Recording(Mailer):
    """Keeps the mails instead of sending them (the SMTP path has its own tests)."""

    def __init__(self) -> None:
        super().__init__(MailSettings())
        self.sent: list[tuple[str, str]] = []

    def send(self, to_name, to_addr, subject, text, unsubscribe_token):
        self.sent.append((to_addr, text))
        return "id"


@pytest.fixture
def web(office_db_url):
    server = OfficeWeb(office_db_url)
    yield server
    server.stop()


def _post(web: OfficeWeb, path: str, body: bytes = b"") -> tuple[int, str]:
    """A POST from outside (no session): a mail client's one-click, or the page's button."""
    import urllib.error

    request = urllib.request.Request(web.base + path, data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _anonymous(web: OfficeWeb, path: str) -> tuple[int, str]:
    import urllib.error

    try:
        with urllib.request.urlopen(web.base + path, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_unsubscribe_link_asks_then_withdraws_once_in_the_customers_language(web):
    anna = service.create("Anna", "anna@example.nl", "nl", "s1", consent=True, card_prefix=PREFIX)
    bob = service.create("Bob", "bob@example.com", "en", "s1", consent=True, card_prefix=PREFIX)
    service.add_favourite(anna.customer_id, SKU, "office")
    ledger.move("s1", SKU, 0, "stock_count", "seen", T0)
    ledger.move("s1", SKU, 4, "goods_received", "delivery", T0 + 1)
    mailer = Recording()
    send_back_in_stock(mailer)
    [(to, text)] = mailer.sent
    token = Customer.get_by_id(anna.customer_id).unsubscribe_token
    path = urllib.parse.urlparse(next(w for w in text.split() if "/unsubscribe/" in w)).path
    assert to == "anna@example.nl" and path == f"/unsubscribe/{token}"

    status, page = _anonymous(web, path)  # opening the link (or a mail scanner) asks only
    assert status == 200 and "Wilt u geen berichten meer ontvangen" in page
    assert service.get(anna.customer_id).consent
    status, page = _post(web, path)  # the button
    assert status == 200 and "U bent afgemeld" in page
    after = service.get(anna.customer_id)
    assert (after.consent, after.consent_source) == (False, "unsubscribe")
    status, page = _post(web, path)  # again: the same answer, nothing changes
    assert status == 200 and "U bent afgemeld" in page
    assert service.get(anna.customer_id).consent_date == after.consent_date
    status, page = _anonymous(web, path)
    assert "U bent afgemeld" in page and "<form" not in page
    assert "You are unsubscribed" in _anonymous(web, path + "?lang=en")[1]

    bob_path = f"/unsubscribe/{Customer.get_by_id(bob.customer_id).unsubscribe_token}"
    assert "Do you no longer want messages" in _anonymous(web, bob_path)[1]
    status, page = _post(web, bob_path, b"List-Unsubscribe=One-Click")  # RFC 8058
    assert status == 200 and "You are unsubscribed" in page
    assert not service.get(bob.customer_id).consent

    status, page = _anonymous(web, "/unsubscribe/no-such-token")
    assert status == 404 and "afmeldlink is onbekend" in page
    assert _post(web, "/unsubscribe/no-such-token")[0] == 404
    ledger.move("s1", SKU, -4, "sale", "sold-out", T0 + 2)
    ledger.move("s1", SKU, 2, "goods_received", "delivery-2", T0 + 3)
    send_back_in_stock(mailer)
    assert len(mailer.sent) == 1  # unsubscribed: no more mails


def test_shop_page_shows_reorder_list_mails_and_offers(web):
    ledger.note_product(SKU, "Hagelslag puur", 289)
    ledger.move("s1", SKU, 0, "stock_count", "seen", T0)
    ledger.move("s1", SKU, 5, "goods_received", "delivery", T0 + 1)
    ledger.set_reorder_level("s1", SKU, 6, 20)
    customer = service.create("Eva", "eva@example.nl", "nl", "s1", consent=True,
                              card_prefix=PREFIX)
    service.add_favourite(customer.customer_id, "plu:7", "office")
    ledger.move("s1", "plu:7", 0, "stock_count", "seen-7", T0)
    ledger.move("s1", "plu:7", 3, "goods_received", "delivery-7", T0 + 1)
    send_back_in_stock(Recording())
    today = dt.date.today()
    create_campaign("Voorjaarsactie", today, today + dt.timedelta(days=14), 15, 5000)
    assert _anonymous(web, "/shop")[0] == 200 and "/login" in urllib.request.urlopen(
        web.base + "/shop", timeout=10).url  # behind the login
    web.login()
    status, page = web.get("/shop")
    assert status == 200
    reorder = page.split('id="reorder"')[1].split("</table>")[0]
    assert SKU in reorder and "Hagelslag puur" in reorder and ">15<" in reorder  # 20 - 5
    assert 'id="mails-sent">1<' in page
    restocks = page.split('id="restocks"')[1].split("</table>")[0]
    assert "plu:7" in restocks
    campaigns = page.split('id="campaigns"')[1].split("</table>")[0]
    assert "Voorjaarsactie" in campaigns and "15%" in campaigns
    assert 'id="consenting">1 / 1<' in page
    ledger.move("s1", SKU, 10, "goods_received", "delivery-2", T0 + 2)
    assert "Niets onder het minimum" in web.get("/shop")[1]
