"""Who may do what. The core enforces it; the UI only reflects it with override dialogs."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from firmware.errors import TillError
from firmware.users import Cashier


class Action(StrEnum):
    SELL = "sell"
    VOID_OPEN_TICKET = "void_open_ticket"
    VOID_PAID_TICKET = "void_paid_ticket"
    REFUND = "refund"
    PRICE_OVERRIDE = "price_override"
    LARGE_DISCOUNT = "large_discount"
    NO_SALE = "no_sale"
    CASH_IN_OUT = "cash_in_out"
    X_REPORT = "x_report"
    Z_CLOSE = "z_close"
    TRAINING = "training"
    REPRINT = "reprint"
    STOCK = "stock"
    ACK_JOURNAL_ALARM = "ack_journal_alarm"
    EXIT_KIOSK = "exit_kiosk"

    @property
    def words(self) -> str:
        """The action in plain English words ("price override"), for logs and the CLI."""
        return self.value.replace("_", " ")


MANAGER_ONLY = frozenset({
    Action.VOID_PAID_TICKET, Action.REFUND, Action.PRICE_OVERRIDE, Action.LARGE_DISCOUNT,
    Action.NO_SALE, Action.Z_CLOSE, Action.TRAINING, Action.ACK_JOURNAL_ALARM,
    Action.EXIT_KIOSK, Action.CASH_IN_OUT, Action.STOCK,
})


class ApprovalRequired(TillError):
    """The action needs a manager's PIN; the UI shows an override dialog and retries.

    params["action"] is the Action (a StrEnum: its value is the code the UI translates)."""

    template = "{action.words} needs a manager PIN"

    def __init__(self, action: Action) -> None:
        super().__init__(action=action)
        self.action = action


@dataclass(frozen=True)
class Approval:
    """A manager's consent to one action, obtained by TillService.approve(pin, action)."""

    manager: Cashier
    action: Action


def authorising_manager(user: Cashier, action: Action, approval: Approval | None) -> Cashier | None:
    """Returns who authorised a manager-only action (None when no manager is needed)."""
    if action not in MANAGER_ONLY:
        return None
    if user.is_manager:
        return user
    if approval is None or approval.action != action or not approval.manager.is_manager:
        raise ApprovalRequired(action)
    return approval.manager


REMEMBERED = {Action.CASH_IN_OUT: 60.0}
"""Actions done in a series (cash in, cash out, cash out...): a manager's PIN holds for this
many seconds, so the manager is not asked again for each entry. Every entry still records
the manager as approved_by in the journal."""


class RememberedApprovals:
    """A manager's approval of a series action, kept for REMEMBERED seconds after it was
    given; forgotten at once when the cashier changes."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._kept: dict[Action, tuple[Approval, float]] = {}

    def keep(self, approval: Approval) -> None:
        if approval.action in REMEMBERED:
            self._kept[approval.action] = (approval, self.clock() + REMEMBERED[approval.action])

    def get(self, action: Action) -> Approval | None:
        kept = self._kept.get(action)
        if kept is None or kept[1] <= self.clock():
            self._kept.pop(action, None)
            return None
        return kept[0]

    def forget(self) -> None:
        self._kept.clear()
