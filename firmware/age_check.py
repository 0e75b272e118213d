"""The age check: an age-limited product (alcohol and tobacco: 18) needs the cashier to confirm
the customer's age, once per ticket.

Scanning or tapping such a product adds its line and announces an `age_check` event with the
age to confirm; the UI asks the cashier and answers with `confirm` or `refuse`. Until it is
answered, the ticket cannot be paid (AgeCheckPending). Confirming records the age, the cashier
and the moment on the ticket; it goes into the sale's journal entry as `age_check` (contract
entries.AgeCheck), so the confirmation is kept with the very ticket it allowed, signed in the
same entry, and costs no journal entry of its own. Refusing removes every line still waiting
(and their deposit lines); the removed lines stay in the entry, marked removed, as every
removed line does.

Later items with the same or a lower limit do not ask again; an item with a higher limit
(a 21 after an 18 was confirmed) asks again for that age.
"""

from __future__ import annotations

from typing import Any

from firmware import deposit
from firmware.errors import AgeCheckPending, NoAgeCheckPending
from firmware.journal import now_local
from firmware.kernel import TillKernel
from firmware.sales import SalesService
from firmware.ticket import Ticket

__all__ = ["AgeCheckService", "confirmed_age", "require_checked", "required_age"]


def confirmed_age(ticket: Ticket) -> int:
    """The age confirmed on this ticket so far (0: none)."""
    return int(ticket.age_check["age"]) if ticket.age_check else 0


def required_age(ticket: Ticket) -> int:
    """The age the cashier still has to confirm (0: nothing waits)."""
    confirmed = confirmed_age(ticket)
    return max((line.age_limit for line in ticket.active_lines if line.age_limit > confirmed),
               default=0)


def require_checked(ticket: Ticket) -> None:
    """The payment gate: raises AgeCheckPending while an age-limited item waits."""
    age = required_age(ticket)
    if age:
        raise AgeCheckPending(age)


class AgeCheckService:
    """The cashier's answer to an age check, on the sales service's open ticket."""

    def __init__(self, kernel: TillKernel, sales: SalesService) -> None:
        self.kernel, self.sales = kernel, sales
        sales.payment_checks.append(require_checked)
        kernel.subscribe(self._on_event)

    def _on_event(self, event: str, data: dict[str, Any]) -> None:
        if event == "ticket" and data.get("action") in ("add", "recall"):
            self.announce()

    def required(self) -> int:
        return required_age(self.sales.ticket)

    def announce(self) -> None:
        """After an item is added: asks the UI for an answer when one is needed."""
        age = self.required()
        if age:
            confirmed = confirmed_age(self.sales.ticket)
            self.kernel.emit("age_check", age=age, names=[
                line.name for line in self.sales.ticket.active_lines if line.age_limit > confirmed])

    def confirm(self) -> int:
        """The customer is old enough: records the age, the cashier and when; returns it."""
        with self.kernel.lock:
            cashier = self.kernel.require_cashier()
            age = self.required()
            if not age:
                raise NoAgeCheckPending()

            def record(ticket: Ticket) -> None:
                ticket.age_check = {"age": age, "confirmed_by": cashier.name, "at": now_local()}

            self.sales.edit(record, "age_confirmed")
            return age

    def refuse(self) -> list[int]:
        """The customer is not old enough (or shows no proof): every line waiting for the
        check leaves the ticket, with its deposit line; returns their line numbers."""
        with self.kernel.lock:
            self.kernel.require_cashier()
            confirmed = confirmed_age(self.sales.ticket)
            waiting = [line.line_no for line in self.sales.ticket.active_lines
                       if line.age_limit > confirmed]
            if not waiting:
                raise NoAgeCheckPending()

            def remove(ticket: Ticket) -> None:
                for line_no in waiting:
                    deposit.remove(ticket, line_no)

            self.sales.edit(remove, "age_refused")
            return waiting
