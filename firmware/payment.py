"""Card payments through the PIN terminal, in two journaled phases.

1. `start`: a `payment_started` entry (amount, ServiceID, transaction reference) and the
   pending payment (with the ticket as it was) are committed together before the request is
   sent.
2. `finish`: the terminal's answer settles it. Approved: the sale is committed with the card
   tender (PSP reference, brand, masked PAN, cardholder receipt lines), and the pending row
   goes in the same transaction. Not approved: a `payment_declined` entry; the ticket stays
   open.

When the answer does not come (the till was killed, the network dropped, the timeout
passed) the outcome is asked for with TransactionStatus for that ServiceID, at once or at
the next start (`resolve`), and no other payment of the ticket is taken meanwhile: never a
sale without an approval, never two charges for one ticket.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contract.receipt import build_merchant_copy
from contract.shop_time import shop_stamp
from firmware.card_refunds import CardRefunds, PendingRefund, RefundResult
from firmware.journal import Entry
from firmware.kernel import Committed, TillKernel
from firmware.models import Meta, ParkedTicket
from firmware.payment_errors import (
    NoMerchantReceipt,
    NoPaymentTerminal,
    PaymentNotApproved,
    PaymentPending,
    PaymentUnresolved,
    TerminalAmountOutOfRange,
    TerminalInTraining,
    TicketPaymentPending,
)
from firmware.permissions import Approval
from firmware.ports import PaymentTerminal
from firmware.returns import ReturnService
from firmware.sales import SalesService
from firmware.ticket import Ticket
from firmware.worker import Worker

log = logging.getLogger(__name__)

PENDING_KEY = "payment:pending"
# Plain SQL for the pending row, written and removed on every card payment's critical path:
# the ORM's query building costs more than the statement.
_PUT_PENDING = "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)"
_DROP_PENDING = "DELETE FROM meta WHERE key = ?"
FINAL = frozenset({"approved", "declined", "cancelled", "aborted", "not_found", "failed"})


@dataclass(frozen=True)
class Pending:
    """A payment that was sent (or about to be) and has no journaled outcome yet."""

    service_id: str
    transaction_ref: str
    amount: int
    ticket: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps({"service_id": self.service_id, "transaction_ref": self.transaction_ref,
                           "amount": self.amount, "ticket": self.ticket})

    @classmethod
    def from_json(cls, text: str) -> Pending:
        data = json.loads(text)
        return cls(data["service_id"], data["transaction_ref"], data["amount"], data["ticket"])


@dataclass(frozen=True)
class PaymentResult:
    """What the cashier is shown: the sale (approved) or the refusal."""

    outcome: str  # approved | declined | cancelled | aborted | not_received | failed
    committed: Committed | None = None  # the sale, when the ticket is now paid
    reason: str = ""
    brand: str = ""
    masked_pan: str = ""


class PaymentService:
    """The terminal flow on the kernel and the sales service."""

    def __init__(self, kernel: TillKernel, sales: SalesService, terminal: PaymentTerminal,
                 returns: ReturnService, *, poiid: str = "", status_seconds: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep,
                 merchant_copy: str = "ask") -> None:
        self.kernel, self.sales, self.terminal, self.returns = kernel, sales, terminal, returns
        self.poiid, self.status_seconds, self._sleep = poiid, status_seconds, sleep
        self.merchant_copy = merchant_copy  # ask | always | never ([payment] merchant_copy)
        self._refs: tuple[Ticket, str] | None = None  # the open ticket's transaction reference
        self._settling = False
        self._origin: Ticket | None = None  # the ticket object the pending payment was for
        self._in_flight = threading.Event()
        self._pending = self._load_pending()  # left by the last run, if it was cut short
        # Where the UI sends a payment and asks what became of one: one long-lived thread
        # (and its database connection), not a new one per payment (firmware/worker.py).
        self.worker = Worker("pin-terminal", on_exit=kernel.db.close)
        sales.payment_checks.append(self._no_pending)
        sales.edit_checks.append(self._not_being_paid)
        sales.sale_hooks.append(self._settled)
        self.refunds = CardRefunds(kernel, returns, terminal, self._ask_status, poiid)

    # --- state ---------------------------------------------------------------------------
    def pending(self) -> Pending | None:
        """The payment without an outcome (kept in memory: only this process writes it)."""
        return self._pending

    def _load_pending(self) -> Pending | None:
        row = Meta.get_or_none(Meta.key == PENDING_KEY)
        return Pending.from_json(row.value) if row is not None else None


    def _write(self, sql: str, params: tuple[str, ...]) -> None:
        """Inside the caller's transaction."""
        self.kernel.db.cursor().execute(sql, params)

    def _no_pending(self, _ticket: Ticket) -> None:
        pending = self.pending()
        if pending is not None and not self._settling:
            raise PaymentPending(pending.service_id)

    def _not_being_paid(self, ticket: Ticket, action: str) -> None:
        """The ticket the terminal is paying stays as it was sent until the outcome is known:
        no line, discount, park or void (what the sale journals must be what was charged)."""
        pending = self.pending()
        if pending is not None and not self._settling and ticket is self._origin:
            raise TicketPaymentPending(pending.service_id, action)

    def _ticket_ref(self) -> str:
        ticket = self.sales.ticket
        if self._refs is None or self._refs[0] is not ticket:
            self._refs = (ticket, f"{self.kernel.config.terminal.terminal[:40]}-"
                                  f"{secrets.token_hex(6)}")
        return self._refs[1]

    # --- phase 1 -------------------------------------------------------------------------
    def start(self, amount: int | None = None) -> Pending:
        """Journals payment_started and the pending payment; the request is not sent yet."""
        with self.kernel.lock:
            self.kernel.require_cashier()
            if self.kernel.training:
                raise TerminalInTraining()
            ticket = self.sales.ticket
            for check in self.sales.payment_checks:
                check(ticket)
            due = ticket.due
            amount = due if amount is None else amount
            if ticket.is_empty or not 0 < amount <= due:
                raise TerminalAmountOutOfRange(amount, due)
            pending = Pending(secrets.token_hex(5), self._ticket_ref(), amount, ticket.to_dict())
            self._origin = ticket
            with self.kernel.atomic("payment_started"):
                self.kernel.commit("payment_started", {
                    "amount": amount, "service_id": pending.service_id,
                    "transaction_ref": pending.transaction_ref, "poiid": self.poiid})
                self._write(_PUT_PENDING, (PENDING_KEY, pending.to_json()))
            self._pending = pending  # only once committed
            self.kernel.emit("payment", state="waiting", amount=amount)
            return pending

    def send(self, pending: Pending) -> PaymentResult:
        """Sends the request and settles the answer; an unknown outcome is asked for."""
        self._in_flight.set()
        try:
            try:
                outcome = self.terminal.pay(pending.amount, pending.service_id,
                                            pending.transaction_ref)
            except (OSError, ValueError) as exc:  # no answer, or one that cannot be read
                log.warning("payment %s: %s; asking the terminal", pending.service_id, exc)
                self.kernel.emit("payment", state="checking")
                outcome = self._ask(pending)
            if outcome["result"] not in FINAL or outcome.get("service_id", pending.service_id) \
                    not in ("", pending.service_id):
                self.kernel.emit("payment", state="checking")
                outcome = self._ask(pending)
            return self.finish(pending, outcome)
        finally:
            self._in_flight.clear()

    def pay(self, amount: int | None = None) -> PaymentResult:
        """Pin pressed: phase 1, send, phase 2."""
        return self.send(self.start(amount))

    def abort(self) -> None:
        """The Abort button: the terminal stops the payment; its answer (aborted, or approved
        when the card was quicker) arrives through send() as usual."""
        pending = self.pending()
        if pending is None:
            return
        try:
            self.terminal.abort(pending.service_id)
        except (OSError, ValueError) as exc:
            log.warning("abort %s not delivered: %s", pending.service_id, exc)

    # --- finding out ---------------------------------------------------------------------
    def _ask(self, pending: Pending) -> dict[str, Any]:
        return self._ask_status(pending.service_id, "Payment")

    def _ask_status(self, service_id: str, category: str) -> dict[str, Any]:
        """TransactionStatus until the outcome is final; raises PaymentUnresolved when the
        terminal cannot tell within status_seconds (the payment or refund stays pending)."""
        deadline = time.monotonic() + self.status_seconds
        reason = "no answer"
        while True:
            try:
                outcome = (self.terminal.status(service_id) if category == "Payment"
                           else self.terminal.status(service_id, category))
                if outcome["result"] in FINAL:
                    return outcome
                reason = outcome.get("reason") or outcome["result"]
            except (OSError, ValueError) as exc:
                reason = str(exc)
            if time.monotonic() >= deadline:
                raise PaymentUnresolved(service_id, reason)
            self._sleep(0.5)

    def resolve(self) -> PaymentResult | None:
        """At start-up and whenever the cashier asks: settles a pending payment from the
        terminal's TransactionStatus. None when nothing is pending."""
        pending = self.pending()
        if pending is None or self._in_flight.is_set():
            return None
        self.kernel.emit("payment", state="checking")
        return self.finish(pending, self._ask(pending))

    # --- phase 2 -------------------------------------------------------------------------
    def finish(self, pending: Pending, outcome: dict[str, Any]) -> PaymentResult:
        with self.kernel.lock:
            current = self.pending()
            if current is None or current.service_id != pending.service_id:
                raise PaymentNotApproved("failed", "already settled")
            if outcome["result"] == "approved":
                return self._approved(pending, outcome)
            return self._declined(pending, outcome)

    def _approved(self, pending: Pending, outcome: dict[str, Any]) -> PaymentResult:
        card = {"service_id": pending.service_id, "transaction_ref": pending.transaction_ref,
                "psp_reference": str(outcome.get("psp_reference", ""))[:64],
                "brand": str(outcome.get("brand", ""))[:32],
                "masked_pan": str(outcome.get("masked_pan", ""))[:32],
                "receipt": [str(line)[:255] for line in outcome.get("receipt", [])][:100],
                "poi_transaction_id": str(outcome.get("poi_transaction_id", ""))[:128]}
        merchant = [str(line)[:255] for line in outcome.get("merchant_receipt", [])][:100]
        if merchant:
            card["merchant_receipt"] = merchant
        reference = card["psp_reference"] or str(outcome.get("poi_transaction_id", ""))[:128] \
            or pending.service_id
        live = self.sales.ticket
        # A ticket begun after a restart is not the one paid: it is kept open beside the sale.
        other = live if not live.is_empty and live is not self._origin else None
        self.sales.ticket = Ticket.from_dict(pending.ticket)  # as it was paid, whatever since
        self._settling = True
        try:
            committed = self.sales.pay_card(pending.amount, reference, card)
        except Exception:
            self.sales.ticket = live
            raise
        finally:
            self._settling = False
        if other is not None and committed is not None:
            self.sales.ticket = other
        if committed is not None:  # the sale's transaction removed the pending row
            self._pending = None
        if committed is None:  # a part payment: the ticket stays open with the card tender
            with self.kernel.atomic("payment"):
                self._write(_DROP_PENDING, (PENDING_KEY,))
            self._pending = None
            self._refs = (self.sales.ticket, pending.transaction_ref)
        self.kernel.emit("payment", state="approved", amount=pending.amount)
        if committed is not None and self.merchant_copy == "always":
            self._print_merchant(committed.entry)
        return PaymentResult("approved", committed, brand=card["brand"],
                             masked_pan=card["masked_pan"])

    def _settled(self, entry: Entry) -> None:
        """Inside the sale's transaction: the pending payment it settles is done."""
        pending = self.pending()
        if pending is None:
            return
        for tender in entry.body["data"]["tenders"]:
            if (tender.get("card") or {}).get("service_id") == pending.service_id:
                self._write(_DROP_PENDING, (PENDING_KEY,))

    def _declined(self, pending: Pending, outcome: dict[str, Any]) -> PaymentResult:
        result = "not_received" if outcome["result"] == "not_found" else outcome["result"]
        if result not in ("declined", "cancelled", "aborted", "not_received"):
            result = "failed"
        reason = str(outcome.get("reason") or outcome.get("detail") or result)[:500]
        with self.kernel.atomic("payment_declined"):
            self.kernel.commit("payment_declined", {
                "amount": pending.amount, "service_id": pending.service_id,
                "transaction_ref": pending.transaction_ref, "outcome": result,
                "reason": reason})
            self._write(_DROP_PENDING, (PENDING_KEY,))
        self._pending = None
        if self.sales.ticket.is_empty:  # after a restart: the ticket is open again
            self.sales.ticket = Ticket.from_dict(pending.ticket)
        elif self.sales.ticket is not self._origin:  # a new ticket since: park the unpaid one
            self._park(pending)
        self._refs = (self.sales.ticket, pending.transaction_ref)
        self.kernel.emit("payment", state="declined", outcome=result)
        return PaymentResult(result, reason=reason)


    # --- referenced refunds (firmware/card_refunds.py) -----------------------------------
    def refund(self, seq: int, quantities: dict[int, int],
               approval: Approval | None = None) -> Committed:
        """Goods of card sale `seq` back, the money back to the same card: refund_started,
        a Reversal naming the original payment, then the refund journaled with the
        terminal's answer. An earlier refund whose outcome is unknown is settled first."""
        if self.refunds.pending() is not None:
            self.refunds.resolve()
        result = self.refunds.send(self.refunds.start(seq, quantities, approval))
        if result.committed is None:
            raise PaymentNotApproved(result.outcome, result.reason)
        return result.committed

    def start_refund(self, seq: int, quantities: dict[int, int],
                     approval: Approval | None = None) -> PendingRefund:
        """Phase 1 only (quick, local): for the UI, which sends it off its own thread."""
        return self.refunds.start(seq, quantities, approval)

    def send_refund(self, pending: PendingRefund) -> RefundResult:
        return self.refunds.send(pending)

    def resolve_refund(self) -> RefundResult | None:
        return self.refunds.resolve()

    # --- the merchant's copy -------------------------------------------------------------
    def merchant_copy_of(self, seq: int) -> dict[str, Any]:
        """The printable merchant receipt of sale `seq`: the terminal's merchant lines of its
        card tenders (NoMerchantReceipt when it has none)."""
        entry = self.kernel.journal.get(seq)
        if entry is None or entry.type != "sale" or not any(
                (t.get("card") or {}).get("merchant_receipt")
                for t in entry.body["data"]["tenders"]):
            raise NoMerchantReceipt(seq)
        config = self.kernel.config
        return build_merchant_copy(entry.body, config.terminal, config.printer.columns,
                                   self.kernel.language)

    def print_merchant_copy(self, seq: int) -> None:
        """The cashier asked for the merchant copy (or [payment] merchant_copy = "always")."""
        with self.kernel.lock:
            self.kernel.require_cashier()
            entry = self.kernel.journal.get(seq)
            if entry is None:
                raise NoMerchantReceipt(seq)
            self._print_merchant(entry)

    def _print_merchant(self, entry: Entry) -> None:
        self.kernel.print_document(entry, self.merchant_copy_of(entry.seq))

    def _park(self, pending: Pending) -> None:
        cashier = self.kernel.cashier
        ParkedTicket.create(created=shop_stamp("microseconds"),
                            cashier=cashier.name if cashier else "", label="pin",
                            payload=json.dumps(pending.ticket))


def require_terminal(service: PaymentService | None) -> PaymentService:
    if service is None:
        raise NoPaymentTerminal()
    return service
