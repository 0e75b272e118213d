"""Child process of tests/ui/test_promotion_lines.py: the demo till in a real Kivy window with
head office's promotions; scans through the simulated scanner; what the sale screen's ticket
rows say after each scan (name, detail, amount), against the ticket itself. Writes JSON."""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.ui.scenario import Driver, launch


def promotions(till: Any) -> None:
    """Two promotions on the first demo products, through the uplink's own apply."""
    from contract.product_key import sku_of
    from firmware.sim import make_gtin
    from firmware.uplink.downstream import Downstream

    body = {"version": 1, "promotions": [
        {"id": "p-3-voor-2", "name": "3 halen, 2 betalen", "version": 1, "type": "buy_get",
         "buy": 2, "get": 1, "products": [sku_of(make_gtin(2), None)]},
        {"id": "p-2e-half", "name": "2e halve prijs", "version": 1, "type": "nth_percent",
         "n": 2, "percent": 50, "products": [sku_of(make_gtin(3), None)]}]}
    assert Downstream(till.db).apply("promotions", json.dumps(body).encode()).applied


def rows(sale: Any, till: Any) -> dict[str, Any]:
    from ui.i18n import money

    return {"rows": [{k: r[k] for k in ("line_no", "name", "detail", "amount")}
                     for r in sale.ids.ticket.data],
            "gross": [money(line.gross) for line in till.ticket.active_lines],
            "total": sale.total_text, "ticket_total": money(till.ticket.total)}


def steps(d: Driver) -> Iterator[Any]:
    from firmware.sim import CASHIER_PIN, make_gtin

    app, till, scanner = d.app, d.app.till, d.sims.scanner
    sm = app.sm
    yield (lambda: sm.current == "login", "the login screen")
    yield 0.3
    login = sm.get_screen("login")
    d.type(login.ids.keypad, CASHIER_PIN)
    d.key(login.ids.keypad, "OK")
    yield (lambda: sm.current == "sale", "the sale screen after login")
    sale = sm.get_screen("sale")
    yield 0.3
    d.result["after"] = []
    for n, code in enumerate([make_gtin(2)] * 3 + [make_gtin(3)] * 2 + [make_gtin(4)], start=1):
        scanner.inject(code)
        yield (lambda n=n: len(sale.ids.ticket.data) == n and sale.total_text
               == rows(sale, till)["ticket_total"], f"line {n} on the screen")
        yield 0.2
        d.result["after"].append(rows(sale, till))
    d.shot("34-sale-promotions")


def main(argv: list[str]) -> int:
    size, out, var = argv[0], Path(argv[1]), argv[2]
    out.mkdir(parents=True, exist_ok=True)
    app, sims = launch(size, var, {})
    promotions(app.till)
    driver = Driver(app, sims, out, size)
    from kivy.clock import Clock

    Clock.schedule_once(lambda _dt: driver.start(steps(driver)), 0.5)
    app.run()
    (out / "result.json").write_text(json.dumps(driver.result, indent=1, default=str))
    return 0 if driver.result.get("finished") and not driver.result["error"] else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception:
        Path(sys.argv[2]).mkdir(parents=True, exist_ok=True)
        (Path(sys.argv[2]) / "result.json").write_text(
            json.dumps({"error": traceback.format_exc()}))
        raise
