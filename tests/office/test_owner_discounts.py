"""What promotions, manual and ticket discounts and price overrides cost and sold, per kind,
promotion and cashier, against a recomputation from the journal a real till wrote."""

from __future__ import annotations

import io
import json
from collections import defaultdict

from tests.office.owner_trading import BEFORE, DAY, counted, trade

PROMOTION = {"id": "melk-10", "name": "Tien procent op product 1", "version": 1,
             "type": "percent", "percent": 10, "products": ["08700000000018"]}  # product PLU 1


def discounted_sale(till, day) -> None:
    """A promotion (once delivered), a manual line discount and a ticket discount."""
    from firmware.uplink.downstream import Downstream

    if day == BEFORE:
        outcome = Downstream(till.db).apply("promotions", json.dumps(
            {"version": 1, "promotions": [PROMOTION]}).encode())
        assert outcome.applied
    if day not in (BEFORE, DAY):
        return
    till.login("1111")
    till.add_plu("1", quantity=2)
    line = till.add_plu("2")
    till.discount_line(line.line_no, cents=30)
    till.discount_ticket(cents=20)
    till.pay_card(None, "KORTING")
    till.logout()


def recompute(bodies, first, last) -> dict:
    """Per kind and per cashier: what was given, straight off the journal's ticket lines."""
    kinds: dict[str, int] = defaultdict(int)
    cashier: dict[tuple[str, str], int] = defaultdict(int)
    sold: dict[str, int] = defaultdict(int)
    for body in bodies:
        if not counted(body) or not first.isoformat() <= body["ts"][:10] <= last.isoformat():
            continue
        who = body.get("cashier") or ""
        data = body["data"]
        lines = {ln["line_no"]: ln for ln in data["lines"] if not ln.get("removed")}
        for ln in lines.values():
            found = []
            if ln.get("discount"):
                offer = (ln.get("discount_by") or "").startswith("offer:")
                found.append(("offer" if offer else "manual", ln["discount"]))
            if ln.get("ticket_discount"):
                found.append(("ticket", ln["ticket_discount"]))
            if ln.get("override_by") and ln.get("original_unit_price") is not None:
                found.append(("override",
                              (ln["original_unit_price"] - ln["unit_price"]) * ln["quantity"]))
            for kind, given in found:
                kinds[kind] += given
                cashier[who, kind] += given
                sold[kind] += ln["gross"]
        for promotion in data.get("promotions", ()):
            kinds["promotion"] += promotion["discount"]
            cashier[who, "promotion"] += promotion["discount"]
            sold["promotion"] += sum(lines[s["line_no"]]["gross"] for s in promotion["lines"]
                                     if s["line_no"] in lines)
    return {"kinds": kinds, "cashier": cashier, "sold": sold}


def test_discounts_report_matches_the_journal(tmp_path, office_db_url) -> None:
    from openpyxl import load_workbook

    from headoffice.db import database_proxy
    from headoffice.exports.periods import Period
    from headoffice.promotion_report import promotion_figures
    from headoffice.web.discount_queries import KINDS, discounts
    from headoffice.web.report_sheets import xlsx

    bodies = trade(tmp_path, database_proxy.obj, sales=15, before_feed=discounted_sale)
    period = Period(BEFORE, DAY, "range")
    want = recompute(bodies, BEFORE, DAY)
    assert all(want["kinds"][k] > 0 for k in ("manual", "ticket", "promotion")), want["kinds"]
    assert want["kinds"]["override"] != 0
    report = discounts(period)
    assert {r["kind"]: r["discount"] for r in report.kinds} == \
        {k: want["kinds"].get(k, 0) for k in KINDS}
    assert {r["kind"]: r["gross"] for r in report.kinds if r["kind"] != "promotion"} == \
        {k: want["sold"].get(k, 0) for k in KINDS if k != "promotion"}
    # the promotion: the same cost and sales as the existing promotion figures give
    [promotion] = report.promotions
    [figure] = promotion_figures(BEFORE.isoformat(), DAY.isoformat())
    assert (promotion["ref"], promotion["discount"], promotion["gross"], promotion["tickets"]) \
        == (figure.promotion, figure.discount, figure.gross, figure.tickets)
    assert promotion["discount"] == want["kinds"]["promotion"]
    assert promotion["gross"] == want["sold"]["promotion"]
    got = {(c["cashier"], k): c[k] for c in report.cashiers for k in KINDS if c[k]}
    assert got == {k: v for k, v in want["cashier"].items() if v}
    # a year earlier had no promotion delivered yet: nothing of it counts there
    assert discounts(Period(DAY.replace(year=2025), DAY.replace(year=2025), "y")).promotions == []
    book = load_workbook(io.BytesIO(xlsx("discounts", period)))
    kinds = {row[0]: round(row[4] * 100) for row in
             book["Per soort"].iter_rows(min_row=4, values_only=True)}
    assert kinds["actie"] == want["kinds"]["promotion"]
    assert kinds["handmatige korting"] == want["kinds"]["manual"]
