"""The cash service: drawer openings without a sale, the opening float, cash in and out.

Each is journaled (manager-approved) before the drawer opens.
"""

from __future__ import annotations

from firmware.errors import AmountNotPositive, ReasonRequired, UnknownCashMovement
from firmware.kernel import Committed, TillKernel
from firmware.permissions import Action, Approval

CASH_MOVEMENTS = ("float", "cash_in", "cash_out")


class CashService:
    def __init__(self, kernel: TillKernel) -> None:
        self.kernel = kernel

    def no_sale(self, reason: str = "", approval: Approval | None = None) -> Committed:
        with self.kernel.lock:
            by = self.kernel.authorise(Action.NO_SALE, approval)
            entry = self.kernel.commit("no_sale", {"reason": reason, "approved_by": by})
            return Committed(entry, 0, self.kernel.open_drawer())

    def cash_movement(self, kind: str, amount: int, reason: str,
                      approval: Approval | None = None) -> Committed:
        """Opening float, cash in or cash out; journaled before the drawer opens."""
        with self.kernel.lock:
            if kind not in CASH_MOVEMENTS:
                raise UnknownCashMovement(kind)
            if amount <= 0:
                raise AmountNotPositive(amount)
            if kind != "float" and not reason.strip():
                raise ReasonRequired()
            by = self.kernel.authorise(Action.CASH_IN_OUT, approval)
            entry = self.kernel.commit(kind, {"amount": amount, "reason": reason.strip(),
                                              "approved_by": by})
            return Committed(entry, 0, self.kernel.open_drawer())
