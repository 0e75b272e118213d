"""Child process of tests/ui/test_age_dialog.py: the age check on the real Kivy window.

Usage: python -m tests.ui.age_scene WIDTHxHEIGHT OUT_DIR VAR_DIR
Scans a beer with a deposit (age 18) through the simulated scanner: the dialog asks, the
cashier refuses (the beer and its deposit leave the ticket); scans it again and confirms;
a second beer asks nothing; two empty cans come back from the manager screen (count, manager's
PIN); pays in cash. Writes OUT_DIR/age-WxH.json and a PNG per step.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from tests.ui.scenario import Driver, approve, dialog, run_scene

PILS_GTIN = "8712345678906"


def age_data(till: Any) -> None:
    from firmware.models import Product

    Product.create(gtin="0" + PILS_GTIN, name="Pils 33cl", price_cents=125, vat_code="high",
                   category="Dranken", stock_tracked=False, name_folded="pils 33cl",
                   age_limit=18, deposit_code="statiegeld-015", deposit_cents=15, deposit_vat_code="exempt")


def age_dialog_open() -> Any:
    from ui.age_dialog import AgeCheckDialog

    found = dialog()
    return found if isinstance(found, AgeCheckDialog) else None


def NumberDialogType() -> type:  # noqa: N802 - a lazily imported class
    from ui.dialogs import NumberDialog

    return NumberDialog


def scene(d: Driver) -> Iterator[Any]:
    import json as _json

    from firmware.models import JournalEntry

    app, till, scanner = d.app, d.app.till, d.sims.scanner
    sm = app.sm
    yield (lambda: sm.current == "login", "the login screen")
    yield 0.3
    login = sm.get_screen("login")
    d.type(login.ids.keypad, "1111")
    d.key(login.ids.keypad, "OK")
    yield (lambda: sm.current == "sale", "the sale screen after login")
    sale = sm.get_screen("sale")
    yield 0.3

    scanner.inject(PILS_GTIN)
    yield (lambda: age_dialog_open() is not None, "the age check dialog")
    yield 0.3
    d.shot("a1-age-question")
    asked = age_dialog_open()
    d.result["question"] = asked.text
    d.result["buttons"] = [asked.ids.no.text, asked.ids.yes.text]
    d.result["lines_while_asking"] = [line.name for line in till.ticket.active_lines]
    d.tap(asked.ids.no)
    yield (lambda: dialog() is None, "the dialog to close after refusing")
    yield 0.3
    d.shot("a2-refused")
    d.result["after_refuse"] = {"lines": [line.name for line in till.ticket.active_lines],
                                "message": sale.message, "rows": len(sale.ids.ticket.data)}

    scanner.inject(PILS_GTIN)
    yield (lambda: age_dialog_open() is not None, "the age check dialog, second time")
    yield 0.3
    d.tap(age_dialog_open().ids.yes)
    yield (lambda: dialog() is None, "the dialog to close after confirming")
    yield 0.3
    d.shot("a3-confirmed")
    d.result["after_confirm"] = {"lines": [line.name for line in till.ticket.active_lines],
                                 "message": sale.message, "required": till.age_check_required()}

    scanner.inject(PILS_GTIN)  # the same age again: not asked
    yield (lambda: len(till.ticket.active_lines) == 4, "the second beer and its deposit")
    yield 0.5
    d.result["second_asked"] = age_dialog_open() is not None
    d.shot("a4-second-beer")
    d.result["rows"] = [row["name"] for row in sale.ids.ticket.data]
    d.result["selected"] = sale.ids.ticket.selected_line
    d.result["count_two_beers"] = sale.count_text

    # two empty cans back, from the manager screen: the count, then the manager's PIN
    d.tap(sale.ids.manager)
    yield (lambda: sm.current == "manager", "the manager screen")
    manager = sm.get_screen("manager")
    yield 0.3
    d.shot("a5-manager")
    d.tap(manager.ids.empties)
    yield (lambda: isinstance(dialog(), NumberDialogType()), "the empties count")
    yield 0.3
    d.type(dialog().ids.keypad, "2")
    d.shot("a6-empties-count")
    d.key(dialog().ids.keypad, "OK")
    yield from approve(d, "the empties")
    yield (lambda: len(till.ticket.active_lines) == 5, "the empties line")
    yield 0.3
    d.shot("a7-empties-back")
    d.result["empties"] = {"screen": sm.current, "message": sale.message,
                           "count": sale.count_text,
                           "total": till.ticket.total,
                           "last": [(x.name, x.quantity, x.amount) for x in
                                    till.ticket.active_lines[-1:]]}

    committed = till.pay_cash(1000)
    d.result["sale"] = _json.loads(JournalEntry.get(JournalEntry.seq == committed.entry.seq).body)
    yield 0.3


def main(argv: list[str]) -> int:
    return run_scene(argv, "age", {}, scene, setup=lambda app, _d: age_data(app.till))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
