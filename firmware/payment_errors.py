"""Typed refusals of terminal payments (the UI translates them by type)."""

from __future__ import annotations

from firmware.errors import TillError


class PaymentPending(TillError):
    """A terminal payment for this ticket has no known outcome yet (params: service_id)."""

    template = "the last card payment is still being checked; wait for its outcome"

    def __init__(self, service_id: str) -> None:
        super().__init__(service_id=service_id)


class NoPaymentTerminal(TillError):
    template = "no payment terminal is configured: type the terminal's reference"

    def __init__(self) -> None:
        super().__init__()


class TerminalInTraining(TillError):
    """A trainee never charges a real card: in training mode Pin takes a typed reference."""

    template = "training mode: the PIN terminal is not used; type a card reference"

    def __init__(self) -> None:
        super().__init__()


class TerminalAmountOutOfRange(TillError):
    template = "the card amount {amount_cents} is not between 0,01 and the {due_cents} due"

    def __init__(self, amount_cents: int, due_cents: int) -> None:
        super().__init__(amount_cents=amount_cents, due_cents=due_cents)


class RefundNotByTerminal(TillError):
    """Sale `seq` was not paid by one terminal card payment covering the refund
    (params: seq, amount_cents): refund it with a typed reference and the manager's PIN."""

    template = "receipt {seq} was not paid by the PIN terminal for {amount_cents}"

    def __init__(self, seq: int, amount_cents: int) -> None:
        super().__init__(seq=seq, amount_cents=amount_cents)


class PaymentUnresolved(TillError):
    """The terminal could not be asked about a payment (params: service_id, reason)."""

    template = "the terminal cannot be reached to check the last card payment"

    def __init__(self, service_id: str, reason: str) -> None:
        super().__init__(service_id=service_id, reason=reason)


class PaymentNotApproved(TillError):
    """The terminal did not approve (params: outcome: declined, cancelled, aborted,
    not_received, failed; reason as the terminal gave it)."""

    template = "the card payment was not approved"

    def __init__(self, outcome: str, reason: str = "") -> None:
        super().__init__(outcome=outcome, reason=reason)


class TicketPaymentPending(TillError):
    """The open ticket is being paid on the PIN terminal: it cannot be edited, parked or
    voided until the payment's outcome is known (params: service_id, action)."""

    template = "the ticket is being paid on the PIN terminal; wait for the outcome"

    def __init__(self, service_id: str, action: str) -> None:
        super().__init__(service_id=service_id, action=action)


class RefundPending(TillError):
    """A card refund of sale `seq` was sent to the terminal and its outcome is not known yet:
    no other refund of that sale until the terminal says (params: service_id, seq)."""

    template = "the last card refund of receipt {seq} is still being checked; wait for its outcome"

    def __init__(self, service_id: str, seq: int) -> None:
        super().__init__(service_id=service_id, seq=seq)


class NoMerchantReceipt(TillError):
    """Receipt `seq` has no merchant lines from the PIN terminal (params: seq)."""

    template = "receipt {seq} was not paid through the PIN terminal: no merchant copy"

    def __init__(self, seq: int) -> None:
        super().__init__(seq=seq)
