"""The till's transaction kernel: the few things every feature needs, behind a public API.

- commit: one journal entry and its stock change in one SQLite transaction, or nothing; a
  storage failure becomes a typed StorageError; 'committed' events wait for the outermost
  transaction to commit, so nothing is announced that a crash could still undo;
- authorise: who approved a manager-only action (the cashier, or a manager's PIN);
- the lock that serialises operations from the UI, the scanner thread and the runtime;
- the session (cashier, training mode) and the journal alarm gate;
- events for the UI and the recorders; the drawer and the print queue, used only after a
  commit (in training mode the drawer is only shown as opened unless the shop's
  `[drawer] open_in_training` says otherwise: a trainee never opens the real drawer).

Features (sales, cash, customers, offers, stock, reports) are services built on this class
(firmware/*.py); TillService (firmware/till.py) composes them.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import peewee

from contract.config import Config
from contract.receipt import build_receipt
from contract.shop_time import shop_today
from firmware.errors import JournalAlarmActive, NotLoggedIn, storage_error
from firmware.journal import Entry, Journal
from firmware.permissions import Action, Approval, authorising_manager
from firmware.ports import DeviceError, Drawer
from firmware.print_queue import PrintJob, PrintQueue
from firmware.users import Cashier, Users

log = logging.getLogger(__name__)

Listener = Callable[[str, dict[str, Any]], None]
ALLOWED_DURING_ALARM = frozenset({"login", "logout", "journal_alarm_ack", "software_start"})
STORAGE_ERRORS = (peewee.OperationalError, peewee.DatabaseError, sqlite3.Error, OSError)
_STOCK_SQL = ("INSERT INTO stock_level (product_id, quantity) VALUES (?, ?) ON CONFLICT"
              "(product_id) DO UPDATE SET quantity = quantity + excluded.quantity")


class DrawerOpening(StrEnum):
    """What happened to the drawer after a commit; falsy when it was not opened."""

    NONE = ""
    KICKED = "kicked"  # pulsed open
    TRAINING = "training"  # training mode: shown as opened on screen, the drawer stays shut


@dataclass(frozen=True)
class Committed:
    """A committed fiscal entry and what follows it physically."""

    entry: Entry
    change: int = 0
    drawer: DrawerOpening = DrawerOpening.NONE

    @property
    def drawer_opened(self) -> bool:
        """Opened as far as the cashier is told (in training: on screen only)."""
        return bool(self.drawer)


class TillKernel:
    """Commit, authorise, lock, journal, session and events; nothing about tickets."""

    def __init__(self, config: Config, db: peewee.SqliteDatabase, journal: Journal,
                 users: Users, drawer: Drawer | None = None,
                 print_queue: PrintQueue | None = None) -> None:
        self.config, self.db, self.journal, self.users = config, db, journal, users
        self.drawer = drawer
        self.print_queue = print_queue
        self.lock = threading.RLock()
        self.cashier: Cashier | None = None
        self.training = False
        self.journal_alarm: str | None = None  # set by the start-up check (firmware/integrity.py)
        self.journal_alarm_codes: list[dict[str, Any]] = []
        self.language = config.ui.language
        self._listeners: list[Listener] = []
        self._deferred: list[dict[str, Any]] | None = None  # committed events awaiting COMMIT

    # --- events --------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def emit(self, event: str, **data: Any) -> None:
        """Tells every listener; a failing listener is logged and never stops the till (so
        nothing that decides a price or a commit may be a listener: see firmware/pricing.py)."""
        for listener in list(self._listeners):
            try:
                listener(event, data)
            except Exception:
                log.exception("listener failed on %s", event)

    # --- session and permissions ---------------------------------------------------------
    def require_cashier(self) -> Cashier:
        if self.cashier is None:
            raise NotLoggedIn()
        return self.cashier

    def authorise(self, action: Action, approval: Approval | None) -> str | None:
        """The name of the manager who authorised a manager-only action, None when the action
        needs none; raises NotLoggedIn or ApprovalRequired."""
        manager = authorising_manager(self.require_cashier(), action, approval)
        return manager.name if manager else None

    def require_no_alarm(self, entry_type: str = "sale") -> None:
        """The journal alarm gate: while a start-up problem is unacknowledged, nothing but
        logins, logouts and the acknowledgement is journaled (and nothing is sold)."""
        if self.journal_alarm and entry_type not in ALLOWED_DURING_ALARM:
            codes = [str(p.get("code", "")) for p in self.journal_alarm_codes] or ["journal"]
            raise JournalAlarmActive(",".join(dict.fromkeys(codes)))

    def rate_of(self, vat_code: str) -> int:
        return self.config.tax.rate_bp(vat_code, shop_today())

    # --- the journal ---------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction. 'committed' events wait for the outermost one to commit, so
        nothing is announced (or printed by `kassa sim`) that a crash could still undo."""
        outer = self._deferred is None
        if outer:
            self._deferred = []
        try:
            with self.journal.transaction():
                yield
        except BaseException:
            if outer:
                self._deferred = None
            raise
        if outer:
            events, self._deferred = self._deferred, None
            for event in events:
                self.emit("committed", **event)

    def commit(self, entry_type: str, data: dict[str, Any] | Callable[[], dict[str, Any]], *,
               ref_seq: int | None = None, stock: Iterable[tuple[int, int]] = (),
               cashier: str | None = None) -> Entry:
        """Writes one journal entry and its stock changes [(product id, delta)] in one
        transaction, or nothing (raising StorageError). `data` may be a function, called inside
        the transaction (reports read the running totals)."""
        name = cashier if cashier is not None else (self.cashier.name if self.cashier else None)
        self.require_no_alarm(entry_type)
        try:
            with self.transaction():
                if callable(data):
                    data = data()
                entry = self.journal.append(entry_type, data, cashier=name,
                                            training=self.training, ref_seq=ref_seq)
                if not self.training and stock:
                    self.db.cursor().executemany(_STOCK_SQL, list(stock))
                self._deferred.append({"seq": entry.seq, "type": entry_type})
        except STORAGE_ERRORS as exc:
            raise storage_error(exc, entry_type) from exc
        return entry

    @contextlib.contextmanager
    def atomic(self, entry_type: str) -> Iterator[None]:
        """Several commits (and their table writes) as one transaction: all or nothing."""
        try:
            with self.transaction():
                yield
        except STORAGE_ERRORS as exc:
            raise storage_error(exc, entry_type) from exc

    # --- after a commit: drawer and printer ----------------------------------------------
    def open_drawer(self) -> DrawerOpening:
        """Pulses the drawer; a fault is reported as an event and never undoes the commit.
        In training mode the drawer stays shut (a trainee must not reach the cash) unless the
        shop set `[drawer] open_in_training`; the 'drawer_opened' event tells the screen either way."""
        if self.drawer is None:
            return DrawerOpening.NONE
        if self.training and not self.config.drawer.open_in_training:
            self.emit("drawer_opened", opening=DrawerOpening.TRAINING, training=True)
            return DrawerOpening.TRAINING
        try:
            self.drawer.open()
        except DeviceError as exc:
            self.emit("device", device="drawer", state="error", detail=str(exc))
            return DrawerOpening.NONE
        self.emit("drawer_opened", opening=DrawerOpening.KICKED, training=self.training)
        return DrawerOpening.KICKED

    def open_drawer_for(self, cash: bool) -> DrawerOpening:
        """The drawer after a commit that moved cash (`cash`); a commit without cash leaves it."""
        return self.open_drawer() if cash else DrawerOpening.NONE

    def print_receipt(self, entry: Entry, copy: bool = False) -> PrintJob | None:
        if self.print_queue is None:
            return None
        config, language = self.config, self.language
        # Built on the print queue's thread: the drawer and the next ticket do not wait on it.
        return self.print_queue.submit(entry.seq, lambda: build_receipt(
            entry.body, entry.hash, config.terminal, config.printer.columns, language,
            copy=copy))

    def print_document(self, entry: Entry, document: dict[str, Any]) -> PrintJob | None:
        if self.print_queue is None:
            return None
        return self.print_queue.submit(entry.seq, document)
