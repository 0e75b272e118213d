"""The typed schema of every journal entry the till writes, and its one validator.

Till, uplink and head office read journal bodies through this module, so the shape of an
entry is written down once. The till validates every body here before it appends it (a body
that does not fit is never signed); head office parses what it receives with the same code.

API (names are stable; other packages rely on them):
- `ENTRY_TYPES`: frozenset of every entry type name.
- `SCHEMA`: the schema version the till writes now (the body's `v`, = contract.chain.SCHEMA);
  `VERSIONS`: the versions `parse_entry` accepts (older journals stay readable).
- `parse_entry(body, *, strict=True) -> Entry`: validates a body (the JSON object that is
  hashed and signed) and returns a frozen `Entry` whose `data` is the typed data of its type
  (`DATA_TYPES[entry.type]`). `strict=False` ignores keys the schema does not know (for a
  reader facing entries from a newer till); types, ranges and required keys are still checked.
- `validate_body(body)`: the same checks, for the writer; returns nothing.
- `EntrySchemaError(entry_type, field, reason)`: a ValueError naming the entry type, the
  field's path (e.g. `data.lines[2].quantity`) and the reason; nothing else is raised for
  any JSON-like input.
- Data classes, one per type: SaleData, RefundData, VoidData, NoSaleData, CashMovementData
  (float, cash_in, cash_out), CashCountData, LoginData, LogoutData, TrainingData
  (training_on, training_off), PriceOverrideData, XReportData, ZCloseData, ReceiptCopyData,
  ConfigChangeData, SoftwareStartData, SoftwareUpdateData, JournalAlarmAckData,
  GoodsReceivedData, StockCountData, OfferRedemptionData, CustomerFavouriteData,
  DownstreamRefusedData, CatalogueAppliedData (what the uplink did with head office's
  messages, journaled by the till: firmware/downstream_log.py), PaymentStartedData and
  PaymentDeclinedData (the PIN terminal's two phases: firmware/payment.py), RefundStartedData
  and RefundDeclinedData (the same two phases for a referenced card refund, whose approval is
  the refund entry itself); nested: TicketLine, AgeCheck, VatAmount, Tender (with CardPayment
  when the terminal was paid through), PromotionApplied, PromotionShare, Figure,
  TenderTotal, BrandTotal (the Z's card totals per brand, the journal's and the terminal's),
  CashFigures, GrandTotals, CashCount, AlarmProblem, GoodsLine, CountLine.

Rules: amounts are integer cents (no floats anywhere), bounded by `MAX_CENTS`; every string
has a maximum length; lists have a maximum number of items; an unknown key is an error
(strict mode). Validation never rewrites a body: the canonical JSON the till signs is the
caller's dict, unchanged. What the figures in x_report/z_close mean and their signs is
contract/figures.py's business (docs/GLOSSARY.md).

Versions: v1 report figures carry `voids` (every void, absolute amounts); v2 carries
`voids_open` and `voids_paid` apart, signed as contract/figures.py says, and
`average_ticket`. Every other type is the same in v1 and v2.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Union

from contract import chain

SCHEMA = chain.SCHEMA
VERSIONS = frozenset({1, 2})
MAX_CENTS = 100_000_000_000  # one billion euro: far above any till, far below 2**53
MAX_SEQ = 2**53 - 1  # exact in every JSON reader
MAX_UNITS = 1_000_000  # pieces or grams on one stock line
MAX_COUNT = 1_000_000_000
MAX_LINES = 2000
NAME = 255  # product, cashier, customer and supplier names
ID = 64  # store, terminal, sku, offer and customer ids
TEXT = 10_000  # reasons and notes (free text typed at the till)
LONG_TEXT = 20_000  # journal alarm descriptions
TS_PATTERN = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)")


class EntrySchemaError(ValueError):
    """A journal body that does not fit the schema of its type; says which field and why."""

    def __init__(self, entry_type: str, field: str, reason: str) -> None:
        super().__init__(f"{entry_type} entry: {field}: {reason}")
        self.entry_type, self.field, self.reason = entry_type, field, reason


class _Bad(Exception):
    """Internal: a failed check on the way up; each level adds its part of the path."""

    def __init__(self, reason: str, path: str = "") -> None:
        super().__init__(reason)
        self.reason, self.path = reason, path

    def under(self, part: str) -> _Bad:
        joined = part if not self.path else (
            part + self.path if self.path.startswith("[") else f"{part}.{self.path}")
        return _Bad(self.reason, joined)


# --- field declarations ---------------------------------------------------------------------
def num(lo: int = -MAX_CENTS, hi: int = MAX_CENTS, default: Any = dataclasses.MISSING,
        key: str | None = None) -> Any:
    """An integer field within [lo, hi] (bools are not integers here)."""
    return field(default=default, metadata={"lo": lo, "hi": hi, "key": key})


def text(maxlen: int = NAME, *, choices: frozenset[str] | None = None, minlen: int = 0,
         default: Any = dataclasses.MISSING) -> Any:
    """A string field of at most maxlen characters, optionally one of `choices`."""
    return field(default=default, metadata={"maxlen": maxlen, "minlen": minlen, "choices": choices})


def items(max_items: int = MAX_LINES, default: Any = dataclasses.MISSING, lo: int = -MAX_CENTS,
          hi: int = MAX_CENTS) -> Any:
    """A list field (a tuple once parsed) of at most max_items items."""
    if default is not dataclasses.MISSING:
        return field(default=default, metadata={"max_items": max_items, "lo": lo, "hi": hi})
    return field(metadata={"max_items": max_items, "lo": lo, "hi": hi})


def sub(default: Any = dataclasses.MISSING, key: str | None = None) -> Any:
    """A nested object (or a plain field with a JSON key that is not a Python name)."""
    return field(default=default, metadata={"key": key})


def frozen(cls: type) -> type:
    return dataclass(frozen=True, slots=True, kw_only=True)(cls)


# --- nested parts -----------------------------------------------------------------------------
TENDER_KINDS = frozenset({"cash", "card", "voucher"})


@frozen
class TicketLine:
    """One ticket line as the till journals it (firmware/ticket.py Line.to_dict + rate_bp).
    In a refund or a void of a paid ticket, quantity, amount, gross, discount, ticket_discount
    and stock_units are negated; prices are not."""

    line_no: int = num(1, 1_000_000)
    product_id: int | None = num(1, MAX_SEQ)
    code: str | None = text(ID * 2)
    name: str = text(NAME)
    vat_code: str = text(16, minlen=1)
    rate_bp: int = num(0, 10_000)
    unit_price: int = num(0, MAX_CENTS)
    quantity: int = num(-9999, 9999)
    weight_g: int | None = num(0, MAX_UNITS)
    embedded_price: int | None = num(0, MAX_CENTS)
    original_unit_price: int | None = num(0, MAX_CENTS)
    discount: int = num()
    discount_percent: int | None = num(0, 100, default=None)  # a percentage follows the amount
    ticket_discount: int = num()
    promo_discount: int = num(default=0)  # its shares of TicketData.promotions
    removed: bool
    stock_tracked: bool
    override_by: str | None = text(NAME)
    discount_by: str | None = text(NAME)
    sku: str = text(ID, default="")  # missing on lines journaled before SKUs existed
    age_limit: int = num(0, 99, default=0)  # the age the cashier confirmed for it (AgeCheck)
    deposit_for: int | None = num(0, 1_000_000, default=None)  # a deposit: its product's
    # line_no, 0 for returned empties (a negative line)
    amount: int = num()
    gross: int = num()
    stock_units: int = num(-MAX_CENTS, MAX_CENTS)


@frozen
class VatAmount:
    """VAT of one rate: gross (VAT included) = net + vat."""

    code: str = text(16, minlen=1)
    rate_bp: int = num(0, 10_000)
    gross: int = num()
    vat: int = num()
    net: int = num()

    @staticmethod
    def schema_problem(raw: dict[str, Any]) -> tuple[str, str] | None:
        """Checked on the JSON object once every field has its type."""
        if raw["net"] + raw["vat"] != raw["gross"]:
            return "gross", f"net {raw['net']} + vat {raw['vat']} is not gross {raw['gross']}"
        return None


@frozen
class CardPayment:
    """What the PIN terminal answered for an approved card tender (firmware/payment.py)."""

    service_id: str = text(10, minlen=1)
    transaction_ref: str = text(ID, minlen=1)
    psp_reference: str = text(ID)
    brand: str = text(32)
    masked_pan: str = text(32)
    receipt: tuple[str, ...] = items(100, default=())
    poi_transaction_id: str = text(128, default="")  # what a referenced refund names
    merchant_receipt: tuple[str, ...] = items(100, default=())  # the merchant's copy


@frozen
class Tender:
    """One payment of a ticket; negative amount when money goes back to the customer."""

    kind: str = text(16, choices=TENDER_KINDS)
    amount: int = num()
    given: int = num(0, MAX_CENTS)
    change: int = num(0, MAX_CENTS)
    reference: str = text(128)
    card: CardPayment | None = sub(default=None)  # paid through the PIN terminal


@frozen
class Figure:
    """A report figure: how many entries and their amount (signed as contract/figures.py says)."""

    count: int = num(0, MAX_COUNT)
    amount: int = num(-MAX_COUNT * 1000, MAX_COUNT * 1000)


@frozen
class TenderTotal:
    kind: str = text(16, minlen=1)
    count: int = num(0, MAX_COUNT)
    amount: int = num(-MAX_COUNT * 1000, MAX_COUNT * 1000)


@frozen
class BrandTotal:
    """Card payments of one brand in a period (count and signed amount, refunds negative)."""

    brand: str = text(32)
    count: int = num(0, MAX_COUNT)
    amount: int = num(-MAX_COUNT * 1000, MAX_COUNT * 1000)


@frozen
class CashFigures:
    """The drawer: expected = float + cash_in + cash_out + cash_tenders (signed figures)."""

    float_: int = num(-MAX_COUNT * 1000, MAX_COUNT * 1000, key="float")
    cash_in: int = num(-MAX_COUNT * 1000, MAX_COUNT * 1000)
    cash_out: int = num(-MAX_COUNT * 1000, MAX_COUNT * 1000)
    cash_tenders: int = num(-MAX_COUNT * 1000, MAX_COUNT * 1000)
    expected: int = num(-MAX_COUNT * 1000, MAX_COUNT * 1000)


@frozen
class GrandTotals:
    """Perpetual totals, absolute values, never reset."""

    sales: int = num(0, 2**62)
    returns: int = num(0, 2**62)


@frozen
class CashCount:
    """Counted cash: [[denomination cents, pieces], ...] and their total."""

    by_denomination: tuple[tuple[int, int], ...] = items(64, lo=0, hi=MAX_CENTS)
    total: int = num(0, MAX_CENTS)


@frozen
class AlarmProblem:
    code: str = text(32, minlen=1)
    bad_seq: int = num(0, MAX_SEQ)
    text: str = text(LONG_TEXT)


@frozen
class GoodsLine:
    product_id: int | None = num(1, MAX_SEQ)
    sku: str = text(ID)
    code: str | None = text(ID * 2)
    name: str = text(NAME)
    quantity: int = num(1, MAX_UNITS)


@frozen
class CountLine:
    product_id: int | None = num(1, MAX_SEQ)
    sku: str = text(ID)
    code: str | None = text(ID * 2)
    name: str = text(NAME)
    counted: int = num(0, MAX_UNITS)
    expected: int = num(-MAX_CENTS, MAX_CENTS)
    difference: int = num(-MAX_CENTS, MAX_CENTS)


@frozen
class PromotionShare:
    """One line's part of a promotion's discount."""

    line_no: int = num(1, 1_000_000)
    discount: int = num()


MAX_PROMOTIONS = 500  # promotions given on one ticket


@frozen
class PromotionApplied:
    """A head-office promotion given on a ticket (contract/promotions.py): its id, receipt name
    and version, the discount (negated in a refund or void) and each line's share of it."""

    id: str = text(ID, minlen=1)
    name: str = text(NAME, minlen=1)
    version: int = num(1, MAX_SEQ)
    discount: int = num()
    lines: tuple[PromotionShare, ...] = items()

    @staticmethod
    def schema_problem(raw: dict[str, Any]) -> tuple[str, str] | None:
        shares = sum(share["discount"] for share in raw["lines"])
        if shares != raw["discount"]:
            return "discount", f"the lines' shares add up to {shares}, not {raw['discount']}"
        return None


@frozen
class AgeCheck:
    """The cashier confirmed the customer's age for this ticket ("age confirmed" in the
    design): the highest age limit of its items, who confirmed it and when."""

    age: int = num(1, 99)
    confirmed_by: str = text(NAME)
    at: str = text(40, minlen=1)


# --- entry data, one class per type -------------------------------------------------------------
@frozen
class TicketData:
    """What a sale, a refund and a void share: the lines, VAT per rate and the total."""

    lines: tuple[TicketLine, ...] = items()
    vat: tuple[VatAmount, ...] = items(32)
    total: int = num()
    discount_total: int = num()
    ticket_discount: int = num()
    customer_id: str | None = text(ID, default=None)
    promotions: tuple[PromotionApplied, ...] = items(MAX_PROMOTIONS, default=())
    age_check: AgeCheck | None = sub(default=None)  # only on tickets with an age-limited item


@frozen
class SaleData(TicketData):
    """A paid ticket. total_paid = total + rounding (the 5-cent cash rounding delta)."""

    rounding: int = num(-50, 50)
    total_paid: int = num()
    tenders: tuple[Tender, ...] = items(32)
    change: int = num(0, MAX_CENTS)


@frozen
class RefundData(SaleData):
    """Goods returned against sale ref_seq: amounts negative, paid out in cash or to a card."""

    approved_by: str | None = text(NAME, default=None)


@frozen
class VoidData(TicketData):
    """A cancelled ticket: scope open or parked (never paid, moves no money) or paid (a
    counter-entry against sale ref_seq, every amount negated, with its tenders)."""

    scope: str = text(16, choices=frozenset({"open", "parked", "paid"}))
    rounding: int = num(-50, 50, default=0)
    total_paid: int | None = num(default=None)
    tenders: tuple[Tender, ...] = items(32, default=())
    change: int = num(-MAX_CENTS, MAX_CENTS, default=0)
    approved_by: str | None = text(NAME, default=None)


@frozen
class NoSaleData:
    reason: str = text(TEXT, default="")
    approved_by: str | None = text(NAME, default=None)


@frozen
class CashMovementData:
    """float, cash_in and cash_out: the amount handed in or taken out, always positive here
    (the report figure of cash_out is negative, see contract/figures.py)."""

    amount: int = num(1, MAX_CENTS)
    reason: str = text(TEXT, default="")
    approved_by: str | None = text(NAME, default=None)


@frozen
class CashCountData:
    """A counted drawer outside the day close (reserved: the till writes none today)."""

    counted: CashCount = sub()
    note: str = text(TEXT, default="")
    approved_by: str | None = text(NAME, default=None)


@frozen
class LoginData:
    role: str = text(16, choices=frozenset({"cashier", "manager"}))


@frozen
class LogoutData:
    pass


@frozen
class TrainingData:
    approved_by: str | None = text(NAME, default=None)


@frozen
class PriceOverrideData:
    product_id: int | None = num(1, MAX_SEQ)
    name: str = text(NAME)
    old_unit_price: int = num(0, MAX_CENTS)
    new_unit_price: int = num(0, MAX_CENTS)
    approved_by: str | None = text(NAME, default=None)


@frozen
class XReportData:
    """The figures of the open period (built by contract/figures.py; see docs/GLOSSARY.md)."""

    z_number: int = num(1, MAX_SEQ)
    first_seq: int = num(1, MAX_SEQ)
    last_seq: int = num(0, MAX_SEQ)
    turnover: int = num(-MAX_COUNT * 1000, MAX_COUNT * 1000)
    average_ticket: int | None = num(-MAX_CENTS, MAX_CENTS, default=None)  # v2
    tickets: int = num(0, MAX_COUNT)
    sales: Figure = sub()
    refunds: Figure = sub()
    voids: Figure | None = sub(default=None)  # v1 only: every void, absolute amounts
    voids_open: Figure | None = sub(default=None)  # v2
    voids_paid: Figure = sub()
    discounts: Figure = sub()
    price_overrides: Figure = sub()
    no_sales: Figure = sub()
    receipt_copies: Figure = sub()
    float_: Figure = sub(key="float")
    cash_in: Figure = sub()
    cash_out: Figure = sub()
    vat: tuple[VatAmount, ...] = items(64)
    tenders: tuple[TenderTotal, ...] = items(32)
    rounding: int = num(-MAX_COUNT * 1000, MAX_COUNT * 1000)
    training_entries: int = num(0, MAX_COUNT)
    x_reports: int = num(0, MAX_COUNT)
    cash: CashFigures = sub()
    grand_totals: GrandTotals = sub()

    @staticmethod
    def version_problem(raw: dict[str, Any], version: int) -> tuple[str, str] | None:
        """The figures each schema version must (not) carry, checked on the JSON object."""
        if version >= 2:
            for name in ("voids_open", "average_ticket"):
                if raw.get(name) is None:
                    return name, f"required in schema version {version}"
            if raw.get("voids") is not None:
                return "voids", f"replaced by voids_open and voids_paid in version {version}"
        elif raw.get("voids") is None:
            return "voids", "required in schema version 1"
        return None


@frozen
class ZCloseData(XReportData):
    """The day close: the period's figures, the counted cash and variance = counted - expected."""

    counted: CashCount = sub()
    variance: int = num(-MAX_COUNT * 1000, MAX_COUNT * 1000)
    approved_by: str | None = text(NAME, default=None)
    # The PIN terminal's day close (firmware/payment.py): card totals per brand from the
    # journaled approvals, the terminal's own (nexo Reconciliation) and their difference
    # (journal - terminal, in cents). Absent: no terminal was asked.
    card_brands: tuple[BrandTotal, ...] = items(64, default=())
    terminal_totals: tuple[BrandTotal, ...] | None = items(64, default=None)
    terminal_error: str = text(500, default="")
    card_difference: int = num(-MAX_COUNT * 1000, MAX_COUNT * 1000, default=0)


@frozen
class ReceiptCopyData:
    of_type: str = text(16, choices=frozenset({"sale", "refund", "void"}))


@frozen
class ConfigChangeData:
    """A configuration applied (reserved: the till writes none today)."""

    what: str = text(ID, minlen=1)
    version: str = text(ID, default="")
    source: str = text(4096, default="")
    approved_by: str | None = text(NAME, default=None)


@frozen
class SoftwareStartData:
    version: str = text(ID, minlen=1)
    config: str = text(4096)


@frozen
class SoftwareUpdateData:
    """A release switched in or rolled back (reserved: the till writes none today)."""

    from_version: str = text(ID)
    to_version: str = text(ID, minlen=1)
    outcome: str = text(32, default="")


@frozen
class JournalAlarmAckData:
    problem: str = text(LONG_TEXT)
    problems: tuple[AlarmProblem, ...] = items(1000)
    approved_by: str | None = text(NAME, default=None)


@frozen
class GoodsReceivedData:
    lines: tuple[GoodsLine, ...] = items()
    supplier: str = text(NAME, default="")
    reference: str = text(128, default="")
    approved_by: str | None = text(NAME, default=None)


@frozen
class StockCountData:
    lines: tuple[CountLine, ...] = items()
    note: str = text(TEXT, default="")
    approved_by: str | None = text(NAME, default=None)


@frozen
class OfferRedemptionData:
    offer_id: str = text(ID, minlen=1)
    customer_id: str | None = text(ID)
    line_no: int = num(1, 1_000_000)
    sku: str = text(ID)
    discount: int = num(0, MAX_CENTS)
    sale_seq: int = num(1, MAX_SEQ)


@frozen
class CustomerFavouriteData:
    customer_id: str = text(ID, minlen=1)
    sku: str = text(ID, minlen=1)
    name: str = text(NAME)


DOWNSTREAM_KINDS = frozenset({"catalogue", "prices", "offers", "config", "promotions"})
REASON = 500  # the uplink keeps the first 500 characters of a refusal


@frozen
class DownstreamRefusedData:
    """A head-office message the uplink did not apply: `refused` (out of bounds, malformed,
    unmergeable) or `ignored` (older than the applied version). `version` is None when the
    message had no readable version."""

    kind: str = text(20, minlen=1)
    outcome: str = text(16, choices=frozenset({"refused", "ignored"}))
    version: int | None = num(1, MAX_SEQ)
    reason: str = text(REASON)
    received_at: str = text(40, minlen=1)


@frozen
class CatalogueAppliedData:
    """A head-office message the uplink applied: `count` is products (catalogue), prices,
    offers or config sections; `removed` the products a catalogue took off sale."""

    kind: str = text(16, choices=DOWNSTREAM_KINDS)
    version: int = num(1, MAX_SEQ)
    count: int = num(0, MAX_COUNT)
    removed: int = num(0, MAX_COUNT, default=0)
    detail: str = text(REASON, default="")
    received_at: str = text(40, minlen=1)


PAYMENT_OUTCOMES = frozenset({"declined", "cancelled", "aborted", "not_received", "failed"})


@frozen
class PaymentStartedData:
    """Journaled before a payment request goes to the terminal: the till can always ask
    what became of it (TransactionStatus for service_id) after a crash."""

    amount: int = num(1, MAX_CENTS)
    service_id: str = text(10, minlen=1)
    transaction_ref: str = text(ID, minlen=1)
    poiid: str = text(ID)


@frozen
class PaymentDeclinedData:
    """A terminal payment that did not pay (the ticket stays open): the reason as the
    terminal gave it, or not_received when the terminal never saw the request."""

    amount: int = num(1, MAX_CENTS)
    service_id: str = text(10, minlen=1)
    transaction_ref: str = text(ID, minlen=1)
    outcome: str = text(16, choices=PAYMENT_OUTCOMES)
    reason: str = text(REASON)


@frozen
class RefundStartedData:
    """Journaled before a referenced card refund goes to the terminal (ref_seq: the sale):
    after a crash the till asks what became of service_id (TransactionStatus) before it
    lets another refund of that sale be made."""

    amount: int = num(1, MAX_CENTS)
    service_id: str = text(10, minlen=1)
    original: str = text(128, minlen=1)  # the payment's POITransactionID
    poiid: str = text(ID)


@frozen
class RefundDeclinedData:
    """A referenced card refund the terminal did not make (nothing went back to the card)."""

    amount: int = num(1, MAX_CENTS)
    service_id: str = text(10, minlen=1)
    original: str = text(128, minlen=1)
    outcome: str = text(16, choices=PAYMENT_OUTCOMES)
    reason: str = text(REASON)


EntryData = Union[  # noqa: UP007 (a runtime alias: isinstance checks in readers)
    SaleData, RefundData, VoidData, NoSaleData, CashMovementData, CashCountData, LoginData,
    LogoutData, TrainingData, PriceOverrideData, XReportData, ZCloseData, ReceiptCopyData,
    ConfigChangeData, SoftwareStartData, SoftwareUpdateData, JournalAlarmAckData,
    GoodsReceivedData, StockCountData, OfferRedemptionData, CustomerFavouriteData,
    DownstreamRefusedData, CatalogueAppliedData, PaymentStartedData, PaymentDeclinedData,
    RefundStartedData, RefundDeclinedData,
]

DATA_TYPES: dict[str, type] = {
    "sale": SaleData, "refund": RefundData, "void": VoidData, "no_sale": NoSaleData,
    "cash_in": CashMovementData, "cash_out": CashMovementData, "float": CashMovementData,
    "cash_count": CashCountData, "login": LoginData, "logout": LogoutData,
    "training_on": TrainingData, "training_off": TrainingData,
    "price_override": PriceOverrideData, "x_report": XReportData, "z_close": ZCloseData,
    "receipt_copy": ReceiptCopyData, "config_change": ConfigChangeData,
    "software_start": SoftwareStartData, "software_update": SoftwareUpdateData,
    "journal_alarm_ack": JournalAlarmAckData, "goods_received": GoodsReceivedData,
    "stock_count": StockCountData, "offer_redemption": OfferRedemptionData,
    "customer_favourite": CustomerFavouriteData,
    "downstream_refused": DownstreamRefusedData, "catalogue_applied": CatalogueAppliedData,
    "payment_started": PaymentStartedData, "payment_declined": PaymentDeclinedData,
    "refund_started": RefundStartedData, "refund_declined": RefundDeclinedData,
}
ENTRY_TYPES = frozenset(DATA_TYPES)
# Entries that only make sense against an earlier entry (their ref_seq).
NEEDS_REF = frozenset({"refund", "receipt_copy", "offer_redemption", "refund_started",
                       "refund_declined"})


@frozen
class Entry:
    """A parsed journal body: the envelope and the typed data of its type."""

    v: int = num(1, 2**31)
    seq: int = num(1, MAX_SEQ)
    type: str = text(32, choices=ENTRY_TYPES)
    ts: str = text(40)
    store: str = text(ID, minlen=1)
    terminal: str = text(ID, minlen=1)
    cashier: str | None = text(NAME)
    training: bool
    ref_seq: int | None = num(1, MAX_SEQ, default=None)
    data: EntryData = sub()


# --- the compiled checkers ---------------------------------------------------------------------
# Each dataclass gets one generated function (it runs for every sale, so no per-field calls):
# check(value, strict, build) validates a JSON value and, with build, returns the instance.
Check = Callable[[Any, bool, bool], Any]
_MISSING = object()


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "text", int: "a number", float: "a float",
             bool: "true/false", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _not_int(value: Any) -> str:
    return f"must be a whole number, not {_kind(value)}"


def _out_of_range(value: int, lo: int, hi: int) -> str:
    return f"{value} is not within {lo}..{hi}"


def _not_str(value: Any) -> str:
    return f"must be text, not {_kind(value)}"


def _bad_length(value: str, lo: int, hi: int) -> str:
    return f"must be {lo}..{hi} characters long, not {len(value)}"


def _not_choice(value: str, choices: frozenset[str]) -> str:
    return f"{value[:40]!r} is not one of {', '.join(sorted(choices))}"


def _not_bool(value: Any) -> str:
    return f"must be true or false, not {_kind(value)}"


def _unknown(value: dict[Any, Any], keys: frozenset[str]) -> _Bad | None:
    unknown = sorted(str(k) for k in value.keys() - keys)
    return _Bad("is not part of the schema", unknown[0][:40]) if unknown else None


def _list_check(item: Check, max_items: int) -> Check:
    def check(value: Any, strict: bool, build: bool) -> Any:
        if type(value) is not list and type(value) is not tuple:
            raise _Bad(f"must be a list, not {_kind(value)}")
        if len(value) > max_items:
            raise _Bad(f"has {len(value)} items, at most {max_items} allowed")
        out = []
        for i, child in enumerate(value):
            try:
                out.append(item(child, strict, build))
            except _Bad as bad:
                raise bad.under(f"[{i}]") from None
        return tuple(out) if build else None
    return check


def _pair_check(item: Check) -> Check:
    def check(value: Any, strict: bool, build: bool) -> Any:
        if (type(value) is not list and type(value) is not tuple) or len(value) != 2:
            raise _Bad("must be a pair [a, b]")
        first, second = item(value[0], strict, True), item(value[1], strict, True)
        return (first, second) if build else None
    return check


def _scalar_check(lines: list[str]) -> Check:
    """A checker for a bare scalar (list items), from the same generated lines."""
    source = "def check(v, strict, build):\n" + "".join(f"    {line}\n" for line in lines) + \
        "    return v\n"
    namespace = dict(_NAMESPACE)
    exec(source, namespace)  # noqa: S102 (generated from the dataclass fields above)
    return namespace["check"]


def _unwrap(hint: Any) -> tuple[Any, bool]:
    """(inner type, optional?) of `X | None`."""
    if typing.get_origin(hint) in (Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return (args[0] if len(args) == 1 else Any), True
    return hint, False


def _lines_for(hint: Any, meta: dict[str, Any], key: str, consts: dict[str, Any]) -> list[str]:
    """Source lines that check the local `v` (and, for nested values, convert it)."""
    inner, optional = _unwrap(hint)
    where = repr(key) if key else "''"
    n = len(consts)
    if inner is int:
        lo, hi = meta.get("lo", -MAX_CENTS), meta.get("hi", MAX_CENTS)
        body = [f"if type(v) is not int: raise _Bad(_not_int(v), {where})",
                f"if not {lo} <= v <= {hi}: raise _Bad(_out_of_range(v, {lo}, {hi}), {where})"]
    elif inner is str:
        choices = meta.get("choices")
        body = [f"if type(v) is not str: raise _Bad(_not_str(v), {where})"]
        if choices is not None:
            consts[f"C{n}"] = choices
            body.append(f"if v not in C{n}: raise _Bad(_not_choice(v, C{n}), {where})")
        else:
            lo, hi = meta.get("minlen", 0), meta.get("maxlen", NAME)
            body.append(f"if not {lo} <= len(v) <= {hi}: "
                        f"raise _Bad(_bad_length(v, {lo}, {hi}), {where})")
    elif inner is bool:
        body = [f"if type(v) is not bool: raise _Bad(_not_bool(v), {where})"]
    elif inner is Any:
        body = []
    else:
        origin = typing.get_origin(inner)
        if origin is tuple and typing.get_args(inner)[1:] == (Ellipsis,):
            item_hint = typing.get_args(inner)[0]
            if dataclasses.is_dataclass(item_hint):
                item = _object_check(item_hint)
            elif typing.get_origin(item_hint) is tuple:
                item = _pair_check(_scalar_check(_lines_for(typing.get_args(item_hint)[0], meta,
                                                            "", consts)))
            else:
                item = _scalar_check(_lines_for(item_hint, meta, "", consts))
            consts[f"S{n}"] = _list_check(item, meta.get("max_items", MAX_LINES))
        elif dataclasses.is_dataclass(inner):
            consts[f"S{n}"] = _object_check(inner)
        else:
            raise TypeError(f"no schema check for {inner!r}")
        call = f"v = S{n}(v, strict, build)"
        body = [call] if not key else [
            "try:", f"    {call}", f"except _Bad as bad: raise bad.under({where}) from None"]
    if optional and body:
        return ["if v is not None:"] + [f"    {line}" for line in body]
    return body


_COMPILED: dict[type, Check] = {}
_NAMESPACE: dict[str, Any] = {
    "_Bad": _Bad, "_MISSING": _MISSING, "_not_int": _not_int, "_out_of_range": _out_of_range,
    "_not_str": _not_str, "_bad_length": _bad_length, "_not_choice": _not_choice,
    "_not_bool": _not_bool, "_unknown": _unknown, "_kind": _kind,
}


def _object_check(cls: type) -> Check:
    """The generated checker that turns a JSON object into an instance of dataclass `cls`."""
    if cls in _COMPILED:
        return _COMPILED[cls]
    hints = typing.get_type_hints(cls)
    consts: dict[str, Any] = {"CLS": cls}
    lines = ["if type(value) is not dict: raise _Bad('must be an object, not ' + _kind(value))",
             "seen = 0"]
    names = []
    keys = []
    for i, f in enumerate(dataclasses.fields(cls)):
        meta = dict(f.metadata)
        key = meta.get("key") or f.name
        keys.append(key)
        names.append(f"{f.name}=f{i}")
        lines.append(f"v = value.get({key!r}, _MISSING)")
        lines.append("if v is _MISSING:")
        if f.default is dataclasses.MISSING:
            lines.append(f"    raise _Bad('is required', {key!r})")
        else:
            consts[f"D{i}"] = f.default
            lines.append(f"    f{i} = D{i}")
        lines.append("else:")
        lines.append("    seen += 1")
        lines += [f"    {line}" for line in _lines_for(hints[f.name], meta, key, consts)]
        lines.append(f"    f{i} = v")
    consts["KEYS"] = frozenset(keys)
    lines.append("if strict and len(value) > seen:")
    lines.append("    bad = _unknown(value, KEYS)")
    lines.append("    if bad is not None: raise bad")
    if hasattr(cls, "schema_problem"):
        consts["PROBLEM"] = cls.schema_problem
        lines += ["found = PROBLEM(value)", "if found: raise _Bad(found[1], found[0])"]
    lines.append(f"return CLS({', '.join(names)}) if build else None")
    source = "def check(value, strict, build):\n" + "".join(f"    {line}\n" for line in lines)
    namespace = {**_NAMESPACE, **consts}
    exec(source, namespace)  # noqa: S102 (generated from the dataclass fields above)
    check: Check = namespace["check"]
    _COMPILED[cls] = check
    return check


# A data type's checker is generated when a body of that type is first checked: a till
# writes a handful of the types, and the others' generated code would only take memory.
_ENVELOPE_FIELDS = [f for f in dataclasses.fields(Entry) if f.name != "data"]
_ENVELOPE_CHECK = _object_check(dataclasses.make_dataclass(
    "Envelope", [(f.name, typing.get_type_hints(Entry)[f.name], f) for f in _ENVELOPE_FIELDS]
    + [("data", Any, field(default=None))], frozen=True, kw_only=True))


def _check(body: Any, strict: bool, build: bool) -> Entry | None:
    if type(body) is not dict:
        raise EntrySchemaError("?", "body", f"must be an object, not {_kind(body)}")
    kind = body.get("type")
    entry_type = kind if type(kind) is str and kind in DATA_TYPES else "?"
    try:
        envelope = _ENVELOPE_CHECK(body, strict, build)
        if body["v"] not in VERSIONS:
            raise _Bad(f"schema version {body['v']} is not one of "
                       f"{', '.join(map(str, sorted(VERSIONS)))}", "v")
        if not TS_PATTERN.fullmatch(body["ts"]):
            raise _Bad("is not an ISO 8601 time with its UTC offset", "ts")
        if "data" not in body:
            raise _Bad("is required", "data")
        try:
            data = _object_check(DATA_TYPES[entry_type])(body["data"], strict, build)
        except _Bad as bad:
            raise bad.under("data") from None
        _cross_checks(entry_type, body)
    except _Bad as bad:
        raise EntrySchemaError(entry_type, bad.path or "body", bad.reason) from None
    if not build:
        return None
    values = {f.name: getattr(envelope, f.name) for f in _ENVELOPE_FIELDS}
    return Entry(data=data, **values)


def parse_entry(body: dict[str, Any], *, strict: bool = True) -> Entry:
    """Validates a journal body and returns it typed; raises EntrySchemaError naming the field."""
    entry = _check(body, strict, True)
    assert entry is not None
    return entry


def validate_body(body: dict[str, Any]) -> None:
    """The writer's check (no objects built): raises EntrySchemaError when the body does not
    fit its type."""
    _check(body, True, False)


def _cross_checks(entry_type: str, body: dict[str, Any]) -> None:
    """Rules that span the envelope and the data (on the JSON, every field already typed)."""
    data = body["data"]
    if entry_type in NEEDS_REF and body.get("ref_seq") is None:
        raise _Bad(f"a {entry_type} entry refers to an earlier entry", "ref_seq")
    if entry_type == "void" and data["scope"] == "paid":
        if body.get("ref_seq") is None:
            raise _Bad("a void of a paid ticket refers to its sale", "ref_seq")
        if data.get("total_paid") is None:
            raise _Bad("is required when scope is paid", "data.total_paid")
    if entry_type in ("sale", "refund", "void"):
        _promotion_shares(data)
    if entry_type in ("x_report", "z_close"):
        found = XReportData.version_problem(data, body["v"])
        if found:
            raise _Bad(found[1], f"data.{found[0]}")


def _promotion_shares(data: dict[str, Any]) -> None:
    """Each line's promo_discount is the sum of its shares of the ticket's promotions."""
    per_line: dict[int, int] = {}
    for promotion in data.get("promotions", ()):
        for share in promotion["lines"]:
            per_line[share["line_no"]] = per_line.get(share["line_no"], 0) + share["discount"]
    for i, line in enumerate(data["lines"]):
        expected = per_line.pop(line["line_no"], 0) if not line["removed"] else 0
        if line.get("promo_discount", 0) != expected:
            raise _Bad(f"is not the sum {expected} of the line's promotion shares",
                       f"data.lines[{i}].promo_discount")
    if per_line:
        raise _Bad(f"a promotion share names line {min(per_line)}, not an active line of the"
                   " ticket", "data.promotions")
