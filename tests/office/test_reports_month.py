"""A simulated month on two real tills in two shops, fed through the ingest's own batch code:
every figure of the owner's reports (sales with its cuts and comparisons, margin, discounts
and promotions) equals a recomputation from the raw journal entries in this test. The month
holds refunds, voids of open and of paid tickets, a promotion, manual and ticket discounts,
price overrides, a cost change in the product master, and a training sale every day, which
no figure may count."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from firmware.permissions import Action
from firmware.sim import MANAGER_PIN
from tests.office.helpers import enroll, feed, make_till, payloads, shop_day
from tests.office.owner_trading import AMSTERDAM, DayClock, assert_cuts, counted, recompute
from tests.office.test_owner_discounts import PROMOTION
from tests.office.test_owner_discounts import recompute as recompute_discounts

FIRST, LAST = dt.date(2026, 2, 1), dt.date(2026, 2, 28)
MONTH = [FIRST + dt.timedelta(days=n) for n in range(28)]
# a day of the previous period and of the same month a year earlier, so that the comparisons
# have something to compare
OTHER_DAYS = (dt.date(2026, 1, 20), dt.date(2025, 2, 10))
RATES = {"high": 2100, "low": 900, "zero": 0, "exempt": 0}
CATEGORIES = {"1": "Brood", "2": "Snoep"}  # PLU -> the product master's category
COST_CHANGE = dt.date(2026, 2, 15)  # PLU 1 costs 500 before, 650 from this day on


def extras(till, with_training: bool) -> None:
    """A promotion sale with a manual line discount and a ticket discount, a refund, a void of
    an open and of a paid ticket, and (when asked) a training sale of 5 x PLU 2."""
    manager = lambda action: till.approve(MANAGER_PIN, action)  # noqa: E731
    till.login("1111")
    till.add_plu("1", quantity=2)
    line = till.add_plu("2")
    till.discount_line(line.line_no, cents=30)
    till.discount_ticket(cents=20)
    sale = till.pay_card(None, "MAAND").entry
    till.add_plu("3")
    till.void_open_ticket()
    line_no = min(n for n, q in till.refundable(sale.seq).items() if q > 0)
    till.refund(sale.seq, {line_no: 1}, "cash", approval=manager(Action.REFUND))
    till.add_plu("4")
    paid = till.pay_card(None, "MAAND-V").entry
    till.void_sale(paid.seq, approval=manager(Action.VOID_PAID_TICKET))
    if with_training:
        till.set_training(True, approval=manager(Action.TRAINING))
        till.add_plu("2", quantity=5)
        till.pay_card(None, "TRAINING")
        till.set_training(False, approval=manager(Action.TRAINING))
    till.logout()


def trade_month(tmp_path: Path, db: Any) -> list[dict[str, Any]]:
    """t1 (shop s1) trades every day of February and the two other days; t2 (shop s2) trades
    Monday to Saturday of February. One till at a time: the firmware binds to the last opened
    till database."""
    from firmware.uplink.downstream import Downstream

    bodies: list[dict[str, Any]] = []
    for number, (store, terminal) in enumerate((("s1", "t1"), ("s2", "t2"))):
        till = make_till(tmp_path / terminal, store, terminal)
        enroll(till)
        till.journal.clock = clock = DayClock()
        days = [*OTHER_DAYS, *MONTH] if terminal == "t1" else \
            [d for d in MONTH if d.weekday() != 6]
        for day in sorted(days):
            clock.start(day)
            if day == FIRST:  # the promotion reaches the till on the first of the month
                outcome = Downstream(till.db).apply("promotions", json.dumps(
                    {"version": 1, "promotions": [PROMOTION]}).encode())
                assert outcome.applied
            extras(till, with_training=day >= FIRST)
            shop_day(till, sales=4, seed=10 * number + day.toordinal() % 89)
        feed(db, payloads(till))
        bodies += [entry.body for entry in till.journal.entries()]
        till.db.close()
    return bodies


def lines_of(bodies: list[dict[str, Any]], first: dt.date, last: dt.date):
    """(body, line) of every counted, not removed ticket line in the range."""
    for body in bodies:
        if counted(body) and first.isoformat() <= body["ts"][:10] <= last.isoformat():
            for line in body["data"]["lines"]:
                if not line.get("removed"):
                    yield body, line


def code_of(line: dict[str, Any]) -> str:
    return str(line.get("code") or line.get("product_id") or line.get("name"))


def recompute_margin(bodies: list[dict[str, Any]], first: dt.date, last: dt.date,
                     products: dict[str, Any]) -> dict[str, Any]:
    """Net sales, cost and margin per product and shop, from the journal's lines and the cost
    prices this test gave the master: net per shop, day and product, rounded half up."""
    sold: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for body, line in lines_of(bodies, first, last):
        sold[body["store"], body["ts"][:10], code_of(line)][0] += line["quantity"]
        sold[body["store"], body["ts"][:10], code_of(line)][1] += line["gross"]
    out: dict[str, Any] = {"net": defaultdict(int), "cost": defaultdict(int),
                           "shop": defaultdict(int), "uncosted": defaultdict(int),
                           "uncosted_pieces": defaultdict(int)}
    for (store, day, code), (quantity, gross) in sold.items():
        if code not in products:
            out["uncosted"][code] += gross
            out["uncosted_pieces"][code] += quantity
            continue
        rate = RATES[products[code]["vat_code"]]
        net = (2 * gross * 10000 + (10000 + rate)) // (2 * (10000 + rate))  # half up (gross > 0)
        if gross < 0:
            net = -((2 * -gross * 10000 + (10000 + rate)) // (2 * (10000 + rate)))
        cost = products[code]["cost"](dt.date.fromisoformat(day)) * quantity
        out["net"][code] += net
        out["cost"][code] += cost
        out["shop"][store] += net - cost
    return out


def test_every_report_figure_equals_the_journal_over_a_month(tmp_path, office_db_url) -> None:
    from headoffice.catalogue.products import set_cost
    from headoffice.db import database_proxy
    from headoffice.exports.periods import Period
    from headoffice.web import report_queries as reports
    from headoffice.web.discount_queries import KINDS, discounts
    from headoffice.web.margin_queries import margin
    from tests.office.test_owner_margin import master_product

    bodies = trade_month(tmp_path, database_proxy.obj)
    period = Period(FIRST, LAST, "month")
    # the month really holds what the figures must handle
    month = [b for b in bodies if FIRST.isoformat() <= b["ts"][:10] <= LAST.isoformat()]
    kinds = {b["type"] for b in month if counted(b)}
    assert {"sale", "refund", "void"} <= kinds
    assert sum(1 for b in month if b["type"] == "void" and b["data"].get("scope") != "paid") > 20
    training = [b for b in month if b.get("training") and b["type"] == "sale"]
    assert len(training) == 28 + 24 and all(b["data"]["total"] > 0 for b in training)
    assert sum(len(b["data"].get("promotions", ())) for b in month if counted(b)) > 40

    # --- sales: the overview, every cut, the comparisons ---------------------------------
    want = recompute(bodies, FIRST, LAST)
    got = reports.report(period)
    o = got["overview"]
    assert want["tickets"] > 300
    assert (o.now["turnover"], o.now["tickets"]) == (want["turnover"], want["tickets"])
    with_training = want["turnover"] + sum(b["data"]["total"] for b in training)
    assert o.now["turnover"] != with_training  # the training sales would show if counted
    for label, when in (("previous", o.previous), ("last_year", o.earlier)):
        other = recompute(bodies, when.start, when.end)
        assert other["turnover"] != 0, label
        figures = o.before if label == "previous" else o.last_year
        assert (figures["turnover"], figures["tickets"]) == (other["turnover"],
                                                             other["tickets"]), label
    per_shop: dict[str, int] = defaultdict(int)
    per_terminal: dict[tuple[str, str], int] = defaultdict(int)
    tickets_per_shop: dict[str, int] = defaultdict(int)
    for body in bodies:
        if counted(body) and FIRST.isoformat() <= body["ts"][:10] <= LAST.isoformat():
            per_shop[body["store"]] += body["data"]["total"]
            per_terminal[body["store"], body["terminal"]] += body["data"]["total"]
            tickets_per_shop[body["store"]] += body["type"] == "sale"
    assert {r["store"]: (r["turnover"], r["tickets"]) for r in got["shop"]} == \
        {s: (per_shop[s], tickets_per_shop[s]) for s in per_shop}
    assert {(r["store"], r["terminal"]): r["turnover"] for r in got["terminal"]} == \
        dict(per_terminal)
    assert_cuts(got, want)
    # (a product sold and voided again stands on the report with 0 pieces and 0 euros)
    assert {r["product"]: (r["quantity"], r["gross"]) for r in got["product"]
            if r["quantity"] or r["gross"]} == \
        {k: (want["product_qty"][k], v) for k, v in want["product"].items()
         if v or want["product_qty"][k]}

    # --- categories and margin, after the master learns two products ---------------------
    names, vat_codes, gtins = {}, {}, {}
    for _body, line in lines_of(bodies, FIRST, LAST):
        names[code_of(line)], vat_codes[code_of(line)] = line["name"], line["vat_code"]
    plu_lines = [code for code in names if code in CATEGORIES]
    assert sorted(plu_lines) == ["1", "2"], names.keys()  # the extras' PLU-keyed lines
    for plu, category in CATEGORIES.items():
        gtins[plu] = master_product(plu, names[plu], vat_codes[plu], category)
    set_cost(gtins["1"], 500, dt.datetime(2025, 1, 1, tzinfo=AMSTERDAM))
    set_cost(gtins["1"], 650, dt.datetime.combine(COST_CHANGE, dt.time(0, 0), tzinfo=AMSTERDAM))
    set_cost(gtins["2"], 40, dt.datetime(2025, 1, 1, tzinfo=AMSTERDAM))
    products = {"1": {"vat_code": vat_codes["1"],
                      "cost": lambda day: 650 if day >= COST_CHANGE else 500},
                "2": {"vat_code": vat_codes["2"], "cost": lambda _day: 40}}
    category_want: dict[str, int] = defaultdict(int)
    for code, gross in want["product"].items():
        category_want[CATEGORIES.get(code, "(geen categorie)")] += gross
    assert {r["category"]: r["gross"] for r in reports.by_category(period)} == \
        {k: v for k, v in category_want.items() if v}
    m = recompute_margin(bodies, FIRST, LAST, products)
    report = margin(period)
    by_key = {r.key: r for r in report.products}
    for code in ("1", "2"):
        assert (by_key[code].net, by_key[code].cost) == (m["net"][code], m["cost"][code]), code
    assert m["cost"]["1"] != 500 * sum(line["quantity"] for _b, line in
                                       lines_of(bodies, FIRST, LAST) if code_of(line) == "1")
    assert report.total.margin == sum(m["net"].values()) - sum(m["cost"].values())
    assert {s.key: s.margin for s in report.shops} == dict(m["shop"])
    assert {r.key: (r.uncosted, r.uncosted_gross) for r in report.uncosted} == \
        {k: (n, m["uncosted"][k]) for k, n in m["uncosted_pieces"].items() if n}

    # --- discounts and promotions ---------------------------------------------------------
    given = recompute_discounts(bodies, FIRST, LAST)
    assert all(given["kinds"][k] > 0 for k in ("manual", "ticket", "promotion", "override"))
    found = discounts(period)
    assert {r["kind"]: r["discount"] for r in found.kinds} == \
        {k: given["kinds"].get(k, 0) for k in KINDS}
    assert {r["kind"]: r["gross"] for r in found.kinds if r["kind"] != "promotion"} == \
        {k: given["sold"].get(k, 0) for k in KINDS if k != "promotion"}
    [promotion] = found.promotions
    assert (promotion["ref"], promotion["discount"], promotion["gross"]) == \
        (PROMOTION["id"], given["kinds"]["promotion"], given["sold"]["promotion"])
    assert {(c["cashier"], k): c[k] for c in found.cashiers for k in KINDS if c[k]} == \
        {k: v for k, v in given["cashier"].items() if v}
