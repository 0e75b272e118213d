"""Card refunds in two journaled phases against the simulated terminal over HTTPS:
refund_started before the Reversal leaves, the refund entry only with the terminal's
approval, and an unknown outcome settled by TransactionStatus (at once or after a restart)
before another refund of that sale."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.assemble import build_till
from cli.payment_wiring import build_terminal
from drivers.payment.adyen import AdyenTerminal
from drivers.payment.crypto import SharedKey
from drivers.payment.sim import SimTerminal
from firmware.errors import NotRefundable
from firmware.payment_errors import PaymentNotApproved, RefundPending
from firmware.permissions import Action
from firmware.till import TillService
from tests.fixtures_till import RecordingDrawer
from tests.payment.conftest import PASSPHRASE, payment_config


def _types(till: TillService) -> list[str]:
    return [e.type for e in till.journal.entries()]


def _card_sale(till: TillService, quantity: int = 3):  # noqa: ANN202
    product = next(p for p in till.catalogue.search("", limit=50) if not p.sold_by_weight)
    till.add_product(product.id, quantity)
    return till.payments.pay().committed.entry


def _approval(till: TillService):  # noqa: ANN202
    return till.approve("9999", Action.REFUND)


def test_refund_started_is_journaled_before_the_reversal(pay_till: TillService,
                                                         terminal: SimTerminal) -> None:
    sale = _card_sale(pay_till)
    pending = pay_till.payments.start_refund(sale.seq, {1: 1}, _approval(pay_till))
    assert terminal.refunds == []  # nothing sent yet, but the intent is on disk
    started = list(pay_till.journal.entries())[-1]
    assert started.type == "refund_started" and started.body["ref_seq"] == sale.seq
    assert started.body["data"]["service_id"] == pending.service_id
    assert started.body["data"]["original"] == sale.body["data"]["tenders"][0]["card"][
        "poi_transaction_id"]
    result = pay_till.payments.send_refund(pending)
    assert result.outcome == "approved"
    back, = terminal.refunds
    assert back.service_id == pending.service_id
    refund = result.committed.entry
    assert refund.type == "refund" and refund.body["data"]["tenders"][0]["card"][
        "service_id"] == pending.service_id
    assert pay_till.payments.refunds.pending() is None


def test_a_declined_refund_is_journaled_and_nothing_goes_back(pay_till: TillService,
                                                              terminal: SimTerminal) -> None:
    sale = _card_sale(pay_till)
    terminal.behave_refund("decline")
    with pytest.raises(PaymentNotApproved):
        pay_till.payments.refund(sale.seq, {1: 1}, _approval(pay_till))
    assert _types(pay_till)[-2:] == ["refund_started", "refund_declined"]
    assert "refund" not in _types(pay_till) and terminal.refunds == []
    assert pay_till.refundable(sale.seq)[1] == 3  # the goods are still refundable
    pay_till.payments.refund(sale.seq, {1: 1}, _approval(pay_till))  # tried again: made
    assert len(terminal.refunds) == 1 and _types(pay_till).count("refund") == 1


def test_a_lost_answer_is_settled_by_transaction_status(pay_till: TillService,
                                                        terminal: SimTerminal) -> None:
    sale = _card_sale(pay_till)
    terminal.behave_refund("lost")
    committed = pay_till.payments.refund(sale.seq, {1: 1}, _approval(pay_till))
    back, = terminal.refunds
    assert committed.entry.body["data"]["tenders"][0]["reference"] == back.psp_reference
    assert _types(pay_till).count("refund") == 1


def test_while_a_refund_is_unknown_no_other_refund_of_that_sale(pay_till: TillService,
                                                                terminal: SimTerminal) -> None:
    sale = _card_sale(pay_till)
    pending = pay_till.payments.start_refund(sale.seq, {1: 1}, _approval(pay_till))
    with pytest.raises(RefundPending):  # not by card
        pay_till.payments.start_refund(sale.seq, {1: 1}, _approval(pay_till))
    with pytest.raises(RefundPending):  # nor in cash, nor a void of the paid ticket
        pay_till.refund(sale.seq, {1: 1}, "cash", approval=_approval(pay_till))
    with pytest.raises(RefundPending):
        pay_till.void_sale(sale.seq, approval=pay_till.approve("9999", Action.VOID_PAID_TICKET))
    pay_till.payments.send_refund(pending)
    pay_till.refund(sale.seq, {1: 1}, "cash", approval=_approval(pay_till))  # now it may


def _restart(till: TillService, tmp_path: Path, terminal: SimTerminal) -> TillService:
    till.db.close()
    again = build_till(payment_config(tmp_path, terminal), drawer=RecordingDrawer())
    build_terminal(again.config, again)
    again.login("1111")
    return again


@pytest.mark.parametrize("reached", [True, False])
def test_after_a_restart_the_pending_refund_is_settled_first(tmp_path: Path,
                                                             pay_till: TillService,
                                                             terminal: SimTerminal,
                                                             reached: bool) -> None:
    sale = _card_sale(pay_till)
    pending = pay_till.payments.start_refund(sale.seq, {1: 2}, _approval(pay_till))
    if reached:  # the Reversal left just before the till died: the acquirer made it
        direct = AdyenTerminal(terminal.url, terminal.poiid, "t1",
                               key=SharedKey("kassa-key", PASSPHRASE, 1),
                               ca_file=str(terminal.cert_file))
        assert direct.refund(pending.service_id, pending.original,
                             pending.amount)["result"] == "approved"
        direct.close()
    till = _restart(pay_till, tmp_path, terminal)
    assert till.payments.refunds.pending() == pending  # read back from the database
    with pytest.raises(RefundPending):
        till.refund(sale.seq, {1: 1}, "cash", approval=_approval(till))
    result = till.payments.resolve_refund()
    assert result.outcome == ("approved" if reached else "not_received")
    types = _types(till)
    assert types.count("refund") == (1 if reached else 0)
    assert types.count("refund_declined") == (0 if reached else 1)
    assert len(terminal.refunds) == (1 if reached else 0)
    if reached:
        with pytest.raises(NotRefundable):  # two of three already went back to the card
            till.payments.refund(sale.seq, {1: 2}, _approval(till))
    till.payments.refund(sale.seq, {1: 1}, _approval(till))
    assert sum(r.amount for r in terminal.refunds) == -sum(
        e.body["data"]["total_paid"] for e in till.journal.entries() if e.type == "refund")
    till.db.close()
