"""Head office's promotion figure: what each promotion cost and sold, from the journal
entries of a real till stored through the ingest's own batch code (SQLite and PostgreSQL),
read by `kassa office promotions` and the dashboard's period page, and equal after an
aggregate rebuild."""

from __future__ import annotations

import datetime as dt
import html
import re
import subprocess
import sys
from pathlib import Path

from firmware.permissions import Action
from headoffice import aggregates
from headoffice.promotion_report import PromotionFigure, promotion_figures
from tests.office.helpers import OfficeWeb, enroll, feed, payloads
from tests.promotions.test_till_promotions import CSV, MANAGER_PIN, PROMOS, SATURDAY_10, deliver

ROOT = Path(__file__).resolve().parents[2]


def promo_till(tmp: Path):
    from cli.assemble import build_till
    from firmware.catalogue import import_csv
    from tests.fixtures_till import make_config

    tmp.mkdir(parents=True, exist_ok=True)
    till = build_till(make_config(tmp))
    import_csv(till.db, CSV)
    till.users.add("Sanne", "cashier", "1111")
    till.users.add("Bram", "manager", MANAGER_PIN)
    deliver(till, 1, PROMOS)
    till.promotions.clock = lambda: SATURDAY_10
    till.login("1111")
    return till


def test_promotion_cost_and_sales_from_journal_entries(tmp_path, office_db_url):
    from headoffice.db import database_proxy

    till = promo_till(tmp_path / "t1")
    enroll(till)
    chips = till.scan("3")
    till.set_quantity(chips.line_no, 3)  # 5.97 for 5.00: cost 0.97
    till.scan("1")  # dairy 10 %: 0.12
    first = till.pay_card(None, "A").entry
    for _ in range(6):
        till.scan("3")  # two groups over six lines: cost 1.94
    till.pay_cash(2000)
    till.refund(first.seq, {1: 1}, "card", "R",  # one bag of chips back: 0.32 of the cost
                approval=till.approve(MANAGER_PIN, Action.REFUND))
    till.set_training(True, approval=till.approve(MANAGER_PIN, Action.TRAINING))
    till.scan("1")
    till.pay_card(None, "T")  # training: never counted
    till.set_training(False, approval=till.approve(MANAGER_PIN, Action.TRAINING))
    db = database_proxy.obj
    feed(db, payloads(till))
    till.db.close()

    expected = [
        PromotionFigure("chips-3-for-5", "Chips 3 voor 5,00", 3, tickets=2,
                        discount=97 + 194 - 32, quantity=3 + 6 - 1,
                        gross=500 + 1000 - (199 - 32)),
        PromotionFigure("zuivel-10", "Zuivel 10% korting", 2, tickets=1, discount=12,
                        quantity=1, gross=119 - 12),
    ]
    assert promotion_figures() == expected
    assert promotion_figures("2026-03-28", "2026-03-28") == []  # the sales are of today
    assert promotion_figures(store="other") == []
    aggregates.rebuild(db)
    assert promotion_figures() == expected

    out = subprocess.run([sys.executable, "-m", "cli", "office", "--db", office_db_url,
                          "promotions"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = out.stdout.replace("\xa0", " ").splitlines()
    assert rows[0].split() == ["promotion", "name", "version", "tickets", "pieces", "sold", "cost"]
    assert rows[1].startswith("chips-3-for-5") and rows[1].endswith("€ 2,59")
    assert "€ 13,33" in rows[1]
    assert rows[2].startswith("zuivel-10") and rows[2].endswith("€ 0,12")
    assert rows[-1] == "2 promotion(s), cost € 2,71, sold € 14,40"

    office = OfficeWeb(office_db_url)  # the dashboard's period page shows the same figure
    try:
        office.login()
        status, page = office.get(f"/period?kind=day&date={dt.date.today().isoformat()}")
    finally:
        office.stop()
    assert status == 200
    row = re.search(r'<tr data-promotion="chips-3-for-5">(.*?)</tr>', page)
    assert row is not None, page[-2000:]
    cells = [html.unescape(c).replace("\xa0", " ") for c in re.findall(r"<td[^>]*>(.*?)</td>",
                                                                      row[1])]
    assert cells == ["Chips 3 voor 5,00", "2", "8", "€ 13,33", "€ 2,59"]
