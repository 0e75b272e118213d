"""The session service: who is at the till (login, logout, a manager's approval) and training
mode. The state itself lives in the kernel; logging out parks an open ticket."""

from __future__ import annotations

from firmware.errors import AuthError, TicketOpen, TrainingAlreadyOff, TrainingAlreadyOn
from firmware.journal import Entry
from firmware.kernel import TillKernel
from firmware.permissions import Action, Approval, RememberedApprovals
from firmware.sales import SalesService
from firmware.users import Cashier


class SessionService:
    def __init__(self, kernel: TillKernel, sales: SalesService) -> None:
        self.kernel, self.sales = kernel, sales
        self.remembered = RememberedApprovals()

    def login(self, pin: str) -> Cashier:
        kernel = self.kernel
        with kernel.lock:
            try:
                cashier = kernel.users.authenticate(pin)
            except AuthError as exc:
                kernel.emit("auth_failed", reason=str(exc), error=exc)
                raise
            if kernel.cashier is not None and kernel.cashier.id != cashier.id:
                self.logout()
            self.remembered.forget()
            kernel.cashier = cashier
            kernel.commit("login", {"role": cashier.role}, cashier=cashier.name)
            kernel.emit("session", cashier=cashier.name, role=cashier.role)
            return cashier

    def logout(self) -> None:
        kernel = self.kernel
        with kernel.lock:
            if kernel.cashier is None:
                return
            if not self.sales.ticket.is_empty:
                self.sales.park(label="logout")
            kernel.commit("logout", {})
            kernel.cashier = None
            self.remembered.forget()
            kernel.emit("session", cashier=None, role=None)

    def approve(self, pin: str, action: Action) -> Approval:
        """A manager's PIN for one action (the override dialog); raises AuthError. For a
        series action (cash in/out) the approval is kept for a minute (permissions.REMEMBERED)."""
        approval = Approval(self.kernel.users.authenticate(pin, role="manager"), action)
        self.remembered.keep(approval)
        return approval

    def remembered_approval(self, action: Action) -> Approval | None:
        """A manager's approval of `action` still held from a PIN given within the minute."""
        return self.remembered.get(action)

    def set_training(self, on: bool, approval: Approval | None = None) -> Entry:
        kernel = self.kernel
        with kernel.lock:
            by = kernel.authorise(Action.TRAINING, approval)
            if on == kernel.training:
                raise TrainingAlreadyOn() if on else TrainingAlreadyOff()
            if not self.sales.ticket.is_empty:
                raise TicketOpen()
            if on:
                entry = kernel.commit("training_on", {"approved_by": by})
                kernel.training = True
            else:
                kernel.training = False
                entry = kernel.commit("training_off", {"approved_by": by})
            kernel.emit("training", on=on)
            return entry
