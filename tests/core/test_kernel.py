"""The transaction kernel on its own: what every service builds on (firmware/kernel.py)."""

from __future__ import annotations

import pytest

from firmware.errors import JournalAlarmActive, NotLoggedIn, StorageFailed
from firmware.kernel import TillKernel
from firmware.models import JournalEntry, StockLevel
from firmware.permissions import Action, ApprovalRequired
from firmware.till import TillService


@pytest.fixture
def kernel(cashier_till: TillService) -> TillKernel:
    return cashier_till.kernel


def test_commit_writes_entry_and_stock_together_and_announces_after_commit(kernel) -> None:
    events = []
    kernel.subscribe(lambda e, d: events.append((e, d)))
    before = StockLevel.get(StockLevel.product == 1).quantity
    with kernel.atomic("goods_received"):
        entry = kernel.commit("goods_received", {"lines": [], "supplier": "", "reference": "",
                                                 "approved_by": None}, stock=[(1, 5)])
        assert events == [], "nothing is announced before the outer transaction commits"
    assert events == [("committed", {"seq": entry.seq, "type": "goods_received"})]
    assert StockLevel.get(StockLevel.product == 1).quantity == before + 5
    assert entry.body["cashier"] == "Sanne"


def test_a_failure_inside_rolls_back_everything_and_is_typed(kernel) -> None:
    count = JournalEntry.select().count()
    events = []
    kernel.subscribe(lambda e, d: events.append(e))
    with pytest.raises(StorageFailed) as info, kernel.atomic("no_sale"):
        kernel.commit("no_sale", {"reason": "", "approved_by": None})
        raise OSError("disk I/O error")
    assert info.value.params == {"entry_type": "no_sale", "cause": "disk I/O error"}
    assert JournalEntry.select().count() == count and events == []


def test_authorise_and_the_alarm_gate(kernel) -> None:
    assert kernel.authorise(Action.SELL, None) is None
    with pytest.raises(ApprovalRequired) as info:
        kernel.authorise(Action.NO_SALE, None)
    assert info.value.action is Action.NO_SALE
    kernel.journal_alarm, kernel.journal_alarm_codes = "broken", [{"code": "edited"}]
    with pytest.raises(JournalAlarmActive) as alarm:
        kernel.commit("no_sale", {"reason": "", "approved_by": None})
    assert alarm.value.params == {"problem": "edited"}
    kernel.commit("logout", {})  # allowed while the alarm stands
    kernel.journal_alarm, kernel.journal_alarm_codes = None, []
    kernel.cashier = None
    with pytest.raises(NotLoggedIn):
        kernel.require_cashier()


def test_a_failing_listener_is_logged_and_does_not_stop_the_till(kernel, caplog) -> None:
    def broken(event, data):
        raise RuntimeError("listener bug")

    kernel.subscribe(broken)
    kernel.commit("logout", {})
    assert "listener failed on committed" in caplog.text
