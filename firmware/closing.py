"""The report service: X report, Z close (the day close with its cash count) and the
manager's acknowledgement of a journal alarm. The figures come from firmware/reports.py."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from contract.receipt import build_report
from firmware import anchor, integrity, reports
from firmware.errors import (
    BadPieceCount,
    DrawerOpenAtClose,
    NoJournalAlarm,
    TicketOpen,
    TotalsNotSealed,
    TrainingActive,
    UnknownDenomination,
)
from firmware.journal import Entry
from firmware.kernel import Committed, TillKernel
from firmware.permissions import Action, Approval
from firmware.sales import SalesService

log = logging.getLogger(__name__)
DRAWER_OPEN = ("open", "open_too_long")
RESYNC_CODES = frozenset({"totals", "truncated", "missing"})  # counters may disagree: rebuild


class ReportService:
    def __init__(self, kernel: TillKernel, sales: SalesService) -> None:
        self.kernel, self.sales = kernel, sales
        # Asked before a Z is committed (e.g. the PIN terminal's totals: firmware/card_close.py);
        # each returns what adds its figures to the Z's data inside the Z's transaction.
        self.close_hooks: list[Callable[[], Callable[[dict[str, Any]], None]]] = []
        self.after_close: list[Callable[[Entry], None]] = []  # once the Z is journaled

    def _print(self, entry: Entry) -> None:
        config = self.kernel.config
        self.kernel.print_document(entry, build_report(
            entry.body, entry.hash, config.terminal, config.printer.columns, self.kernel.language))

    def x_report(self) -> Committed:
        """An interim report of the open period: journaled and printed, nothing reset."""
        kernel = self.kernel
        with kernel.lock:
            kernel.authorise(Action.X_REPORT, None)
            entry = kernel.commit("x_report", lambda: reports.x_data(kernel.journal))
            self._print(entry)
            return Committed(entry)

    def z_close(self, counted_by_denomination: Mapping[int, int],
                approval: Approval | None = None) -> Committed:
        """Closes the day: figures, counted cash and variance in one z_close entry. An open
        drawer (its sensor says so) is shut first: asked before the manager's PIN."""
        kernel = self.kernel
        with kernel.lock:
            if kernel.drawer is not None and kernel.drawer.state in DRAWER_OPEN:
                raise DrawerOpenAtClose()
            by = kernel.authorise(Action.Z_CLOSE, approval)
            if kernel.training:
                raise TrainingActive()
            if not self.sales.ticket.is_empty:
                raise TicketOpen()
            denominations = kernel.config.cash.denominations_cents
            for denomination, pieces in counted_by_denomination.items():
                if denomination not in denominations:
                    raise UnknownDenomination(denomination)
                if isinstance(pieces, bool) or not isinstance(pieces, int) or pieces < 0:
                    raise BadPieceCount(denomination, pieces)
            counted = reports.counted_cash(counted_by_denomination, denominations)
            fills = [hook() for hook in self.close_hooks]
            entry = self._sealed_z(counted, by, fills)
            self._anchor(entry)
            self._print(entry)
            kernel.emit("z_close", seq=entry.seq, z_number=entry.body["data"]["z_number"])
            for after in self.after_close:
                after(entry)
            return Committed(entry)

    def _sealed_z(self, counted: dict[str, Any], by: str | None,
                  fills: list[Callable[[dict[str, Any]], None]]) -> Entry:
        """Commits the z_close over sealed running totals only: counters edited outside the
        till (their seal broken) raise the journal alarm and TotalsNotSealed instead."""
        kernel = self.kernel
        journal = kernel.journal

        def figures() -> dict[str, Any]:
            if not journal.totals_sealed():
                raise TotalsNotSealed()
            data = reports.z_data(journal, counted, by)
            for fill in fills:
                fill(data)
            return data

        try:
            return kernel.commit("z_close", figures)
        except TotalsNotSealed:
            seq, _ = journal.head()
            with kernel.atomic("z_close"):
                pending = integrity.remember(journal, [integrity.Problem(
                    "totals", seq, f"the running report totals lost their seal at entry {seq}: "
                    "they were changed outside the till; no Z is signed over them")])
            kernel.journal_alarm = integrity.describe(pending)
            kernel.journal_alarm_codes = integrity.as_dicts(pending)
            kernel.emit("journal_alarm", active=True)
            raise

    def _anchor(self, entry: Entry) -> None:
        """The Z's seq and hash into the anchor file, after its commit (a failure is logged;
        the next start-up brings the anchor up to this Z)."""
        journal = self.kernel.journal
        try:
            anchor.record(journal.db, journal.key, journal.store, journal.terminal, entry.seq,
                          entry.hash, entry.body["data"]["z_number"])
        except OSError as exc:
            log.error("Z close %s: the anchor file could not be written: %s", entry.seq, exc)

    def acknowledge_journal_alarm(self, approval: Approval | None = None) -> Entry:
        """A manager accepts the start-up alarm; the acknowledgement is journaled."""
        kernel = self.kernel
        with kernel.lock:
            if not kernel.journal_alarm:
                raise NoJournalAlarm()
            by = kernel.authorise(Action.ACK_JOURNAL_ALARM, approval)
            with kernel.atomic("journal_alarm_ack"):
                entry = kernel.commit("journal_alarm_ack", {
                    "problem": kernel.journal_alarm, "problems": kernel.journal_alarm_codes,
                    "approved_by": by})
                integrity.clear_alarm(kernel.journal)
            codes = {p["code"] for p in kernel.journal_alarm_codes}
            if codes & RESYNC_CODES:
                reports.resync_totals(kernel.journal)
            if codes & {"anchor", "truncated"}:  # acknowledged: the anchor follows the journal
                journal = kernel.journal
                anchor.renew(journal.db, journal.key, journal.store, journal.terminal)
            kernel.journal_alarm, kernel.journal_alarm_codes = None, []
            kernel.emit("journal_alarm", active=False)
            return entry
