"""The dashboard shows the glossary's reversal figures apart (refunds, voids of paid tickets,
voids of open tickets), as the receipt Z does; and the Belasting page's auditfile without a
shop chosen is one file for every shop of the company."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from lxml import etree

from firmware.permissions import Action
from firmware.sim import MANAGER_PIN, ensure_demo_data, make_gtin
from tests.office.helpers import OfficeWeb, enroll, feed, make_till, payloads

TODAY = dt.date.today().isoformat()


def trade(till, *, refund: bool, paid_voids: int, open_voids: int) -> None:
    """Sales with the given reversals, then the day's Z."""
    ensure_demo_data(till, products=5)
    enroll(till)
    till.login("1111")
    manager = lambda action: till.approve(MANAGER_PIN, action)  # noqa: E731
    sales = []
    for n in range(3):
        till.scan(make_gtin(n + 1))
        sales.append(till.pay_cash(10_000).entry.seq)
    if refund:
        till.refund(sales[0], {1: 1}, approval=manager(Action.REFUND))
    for seq in sales[1:1 + paid_voids]:
        till.void_sale(seq, approval=manager(Action.VOID_PAID_TICKET))
    for _ in range(open_voids):
        till.scan(make_gtin(4))
        till.void_open_ticket()
    till.z_close({}, approval=manager(Action.Z_CLOSE))
    till.logout()


@pytest.fixture
def two_shops(tmp_path, office_db_url):
    from headoffice.db import database_proxy

    for store, terminal, kwargs in (("s1", "t1", {"refund": True, "paid_voids": 1, "open_voids": 2}),
                                    ("s2", "t2", {"refund": False, "paid_voids": 0, "open_voids": 1})):
        till = make_till(tmp_path / terminal, store, terminal)
        trade(till, **kwargs)
        feed(database_proxy.obj, payloads(till))
        till.db.close()
    return office_db_url


def test_reversals_apart_on_the_dashboard_and_one_auditfile_for_every_shop(two_shops) -> None:
    web = OfficeWeb(two_shops)
    try:
        web.login()
        status, html = web.get(f"/?day={TODAY}")
        assert status == 200
        reversals = re.search(r'id="reversals">([^<]*)<', html)
        assert reversals and reversals.group(1).split(" / ") == ["1", "1", "3"], reversals
        assert "retouren / annuleringen betaald / open" in html
        status, html = web.get(f"/period?kind=day&date={TODAY}")
        assert status == 200
        open_row = re.search(r"Annuleringen open bonnen</td><td class=\"n\">(\d+)<", html)
        paid_row = re.search(r"Annuleringen betaalde bonnen</td><td class=\"n\">(\d+)<", html)
        assert open_row and open_row.group(1) == "3" and paid_row and paid_row.group(1) == "1"

        status, xaf = web.get(f"/export/xaf?period={TODAY[:4]}&store=")
        assert status == 200, xaf[:300]
        root = etree.fromstring(xaf.encode())
        journals = [el.text for el in root.iter() if etree.QName(el).localname == "jrnID"]
        assert sorted(journals) == ["VK-s1", "VK-s2"], journals
    finally:
        web.stop()
