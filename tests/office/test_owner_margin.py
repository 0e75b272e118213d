"""Gross margin from the product master's cost prices, with a cost change between two days of
the range, against a recomputation from the journal entries a real till wrote."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict

from tests.office.owner_trading import AMSTERDAM, BEFORE, DAY, counted, trade


def master_product(code: str, name: str, vat_code: str, category: str):
    from headoffice.catalogue.fields import product_fields
    from headoffice.catalogue.products import save_product

    fields = {"plu": code} if code.isdigit() and len(code) <= 6 else {"gtin": code}
    product, _ = save_product(product_fields({**fields, "name": name, "vat_code": vat_code,
                                              "category": category}), "test")
    return product


def test_margin_takes_the_cost_valid_on_the_day_of_sale(tmp_path, office_db_url) -> None:
    from openpyxl import load_workbook

    from headoffice.catalogue.products import set_cost
    from headoffice.db import database_proxy
    from headoffice.exports.periods import Period
    from headoffice.margin_months import net_at as net_of
    from headoffice.web.margin_queries import margin
    from headoffice.web.report_sheets import xlsx

    bodies = trade(tmp_path, database_proxy.obj)
    # per (day, code): pieces and gross, and each code's VAT code, read off the journal
    sold: dict[tuple[dt.date, str], list[int]] = defaultdict(lambda: [0, 0])
    vat_code, names = {}, {}
    for body in bodies:
        day = dt.date.fromisoformat(body["ts"][:10])
        if counted(body) and BEFORE <= day <= DAY:
            for line in body["data"]["lines"]:
                if not line.get("removed"):
                    code = str(line.get("code") or line.get("product_id"))
                    sold[day, code][0] += line["quantity"]
                    sold[day, code][1] += line["gross"]
                    vat_code[code], names[code] = line["vat_code"], line["name"]
    both_days = [c for c in vat_code if sold[BEFORE, c][0] and sold[DAY, c][0]]
    assert len(both_days) >= 2, "the trading days share too few products"
    changed, steady = both_days[0], both_days[1]
    a = master_product(changed, names[changed], vat_code[changed], "Koffie")
    b = master_product(steady, names[steady], vat_code[steady], "Brood")
    set_cost(a, 100, dt.datetime(2025, 1, 1, tzinfo=AMSTERDAM))
    set_cost(a, 150, dt.datetime.combine(DAY, dt.time(0, 0), tzinfo=AMSTERDAM))  # from DAY on
    set_cost(b, 40, dt.datetime(2025, 1, 1, tzinfo=AMSTERDAM))
    rates = {"high": 2100, "low": 900, "zero": 0, "exempt": 0}

    def expected(code: str, costs: dict[dt.date, int]) -> tuple[int, int]:
        net = sum(net_of(sold[day, code][1], rates[vat_code[code]]) for day in (BEFORE, DAY))
        return net, sum(costs[day] * sold[day, code][0] for day in (BEFORE, DAY))

    report = margin(Period(BEFORE, DAY, "range"))
    by_key = {r.key: r for r in report.products}
    net_a, cost_a = expected(changed, {BEFORE: 100, DAY: 150})
    net_b, cost_b = expected(steady, {BEFORE: 40, DAY: 40})
    assert (by_key[changed].net, by_key[changed].cost) == (net_a, cost_a)
    assert cost_a != 100 * (sold[BEFORE, changed][0] + sold[DAY, changed][0])  # it changed
    assert (by_key[steady].net, by_key[steady].cost) == (net_b, cost_b)
    assert by_key[changed].margin == net_a - cost_a
    categories = {r.key: r for r in report.categories}
    assert categories["Koffie"].margin == net_a - cost_a
    assert categories["Brood"].margin == net_b - cost_b
    # everything else is sold without a cost price: listed, outside the margin
    others = {c for (day, c), v in sold.items() if c not in (changed, steady) and v[0]}
    assert {r.key for r in report.uncosted} == others
    assert sum(r.uncosted_gross for r in report.uncosted) == \
        sum(v[1] for (day, c), v in sold.items() if c in others)
    assert [(s.key, s.margin) for s in report.shops] == [("s1", net_a - cost_a + net_b - cost_b)]
    assert report.total.cost == cost_a + cost_b
    # one day alone takes that day's cost
    assert {r.key: r.cost for r in margin(Period(DAY, DAY, "day")).products}[changed] == \
        150 * sold[DAY, changed][0]
    book = load_workbook(io.BytesIO(xlsx("margin", Period(BEFORE, DAY, "range"))))
    total = [c.value for c in book["Totaal"][4]]
    assert [round(total[i] * 100) for i in (3, 4, 5)] == \
        [report.total.net, report.total.cost, report.total.margin]
    assert {row[0] for row in book["Zonder kostprijs"].iter_rows(min_row=4, values_only=True)} \
        == others
