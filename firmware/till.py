"""The till service: the one object the UI, the till runtime, `kassa sim` and the tests talk to.

It holds no logic of its own: it composes the transaction kernel (firmware/kernel.py: commit,
authorise, lock, journal, session state, events) with the services built on it, and passes
each call on:

    session   firmware/session.py   login, logout, manager approval, training mode
    sales     firmware/sales.py     the ticket, pricing, park/recall, void open, payment
    returns   firmware/returns.py   refund, void of a paid ticket, receipt copy
    customers firmware/customers.py loyalty cards, search, favourites
    signups   firmware/signup.py    a new customer signed up at the till (outside the journal)
    cash      firmware/cash.py      no-sale, float, cash in and out
    stock     firmware/stock.py     goods received, stock counts
    reports   firmware/closing.py   X report, Z close, journal alarm acknowledgement

Every fiscal event is committed before anything physical happens (drawer, receipt). Refusals
are typed TillErrors (firmware/errors.py).
"""

from __future__ import annotations

from typing import Any

import peewee

from contract.cards import is_card
from contract.config import Config
from firmware.age_check import AgeCheckService
from firmware.card_close import CardClose
from firmware.cash import CashService
from firmware.catalogue import Catalogue, ProductInfo
from firmware.closing import ReportService
from firmware.customers import CustomerInfo, CustomerService
from firmware.deposit import DepositService
from firmware.errors import StorageError, TillError
from firmware.journal import Entry, Journal
from firmware.kernel import Committed, Listener, TillKernel
from firmware.models import ParkedTicket
from firmware.offers import OfferRule
from firmware.payment import PaymentService
from firmware.permissions import Action, Approval
from firmware.ports import Drawer, PaymentTerminal
from firmware.pricing import Pricing
from firmware.print_queue import PrintQueue
from firmware.promotion_rule import PromotionRule
from firmware.remote_config import RemoteConfig
from firmware.returns import ReturnService
from firmware.sales import SalesService
from firmware.session import SessionService
from firmware.signup import SignupReceipt, SignupService, valid_email
from firmware.stock import StockService
from firmware.ticket import Line, Ticket
from firmware.users import Cashier, Users

__all__ = ["Committed", "StorageError", "TillError", "TillService"]


class TillService:
    """Kernel + services; thin delegating methods with the names the UI and tests use."""

    def __init__(
        self,
        config: Config,
        db: peewee.SqliteDatabase,
        journal: Journal,
        drawer: Drawer | None = None,
        print_queue: PrintQueue | None = None,
        users: Users | None = None,
    ) -> None:
        users = users or Users(config.terminal.pin_attempts, config.terminal.lockout_seconds)
        self.kernel = TillKernel(config, db, journal, users, drawer, print_queue)
        self.catalogue = Catalogue.for_scanner(db, config.scanner)
        self.promotions = PromotionRule(db, config.terminal.store, self._category_of,
                                        self.catalogue.layouts)
        self.pricing = Pricing([OfferRule(db, config.terminal.terminal, self.catalogue.layouts),
                                self.promotions])
        self.sales = SalesService(self.kernel, self.catalogue, self.pricing)
        self.returns = ReturnService(self.kernel)
        self.session = SessionService(self.kernel, self.sales)
        self.customers = CustomerService(self.kernel, self.sales)
        self.signups = SignupService(self.kernel)
        self.cash = CashService(self.kernel)
        self.stock = StockService(self.kernel, self.catalogue)
        self.reports = ReportService(self.kernel, self.sales)
        self.age = AgeCheckService(self.kernel, self.sales)
        self.deposits = DepositService(self.kernel, self.sales)
        self.remote_config = RemoteConfig(self.kernel)  # head office's config, taken in
        self.payments: PaymentService | None = None  # [payment] kind none: typed references

    def attach_terminal(self, terminal: PaymentTerminal, poiid: str = "",
                        status_seconds: float = 60.0) -> PaymentService:
        """The PIN terminal (composition root only); Pin then goes through it."""
        self.payments = PaymentService(self.kernel, self.sales, terminal, self.returns,
                                       poiid=poiid, status_seconds=status_seconds,
                                       merchant_copy=self.config.payment.merchant_copy)
        close = CardClose(terminal)  # the Z compares card totals with the terminal's own
        self.reports.close_hooks.append(close.prepare)
        self.reports.after_close.append(close.after)
        return self.payments

    # --- state, as the UI and the runtime read it ----------------------------------------
    @property
    def config(self) -> Config:
        return self.kernel.config

    @property
    def db(self) -> peewee.SqliteDatabase:
        return self.kernel.db

    @property
    def journal(self) -> Journal:
        return self.kernel.journal

    @property
    def users(self) -> Users:
        return self.kernel.users

    @property
    def drawer(self) -> Drawer | None:
        return self.kernel.drawer

    @property
    def print_queue(self) -> PrintQueue | None:
        return self.kernel.print_queue

    def _category_of(self, product_id: int) -> str:
        product = self.catalogue.by_id(product_id)
        return product.category if product is not None else ""

    @property
    def ticket(self) -> Ticket:
        return self.sales.ticket

    @property
    def cashier(self) -> Cashier | None:
        return self.kernel.cashier

    @property
    def training(self) -> bool:
        return self.kernel.training

    @property
    def journal_alarm(self) -> str | None:
        return self.kernel.journal_alarm

    @journal_alarm.setter
    def journal_alarm(self, text: str | None) -> None:
        self.kernel.journal_alarm = text

    @property
    def journal_alarm_codes(self) -> list[dict[str, Any]]:
        return self.kernel.journal_alarm_codes

    @journal_alarm_codes.setter
    def journal_alarm_codes(self, codes: list[dict[str, Any]]) -> None:
        self.kernel.journal_alarm_codes = codes

    @property
    def language(self) -> str:
        return self.kernel.language

    @language.setter
    def language(self, language: str) -> None:
        self.kernel.language = language

    # --- events --------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self.kernel.subscribe(listener)

    def unsubscribe(self, listener: Listener) -> None:
        self.kernel.unsubscribe(listener)

    def emit(self, event: str, **data: Any) -> None:
        self.kernel.emit(event, **data)

    def rate_of(self, vat_code: str) -> int:
        return self.kernel.rate_of(vat_code)

    # --- session -------------------------------------------------------------------------
    def login(self, pin: str) -> Cashier:
        return self.session.login(pin)

    def logout(self) -> None:
        self.session.logout()

    def approve(self, pin: str, action: Action) -> Approval:
        return self.session.approve(pin, action)

    def set_training(self, on: bool, approval: Approval | None = None) -> Entry:
        return self.session.set_training(on, approval)

    # --- the scan path: runtime -> here -> sales or customers -> kernel -------------------
    def scan(self, code: str) -> Line | None:
        """A code from the scanner or typed in: adds the product and returns its line, or
        raises a typed TillError (announced as scan_rejected with error=). A loyalty card
        (scanner.loyalty_prefix) attaches its customer and returns None."""
        if is_card(code, self.kernel.config.scanner.loyalty_prefix):
            self.customers.attach_card(code)
            return None
        return self.sales.scan(code)

    # --- building the ticket -------------------------------------------------------------
    def add_product(self, product_id: int, quantity: int = 1, weight_g: int | None = None) -> Line:
        return self.sales.add_product(product_id, quantity, weight_g)

    def add_plu(self, plu: str, quantity: int = 1) -> Line:
        return self.sales.add_plu(plu, quantity)

    def set_quantity(self, line_no: int, quantity: int) -> None:
        self.sales.set_quantity(line_no, quantity)

    def remove_line(self, line_no: int) -> None:
        self.sales.remove_line(line_no)

    def discount_line(self, line_no: int, cents: int | None = None, percent: int | None = None,
                      approval: Approval | None = None) -> None:
        self.sales.discount_line(line_no, cents, percent, approval)

    def discount_ticket(self, cents: int | None = None, percent: int | None = None,
                        approval: Approval | None = None) -> None:
        self.sales.discount_ticket(cents, percent, approval)

    def override_price(self, line_no: int, unit_price: int, approval: Approval | None = None) -> None:
        self.sales.override_price(line_no, unit_price, approval)

    # --- age check and deposit (firmware/age_check.py, firmware/deposit.py) ---------------
    def age_check_required(self) -> int:
        """The customer's age the cashier still has to confirm on this ticket (0: none)."""
        return self.age.required()

    def confirm_age(self) -> int:
        return self.age.confirm()

    def refuse_age(self) -> list[int]:
        return self.age.refuse()

    def deposit_types(self) -> list[tuple[str, int]]:
        """(deposit code, cents per piece) of every deposit the catalogue's products carry."""
        return self.deposits.deposit_types()

    def return_empties(self, deposit_code: str, quantity: int = 1,
                       approval: Approval | None = None) -> Line:
        return self.deposits.return_empties(deposit_code, quantity, approval)

    # --- park / recall / void open -------------------------------------------------------
    def park(self, label: str = "") -> int:
        return self.sales.park(label)

    def parked(self) -> list[ParkedTicket]:
        return self.sales.parked()

    def recall(self, parked_id: int) -> None:
        self.sales.recall(parked_id)

    def void_open_ticket(self) -> Entry | None:
        return self.sales.void_open_ticket()

    def void_parked(self, parked_id: int) -> Entry:
        return self.sales.void_parked(parked_id)

    # --- payment -------------------------------------------------------------------------
    def cash_due(self) -> int:
        return self.sales.cash_due()

    def pay_cash(self, given: int, partial: bool = False) -> Committed | None:
        return self.sales.pay_cash(given, partial)

    def pay_card(self, amount: int | None, reference: str) -> Committed | None:
        return self.sales.pay_card(amount, reference)

    def pay_voucher(self, face_value: int, code: str) -> Committed | None:
        return self.sales.pay_voucher(face_value, code)

    def cancel_payments(self) -> None:
        self.sales.cancel_payments()

    # --- after the sale ------------------------------------------------------------------
    def sale_entry(self, seq: int) -> Entry:
        return self.returns.sale_entry(seq)

    def refundable(self, seq: int) -> dict[int, int]:
        return self.returns.refundable(seq)

    def refund(self, seq: int, quantities: dict[int, int], tender: str = "cash",
               reference: str = "", approval: Approval | None = None) -> Committed:
        return self.returns.refund(seq, quantities, tender, reference, approval)

    def void_sale(self, seq: int, approval: Approval | None = None) -> Committed:
        return self.returns.void_sale(seq, approval)

    def refund_preview(self, seq: int, quantities: dict[int, int],
                       tender: str = "cash") -> dict[str, Any]:
        return self.returns.refund_preview(seq, quantities, tender)

    def last_sale_seq(self) -> int:
        return self.returns.last_sale_seq()

    def reprint(self, seq: int | None = None) -> Entry:
        """A receipt copy; with no number, of the last completed sale."""
        return self.returns.reprint(seq)

    # --- drawer and cash -----------------------------------------------------------------
    def no_sale(self, reason: str = "", approval: Approval | None = None) -> Committed:
        return self.cash.no_sale(reason, approval)

    def cash_movement(self, kind: str, amount: int, reason: str,
                      approval: Approval | None = None) -> Committed:
        """A manager's PIN for cash in/out holds for a minute (a series of movements)."""
        approval = approval or self.session.remembered_approval(Action.CASH_IN_OUT)
        return self.cash.cash_movement(kind, amount, reason, approval)

    # --- customers -----------------------------------------------------------------------
    def attach_card(self, card: str) -> CustomerInfo:
        return self.customers.attach_card(card)

    def sign_up(self, email: str, name: str, consent: bool, language: str = "nl"
                ) -> SignupReceipt:
        """A new customer signed up by the cashier (firmware/signup.py): kept for head
        office, outside the journal."""
        return self.signups.sign_up(email, name, consent, language)

    def check_signup_email(self, email: str) -> str:
        """The address as a sign-up would record it, or the typed error saying what is wrong
        with it (the sign-up dialog asks before the consent question)."""
        return valid_email(email)

    def search_customers(self, text: str) -> list[CustomerInfo]:
        return self.customers.search(text)

    def attach_customer(self, customer: CustomerInfo) -> CustomerInfo:
        return self.customers.attach(customer)

    def detach_customer(self) -> None:
        self.customers.detach()

    def add_favourite(self, line_no: int) -> Entry:
        return self.customers.add_favourite(line_no)

    # --- stock ---------------------------------------------------------------------------
    def stock_product(self, ref: int | str) -> ProductInfo:
        """A stock-tracked product by id or scanned/typed code, for the stock screen."""
        return self.stock.product(ref)

    def local_stock(self, product_id: int) -> int:
        return self.stock.local_stock(product_id)

    def goods_received(self, lines: list[tuple[int | str, int]], supplier: str = "",
                       reference: str = "", approval: Approval | None = None) -> Entry:
        return self.stock.goods_received(lines, supplier, reference, approval)

    def stock_count(self, counts: list[tuple[int | str, int]], note: str = "",
                    approval: Approval | None = None) -> Entry:
        return self.stock.stock_count(counts, note, approval)

    # --- reports and the journal alarm ---------------------------------------------------
    def x_report(self) -> Committed:
        return self.reports.x_report()

    def z_close(self, counted_by_denomination: dict[int, int],
                approval: Approval | None = None) -> Committed:
        return self.reports.z_close(counted_by_denomination, approval)

    def acknowledge_journal_alarm(self, approval: Approval | None = None) -> Entry:
        return self.reports.acknowledge_journal_alarm(approval)
