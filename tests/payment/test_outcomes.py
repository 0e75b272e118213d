"""Each terminal outcome against the simulated terminal over HTTPS, journaled in two phases."""

from __future__ import annotations

import threading
import time

import pytest

from drivers.payment.sim import SimTerminal
from firmware.payment_errors import PaymentPending
from firmware.till import TillService


def _types(till: TillService) -> list[str]:
    return [e.type for e in till.journal.entries()]


def _product(till: TillService):  # noqa: ANN202
    return next(p for p in till.catalogue.search("", limit=50) if not p.sold_by_weight)


def _ticket(till: TillService) -> int:
    till.add_product(_product(till).id, 2)
    return till.ticket.due


def test_approved_sale_carries_the_terminal_answer(pay_till: TillService,
                                                   terminal: SimTerminal) -> None:
    due = _ticket(pay_till)
    result = pay_till.payments.pay()
    assert result.outcome == "approved" and result.committed is not None
    types = _types(pay_till)
    assert types[-2:] == ["payment_started", "sale"]
    started, sale = list(pay_till.journal.entries())[-2:]
    tender = sale.body["data"]["tenders"][0]
    charge, = terminal.approved()
    assert started.body["data"]["service_id"] == tender["card"]["service_id"] == charge.service_id
    assert tender["amount"] == due == charge.amount
    assert tender["reference"] == charge.psp_reference
    assert tender["card"]["masked_pan"].endswith(("0010", "1111", "0019"))
    assert any("GOEDGEKEURD" in line for line in tender["card"]["receipt"])
    assert pay_till.ticket.is_empty and pay_till.payments.pending() is None


@pytest.mark.parametrize(("outcome", "journaled"), [("decline", "declined"),
                                                    ("cancel", "cancelled")])
def test_not_approved_keeps_the_ticket_open(pay_till: TillService, terminal: SimTerminal,
                                            outcome: str, journaled: str) -> None:
    due = _ticket(pay_till)
    terminal.behave(outcome)
    result = pay_till.payments.pay()
    assert result.outcome == journaled and result.committed is None
    last = list(pay_till.journal.entries())[-1]
    assert last.type == "payment_declined" and last.body["data"]["outcome"] == journaled
    assert pay_till.ticket.due == due and "sale" not in _types(pay_till)
    result = pay_till.payments.pay()  # the shopper tries again: a new request, same ticket
    assert result.outcome == "approved"
    assert len(terminal.approved()) == 1
    refs = {c.transaction_ref for c in terminal.charges}
    assert len(refs) == 1  # both attempts were for one ticket reference


def test_slow_answer_is_waited_for(pay_till: TillService, terminal: SimTerminal) -> None:
    _ticket(pay_till)
    terminal.behave("slow", 1.5)
    started = time.monotonic()
    assert pay_till.payments.pay().outcome == "approved"
    assert time.monotonic() - started >= 1.4


def test_lost_answer_is_resolved_by_transaction_status(pay_till: TillService,
                                                       terminal: SimTerminal) -> None:
    _ticket(pay_till)
    terminal.behave("lost")
    result = pay_till.payments.pay()
    assert result.outcome == "approved"
    assert _types(pay_till).count("sale") == 1 and len(terminal.approved()) == 1


def test_no_answer_within_the_timeout_is_asked_for(tmp_path, terminal: SimTerminal) -> None:
    from cli.assemble import build_till
    from cli.payment_wiring import build_terminal
    from firmware.sim import ensure_demo_data
    from tests.fixtures_till import RecordingDrawer
    from tests.payment.conftest import payment_config

    till = build_till(payment_config(tmp_path, terminal, timeout=10), drawer=RecordingDrawer())
    ensure_demo_data(till, products=10)
    build_terminal(till.config, till)
    till.payments.terminal.timeout = 0.5  # the shopper takes longer than the till waits
    till.login("1111")
    _ticket(till)
    terminal.behave("slow", 2.0)
    assert till.payments.pay().outcome == "approved"  # InProgress, then the approval
    assert len(terminal.approved()) == 1 and _types(till).count("sale") == 1
    till.db.close()


def test_abort_sends_abort_and_keeps_the_ticket(pay_till: TillService,
                                                terminal: SimTerminal) -> None:
    _ticket(pay_till)
    terminal.behave("no_answer")
    results = []
    worker = threading.Thread(target=lambda: results.append(pay_till.payments.pay()))
    worker.start()
    assert _wait(lambda: terminal.charges)
    with pytest.raises(PaymentPending):
        pay_till.pay_cash(100_000)  # no other payment while the terminal has one
    pay_till.payments.abort()
    worker.join(10)
    assert results[0].outcome == "aborted"
    assert terminal.aborts == [terminal.charges[0].service_id]
    assert not terminal.approved() and not pay_till.ticket.is_empty
    assert pay_till.pay_cash(100_000) is not None  # cash after the abort closes the sale


def _wait(predicate, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_the_cardholder_lines_are_printed_within_the_receipt_width(pay_till: TillService) -> None:
    from contract.receipt import build_document

    _ticket(pay_till)
    sale = pay_till.payments.pay().committed.entry
    card = sale.body["data"]["tenders"][0]["card"]
    for columns in (32, 42, 48):
        document = build_document(sale.body, sale.hash.hex() if isinstance(sale.hash, bytes)
                                  else str(sale.hash), pay_till.config.terminal, columns=columns)
        texts = [b["text"] for b in document["blocks"] if b["kind"] == "text"]
        assert all(len(text) <= columns for text in texts)
        assert f"  {card['brand'].upper()} {card['masked_pan']}" in texts
        for line in card["receipt"]:  # every cardholder line, nothing lost
            assert line in texts
        assert any("GOEDGEKEURD" in text for text in texts)


def test_a_referenced_refund_goes_back_to_the_original_payment(pay_till: TillService,
                                                               terminal: SimTerminal) -> None:
    from firmware.errors import NotRefundable
    from firmware.payment_errors import RefundNotByTerminal
    from firmware.permissions import Action, ApprovalRequired

    _ticket(pay_till)
    sale = pay_till.payments.pay().committed.entry
    charge, = terminal.approved()
    line_no = sale.body["data"]["lines"][0]["line_no"]
    with pytest.raises(ApprovalRequired):  # the manager first, before the terminal is asked
        pay_till.payments.refund(sale.seq, {line_no: 1})
    assert terminal.refunds == []
    approval = pay_till.approve("9999", Action.REFUND)
    refund = pay_till.payments.refund(sale.seq, {line_no: 1}, approval).entry
    back, = terminal.refunds
    assert back.transaction_ref == f"{charge.service_id}.{charge.psp_reference}"
    tender, = refund.body["data"]["tenders"]
    assert refund.type == "refund" and refund.body["ref_seq"] == sale.seq
    assert tender["amount"] == -back.amount and tender["reference"] == back.psp_reference
    assert tender["card"]["poi_transaction_id"].endswith(back.psp_reference)
    pay_till.payments.refund(sale.seq, {line_no: 1}, approval)  # the second item
    assert sum(r.amount for r in terminal.refunds) == charge.amount
    with pytest.raises(NotRefundable):  # nothing left of that sale
        pay_till.payments.refund(sale.seq, {line_no: 1}, approval)
    assert len(terminal.refunds) == 2
    cash_sale = pay_till.add_product(_product(pay_till).id) and pay_till.pay_cash(100_000)
    with pytest.raises(RefundNotByTerminal):  # a cash sale has no card payment to go back to
        pay_till.payments.refund(cash_sale.entry.seq, {1: 1}, approval)


def test_training_mode_never_reaches_the_terminal(pay_till: TillService,
                                                  terminal: SimTerminal) -> None:
    from firmware.payment_errors import TerminalInTraining
    from firmware.permissions import Action

    pay_till.set_training(True, approval=pay_till.approve("9999", Action.TRAINING))
    _ticket(pay_till)
    with pytest.raises(TerminalInTraining):
        pay_till.payments.pay()
    assert terminal.charges == [] and "payment_started" not in _types(pay_till)
    assert pay_till.pay_card(None, "T1") is not None  # the typed reference, as before


def test_split_part_card_then_card_then_cash(pay_till: TillService, terminal: SimTerminal) -> None:
    due = _ticket(pay_till)
    part, more = due // 3, due // 4
    first = pay_till.payments.pay(part)
    assert first.outcome == "approved" and first.committed is None  # part paid, ticket open
    assert pay_till.payments.pending() is None and pay_till.ticket.due == due - part
    second = pay_till.payments.pay(more)
    assert second.outcome == "approved" and second.committed is None
    sale = pay_till.pay_cash(100_000).entry
    kinds = [(t["kind"], t["amount"], bool(t.get("card"))) for t in sale.body["data"]["tenders"]]
    assert kinds[:2] == [("card", part, True), ("card", more, True)] and kinds[2][0] == "cash"
    assert [c.amount for c in terminal.approved()] == [part, more]
    assert len({c.transaction_ref for c in terminal.charges}) == 1  # one ticket


def test_payments_from_new_threads_keep_one_connection(pay_till: TillService,
                                                       terminal: SimTerminal) -> None:
    """The UI sends each payment from a new worker thread: the kept-alive TLS connection is
    shared, so a payment does not pay for a handshake; an Abort still gets a connection of
    its own while the payment's waits."""
    for _ in range(3):
        _ticket(pay_till)
        worker = threading.Thread(target=pay_till.payments.pay)
        worker.start()
        worker.join(10)
    assert len(terminal.approved()) == 3 and terminal.connections == 1
    _ticket(pay_till)
    terminal.behave("no_answer")
    results = []
    worker = threading.Thread(target=lambda: results.append(pay_till.payments.pay()))
    worker.start()
    assert _wait(lambda: len(terminal.charges) == 4)
    pay_till.payments.abort()
    worker.join(10)
    assert results[0].outcome == "aborted" and terminal.connections == 2
