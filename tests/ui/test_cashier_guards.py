"""The till-side rules behind the cashier's guards (issue 22), without a window: tries left
and the lockout, the refund preview, the reprint default, the Z with the drawer open, the
manager's PIN held a minute for cash in/out, and euros typed with a decimal key."""

from __future__ import annotations

import pytest

from firmware.errors import (
    DrawerOpenAtClose,
    NoSaleToReprint,
    PinEntryLockedFor,
    WrongPinLastTry,
    WrongPinLocked,
    WrongPinTriesLeft,
)
from firmware.permissions import Action, ApprovalRequired, RememberedApprovals
from firmware.sim import MANAGER_PIN, make_gtin
from firmware.till import TillService
from ui.i18n import euros_to_cents, type_euros


def typed(keys: str) -> str:
    text = ""
    for key in keys:
        text = type_euros(text, key)
    return text


def test_wrong_pins_say_the_tries_left_then_lock_with_seconds(till: TillService) -> None:
    with pytest.raises(WrongPinTriesLeft) as first:
        till.login("0000")
    assert first.value.params == {"remaining": 2}
    with pytest.raises(WrongPinLastTry):
        till.login("0000")
    with pytest.raises(WrongPinLocked) as third:
        till.login("0000")
    assert third.value.params["seconds"] == till.config.terminal.lockout_seconds
    with pytest.raises(PinEntryLockedFor) as locked:
        till.login("1111")
    assert 1 <= locked.value.params["seconds"] <= till.config.terminal.lockout_seconds


def test_a_right_pin_ends_the_run_of_wrong_ones(till: TillService) -> None:
    for _ in range(2):
        with pytest.raises((WrongPinTriesLeft, WrongPinLastTry)):
            till.login("0000")
    till.login("1111")
    with pytest.raises(WrongPinTriesLeft) as again:  # the manager's counter was reset too
        till.approve("0000", Action.REFUND)
    assert again.value.params == {"remaining": 2}


def test_refund_preview_is_what_the_refund_pays(cashier_till: TillService) -> None:
    till = cashier_till
    for n in (1, 2):
        till.scan(make_gtin(n))
    seq = till.pay_card(None, "1234").entry.seq
    before = len(list(till.journal.entries()))
    preview = till.refund_preview(seq, {2: 1})
    assert len(list(till.journal.entries())) == before  # nothing journaled by a preview
    approval = till.approve(MANAGER_PIN, Action.REFUND)
    done = till.refund(seq, {2: 1}, approval=approval).entry.body["data"]
    assert preview["total_paid"] == done["total_paid"] < 0
    assert [line["gross"] for line in preview["lines"]] == [line["gross"] for line in done["lines"]]


def test_reprint_defaults_to_the_last_sale(cashier_till: TillService) -> None:
    till = cashier_till
    with pytest.raises(NoSaleToReprint):
        till.reprint()
    sales = []
    for n in (1, 2):
        till.scan(make_gtin(n))
        sales.append(till.pay_card(None, str(n)).entry.seq)
    till.x_report()  # not a sale: the copy is still of the last sale
    assert till.reprint().body["ref_seq"] == sales[-1]
    assert till.reprint(sales[0]).body["ref_seq"] == sales[0]


def test_z_close_waits_for_the_drawer_and_asks_before_the_pin(cashier_till: TillService,
                                                             drawer) -> None:  # noqa: ANN001
    drawer.state = "open_too_long"
    with pytest.raises(DrawerOpenAtClose):
        cashier_till.z_close({})  # no ApprovalRequired first: the drawer is said before the PIN
    drawer.state = "closed"
    with pytest.raises(ApprovalRequired):
        cashier_till.z_close({})


def test_cash_in_out_approval_holds_one_minute(cashier_till: TillService) -> None:
    till = cashier_till
    approval = till.approve(MANAGER_PIN, Action.CASH_IN_OUT)
    till.cash_movement("cash_out", 500, "Skim to safe", approval=approval)
    second = till.cash_movement("cash_in", 200, "Change")  # no approval passed: remembered
    assert second.entry.body["data"]["approved_by"] == "Bram"
    till.logout()
    till.login("1111")
    with pytest.raises(ApprovalRequired):
        till.cash_movement("cash_in", 200, "Change")


def test_remembered_approval_expires() -> None:
    now = [100.0]
    remembered = RememberedApprovals(clock=lambda: now[0])
    from firmware.permissions import Approval
    from firmware.users import Cashier

    approval = Approval(Cashier(1, "Bram", "manager"), Action.CASH_IN_OUT)
    remembered.keep(approval)
    remembered.keep(Approval(Cashier(1, "Bram", "manager"), Action.REFUND))  # one action only
    assert remembered.get(Action.REFUND) is None
    now[0] += 59
    assert remembered.get(Action.CASH_IN_OUT) is approval
    now[0] += 2
    assert remembered.get(Action.CASH_IN_OUT) is None


@pytest.mark.parametrize(("keys", "text", "cents"), [
    ("100", "100", 10000), ("12,5", "12,5", 1250), ("12,505", "12,50", 1250),
    (",5", "0,5", 50), ("007", "7", 700), ("5,,0", "5,0", 500), ("123456", "12345", 1234500),
])
def test_euros_typed_with_a_decimal_key(keys: str, text: str, cents: int) -> None:
    assert typed(keys) == text
    assert euros_to_cents(text) == cents
