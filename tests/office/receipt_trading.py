"""The owner's trading days (tests/office/owner_trading.py) with, on the reported day, what
finding a receipt and the cash page are about: a float, cash in and out, a customer's card
sale paid by card, a copy of it and a refund against it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firmware.customers import CustomerInfo
from firmware.permissions import Action
from firmware.sim import MANAGER_PIN
from tests.office.owner_trading import DAY, trade

CARD_REF = "PSP-8841-XQ"


@dataclass
class Marked:
    """The seqs of the day's special entries and the customer's card."""

    sale: int = 0
    copy: int = 0
    refund: int = 0
    card: str = ""
    bodies: list[dict[str, Any]] = field(default_factory=list)


def trade_with_receipts(tmp_path: Path, db: Any, sales: int = 20) -> Marked:
    from headoffice.customers.service import create

    marked = Marked()
    eva = create("Eva de Vries", "eva@example.nl")
    marked.card = eva.card

    def extras(till, day: dt.date) -> None:
        if day != DAY:
            return
        till.login("1111")
        manager = lambda action: till.approve(MANAGER_PIN, action)  # noqa: E731
        till.cash_movement("float", 15000, "", approval=manager(Action.CASH_IN_OUT))
        till.cash_movement("cash_in", 2500, "wisselgeld van de bank")
        till.customers.attach(CustomerInfo(eva.customer_id, eva.card, eva.name, "nl"))
        till.add_plu("2", quantity=3)
        till.add_plu("5")
        sale = till.pay_card(None, CARD_REF)
        marked.sale = sale.entry.seq
        marked.copy = till.reprint(marked.sale).seq
        marked.refund = till.refund(marked.sale, {1: 1}, "cash",
                                    approval=manager(Action.REFUND)).entry.seq
        till.cash_movement("cash_out", 1234, "boodschappen", approval=manager(Action.CASH_IN_OUT))
        till.logout()

    marked.bodies = trade(tmp_path, db, sales=sales, before_feed=extras)
    return marked
