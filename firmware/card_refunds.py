"""Referenced card refunds through the PIN terminal, in two journaled phases like payments.

1. `start`: a `refund_started` entry (amount, ServiceID, the original POITransactionID;
   ref_seq: the sale) and the pending refund (lines, amount, who approved it) are committed
   together before the Reversal is sent.
2. `finish`: the terminal's answer settles it. Approved: the refund entry with the terminal's
   answer, and the pending row goes in the same transaction. Not approved: `refund_declined`.

When the answer does not come (the till was killed, the network dropped) the outcome is
asked for with TransactionStatus of that Reversal (`resolve`), and no other refund or paid
void of that sale is made meanwhile: never refunded twice, never a refund journaled that
the terminal did not make.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from firmware.kernel import Committed, TillKernel
from firmware.models import JournalEntry, Meta
from firmware.payment_errors import (
    PaymentNotApproved,
    RefundNotByTerminal,
    RefundPending,
)
from firmware.permissions import Action, Approval
from firmware.ports import PaymentTerminal
from firmware.returns import ReturnService

log = logging.getLogger(__name__)

REFUND_KEY = "payment:refund_pending"
FINAL = frozenset({"approved", "declined", "cancelled", "aborted", "not_found", "failed"})


@dataclass(frozen=True)
class PendingRefund:
    """A Reversal that was sent (or about to be) and has no journaled outcome yet."""

    service_id: str
    seq: int  # the sale
    quantities: dict[int, int]
    amount: int
    original: str  # the payment's POITransactionID
    card: dict[str, Any]  # the original card tender's card (reference, brand, masked PAN)
    approved_by: str | None

    def to_json(self) -> str:
        return json.dumps({"service_id": self.service_id, "seq": self.seq,
                           "quantities": {str(k): v for k, v in self.quantities.items()},
                           "amount": self.amount, "original": self.original,
                           "card": self.card, "approved_by": self.approved_by})

    @classmethod
    def from_json(cls, text: str) -> PendingRefund:
        d = json.loads(text)
        return cls(d["service_id"], d["seq"], {int(k): v for k, v in d["quantities"].items()},
                   d["amount"], d["original"], d["card"], d["approved_by"])


@dataclass(frozen=True)
class RefundResult:
    """What became of a card refund: the refund entry (approved) or the refusal."""

    outcome: str  # approved | declined | not_received | failed
    committed: Committed | None = None
    reason: str = ""


Ask = Callable[[str, str], dict[str, Any]]  # (service_id, category) -> final outcome


class CardRefunds:
    """The two-phase card refund on the kernel and the returns service."""

    def __init__(self, kernel: TillKernel, returns: ReturnService, terminal: PaymentTerminal,
                 ask: Ask, poiid: str = "") -> None:
        self.kernel, self.returns, self.terminal, self._ask = kernel, returns, terminal, ask
        self.poiid = poiid
        self._settling = False
        row = Meta.get_or_none(Meta.key == REFUND_KEY)
        self._pending = PendingRefund.from_json(row.value) if row is not None else None
        returns.refund_checks.append(self._not_pending)

    def pending(self) -> PendingRefund | None:
        """The refund without an outcome (kept in memory: only this process writes it)."""
        return self._pending

    def _not_pending(self, seq: int) -> None:
        pending = self._pending
        if pending is not None and pending.seq == seq and not self._settling:
            raise RefundPending(pending.service_id, seq)

    # --- phase 1 -------------------------------------------------------------------------
    def start(self, seq: int, quantities: dict[int, int],
              approval: Approval | None = None) -> PendingRefund:
        """Checks the manager's approval and the amount, then journals refund_started and the
        pending refund; the Reversal is not sent yet. While an earlier refund's outcome is
        unknown nothing new starts (RefundPending: resolve() first)."""
        kernel = self.kernel
        with kernel.lock:
            by = kernel.authorise(Action.REFUND, approval)
            if self._pending is not None:
                raise RefundPending(self._pending.service_id, self._pending.seq)
            for check in self.returns.refund_checks:
                check(seq)
            sale = kernel.journal.get(seq)
            cards = [t for t in (sale.body["data"]["tenders"] if sale and sale.type == "sale"
                                 else []) if (t.get("card") or {}).get("poi_transaction_id")]
            amount = -self.returns.refund_preview(seq, quantities, "card")["total_paid"]
            if len(cards) != 1 or not 0 < amount <= cards[0]["amount"] - refunded(seq):
                raise RefundNotByTerminal(seq, amount)
            original = cards[0]["card"]
            pending = PendingRefund(secrets.token_hex(5), seq,
                                    {k: v for k, v in quantities.items() if v}, amount,
                                    original["poi_transaction_id"],
                                    {k: original.get(k, "") for k in
                                     ("transaction_ref", "brand", "masked_pan")}, by)
            with kernel.atomic("refund_started"):
                kernel.commit("refund_started", {
                    "amount": amount, "service_id": pending.service_id,
                    "original": pending.original[:128], "poiid": self.poiid}, ref_seq=seq)
                Meta.replace(key=REFUND_KEY, value=pending.to_json()).execute()
            self._pending = pending  # only once committed
            kernel.emit("refund", state="waiting", amount=amount)
            return pending

    def send(self, pending: PendingRefund) -> RefundResult:
        """Sends the Reversal and settles the answer; an unknown outcome is asked for.
        Blocks on the terminal: the UI calls it off its own thread."""
        try:
            outcome = self.terminal.refund(pending.service_id, pending.original, pending.amount)
        except (OSError, ValueError) as exc:  # no answer, or one that cannot be read
            log.warning("refund %s: %s; asking the terminal", pending.service_id, exc)
            outcome = {"result": "in_progress"}
        if outcome["result"] not in FINAL or outcome.get("service_id", pending.service_id) \
                not in ("", pending.service_id):
            self.kernel.emit("refund", state="checking")
            outcome = self._ask(pending.service_id, "Reversal")
        return self.finish(pending, outcome)

    def resolve(self) -> RefundResult | None:
        """At start-up and before the next refund: settles a pending refund from the
        terminal's TransactionStatus. None when nothing is pending; PaymentUnresolved when the
        terminal cannot tell yet (the refund stays pending)."""
        pending = self._pending
        if pending is None:
            return None
        self.kernel.emit("refund", state="checking")
        return self.finish(pending, self._ask(pending.service_id, "Reversal"))

    # --- phase 2 -------------------------------------------------------------------------
    def finish(self, pending: PendingRefund, outcome: dict[str, Any]) -> RefundResult:
        with self.kernel.lock:
            current = self._pending
            if current is None or current.service_id != pending.service_id:
                raise PaymentNotApproved("failed", "already settled")
            if outcome["result"] == "approved":
                return self._approved(pending, outcome)
            return self._declined(pending, outcome)

    def _approved(self, pending: PendingRefund, outcome: dict[str, Any]) -> RefundResult:
        card = {"service_id": pending.service_id,
                "transaction_ref": pending.card.get("transaction_ref") or pending.service_id,
                "psp_reference": str(outcome.get("psp_reference", ""))[:64],
                "brand": pending.card.get("brand", ""),
                "masked_pan": pending.card.get("masked_pan", ""),
                "poi_transaction_id": str(outcome.get("poi_transaction_id", ""))[:128]}
        self._settling = True
        try:
            committed = self.returns.commit_refund(
                pending.seq, pending.quantities, "card",
                card["psp_reference"] or pending.service_id, pending.approved_by, card,
                within=lambda: Meta.delete().where(Meta.key == REFUND_KEY).execute())
        finally:
            self._settling = False
        self._pending = None
        self.kernel.emit("refund", state="approved", amount=pending.amount)
        return RefundResult("approved", committed)

    def _declined(self, pending: PendingRefund, outcome: dict[str, Any]) -> RefundResult:
        result = "not_received" if outcome["result"] == "not_found" else outcome["result"]
        if result not in ("declined", "cancelled", "aborted", "not_received"):
            result = "failed"
        reason = str(outcome.get("reason") or outcome.get("detail") or result)[:500]
        with self.kernel.atomic("refund_declined"):
            self.kernel.commit("refund_declined", {
                "amount": pending.amount, "service_id": pending.service_id,
                "original": pending.original[:128], "outcome": result, "reason": reason},
                ref_seq=pending.seq)
            Meta.delete().where(Meta.key == REFUND_KEY).execute()
        self._pending = None
        self.kernel.emit("refund", state="declined", outcome=result)
        return RefundResult(result, reason=reason)


def refunded(seq: int) -> int:
    """What earlier referenced refunds of sale `seq` already put back on its card."""
    total = 0
    for row in JournalEntry.select().where(JournalEntry.ref_seq == seq,
                                          JournalEntry.type == "refund"):
        total -= sum(t["amount"] for t in json.loads(row.body)["data"]["tenders"]
                     if t.get("card"))
    return total
