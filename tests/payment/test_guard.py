"""While the PIN terminal has a payment of the open ticket, the till service itself refuses
to change that ticket (add, quantity, remove, discount, price, park, void, cancel the
payments): what the sale journals must be what the terminal charged."""

from __future__ import annotations

import threading
import time

import pytest

from drivers.payment.sim import SimTerminal
from firmware.payment_errors import TicketPaymentPending
from firmware.permissions import Action
from firmware.till import TillService


def _wait(predicate, timeout: float = 5.0) -> bool:  # noqa: ANN001
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_the_ticket_being_paid_cannot_be_changed(pay_till: TillService,
                                                 terminal: SimTerminal) -> None:
    product = next(p for p in pay_till.catalogue.search("", limit=50) if not p.sold_by_weight)
    line = pay_till.add_product(product.id, 2)
    due = pay_till.ticket.due
    terminal.behave("slow", 3.0)
    results = []
    worker = threading.Thread(target=lambda: results.append(pay_till.payments.pay()))
    worker.start()
    assert _wait(lambda: terminal.charges)
    manager = pay_till.approve("9999", Action.PRICE_OVERRIDE)
    refusals = {
        "add": lambda: pay_till.add_product(product.id, 1),
        "quantity": lambda: pay_till.set_quantity(line.line_no, 5),
        "remove": lambda: pay_till.remove_line(line.line_no),
        "discount": lambda: pay_till.discount_ticket(cents=1),
        "price": lambda: pay_till.override_price(line.line_no, 1, approval=manager),
        "park": lambda: pay_till.park("later"),
        "void": lambda: pay_till.void_open_ticket(),
        "payments_cancelled": lambda: pay_till.cancel_payments(),
    }
    for action, attempt in refusals.items():
        with pytest.raises(TicketPaymentPending) as refused:
            attempt()
        assert refused.value.params["action"] == action
        assert refused.value.params["service_id"] == terminal.charges[0].service_id
    assert pay_till.ticket.due == due and pay_till.parked() == []
    worker.join(10)
    assert results[0].outcome == "approved"
    sale = results[0].committed.entry
    assert sale.body["data"]["total_paid"] == due == terminal.approved()[0].amount
    assert [e.type for e in pay_till.journal.entries()].count("void") == 0
    pay_till.add_product(product.id, 1)  # the next ticket is free to edit
    pay_till.park("next")
    assert len(pay_till.parked()) == 1


def test_a_declined_payment_frees_the_ticket(pay_till: TillService,
                                             terminal: SimTerminal) -> None:
    product = next(p for p in pay_till.catalogue.search("", limit=50) if not p.sold_by_weight)
    line = pay_till.add_product(product.id, 2)
    terminal.behave("decline")
    assert pay_till.payments.pay().outcome == "declined"
    pay_till.set_quantity(line.line_no, 1)  # the cashier may change it again
    assert pay_till.void_open_ticket() is not None
