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
  GoodsReceivedData, StockCountData, OfferRedemptionData, CustomerFavouriteData; nested:
  TicketLine, VatAmount, Tender, Figure, TenderTotal, CashFigures, GrandTotals, CashCount,
  AlarmProblem, GoodsLine, CountLine.

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
TEXT = 1000  # reasons and notes
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
    ticket_discount: int = num()
    removed: bool
    stock_tracked: bool
    override_by: str | None = text(NAME)
    discount_by: str | None = text(NAME)
    sku: str = text(ID, default="")  # missing on lines journaled before SKUs existed
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

    def problem(self) -> tuple[str, str] | None:
        if self.net + self.vat != self.gross:
            return "gross", f"net {self.net} + vat {self.vat} is not gross {self.gross}"
        return None


@frozen
class Tender:
    """One payment of a ticket; negative amount when money goes back to the customer."""

    kind: str = text(16, choices=TENDER_KINDS)
    amount: int = num()
    given: int = num(0, MAX_CENTS)
    change: int = num(0, MAX_CENTS)
    reference: str = text(128)


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

    def problem_in(self, version: int) -> tuple[str, str] | None:
        if version >= 2:
            for name in ("voids_open", "average_ticket"):
                if getattr(self, name) is None:
                    return name, f"required in schema version {version}"
            if self.voids is not None:
                return "voids", f"replaced by voids_open and voids_paid in version {version}"
        elif self.voids is None:
            return "voids", "required in schema version 1"
        return None


@frozen
class ZCloseData(XReportData):
    """The day close: the period's figures, the counted cash and variance = counted - expected."""

    counted: CashCount = sub()
    variance: int = num(-MAX_COUNT * 1000, MAX_COUNT * 1000)
    approved_by: str | None = text(NAME, default=None)


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


EntryData = Union[  # noqa: UP007 (a runtime alias: isinstance checks in readers)
    SaleData, RefundData, VoidData, NoSaleData, CashMovementData, CashCountData, LoginData,
    LogoutData, TrainingData, PriceOverrideData, XReportData, ZCloseData, ReceiptCopyData,
    ConfigChangeData, SoftwareStartData, SoftwareUpdateData, JournalAlarmAckData,
    GoodsReceivedData, StockCountData, OfferRedemptionData, CustomerFavouriteData,
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
}
ENTRY_TYPES = frozenset(DATA_TYPES)
# Entries that only make sense against an earlier entry (their ref_seq).
NEEDS_REF = frozenset({"refund", "receipt_copy", "offer_redemption"})


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
    data: Any = sub()


# --- the compiled checkers ---------------------------------------------------------------------
Check = Callable[[Any, bool], Any]


def _int_check(lo: int, hi: int) -> Check:
    def check(value: Any, strict: bool) -> Any:
        if type(value) is not int:
            raise _Bad(f"must be a whole number, not {_kind(value)}")
        if not lo <= value <= hi:
            raise _Bad(f"{value} is not within {lo}..{hi}")
        return value
    return check


def _str_check(maxlen: int, minlen: int, choices: frozenset[str] | None) -> Check:
    def check(value: Any, strict: bool) -> Any:
        if type(value) is not str:
            raise _Bad(f"must be text, not {_kind(value)}")
        if choices is not None:
            if value not in choices:
                raise _Bad(f"{value[:40]!r} is not one of {', '.join(sorted(choices))}")
        elif not minlen <= len(value) <= maxlen:
            raise _Bad(f"must be {minlen}..{maxlen} characters long, not {len(value)}")
        return value
    return check


def _bool_check(value: Any, strict: bool) -> Any:
    if type(value) is not bool:
        raise _Bad(f"must be true or false, not {_kind(value)}")
    return value


def _any_check(value: Any, strict: bool) -> Any:
    return value


def _optional(check: Check) -> Check:
    def optional(value: Any, strict: bool) -> Any:
        return None if value is None else check(value, strict)
    return optional


def _list_check(item: Check, max_items: int) -> Check:
    def check(value: Any, strict: bool) -> Any:
        if type(value) is not list and type(value) is not tuple:
            raise _Bad(f"must be a list, not {_kind(value)}")
        if len(value) > max_items:
            raise _Bad(f"has {len(value)} items, at most {max_items} allowed")
        out = []
        for i, child in enumerate(value):
            try:
                out.append(item(child, strict))
            except _Bad as bad:
                raise bad.under(f"[{i}]") from None
        return tuple(out)
    return check


def _pair_check(item: Check) -> Check:
    def check(value: Any, strict: bool) -> Any:
        if (type(value) is not list and type(value) is not tuple) or len(value) != 2:
            raise _Bad("must be a pair [a, b]")
        return item(value[0], strict), item(value[1], strict)
    return check


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "text", int: "a number", float: "a float",
             bool: "true/false", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _check_for(hint: Any, meta: dict[str, Any]) -> Check:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        inner = _check_for(args[0], meta) if len(args) == 1 else _any_check
        return _optional(inner)
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return _list_check(_check_for(args[0], meta), meta.get("max_items", MAX_LINES))
        return _pair_check(_check_for(args[0], meta))
    if hint is bool:
        return _bool_check
    if hint is int:
        return _int_check(meta.get("lo", -MAX_CENTS), meta.get("hi", MAX_CENTS))
    if hint is str:
        return _str_check(meta.get("maxlen", NAME), meta.get("minlen", 0), meta.get("choices"))
    if dataclasses.is_dataclass(hint):
        return _object_check(hint)
    return _any_check


_COMPILED: dict[type, Check] = {}


def _object_check(cls: type) -> Check:
    """A checker that turns a JSON object into an instance of dataclass `cls`."""
    if cls in _COMPILED:
        return _COMPILED[cls]
    hints = typing.get_type_hints(cls)
    spec = []  # (json key, python name, check, required)
    for f in dataclasses.fields(cls):
        meta = dict(f.metadata)
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        spec.append((meta.get("key") or f.name, f.name, _check_for(hints[f.name], meta), required))
    keys = frozenset(s[0] for s in spec)
    problem = getattr(cls, "problem", None)

    def check(value: Any, strict: bool) -> Any:
        if type(value) is not dict:
            raise _Bad(f"must be an object, not {_kind(value)}")
        kwargs = {}
        for key, name, item, required in spec:
            if key in value:
                try:
                    kwargs[name] = item(value[key], strict)
                except _Bad as bad:
                    raise bad.under(key) from None
            elif required:
                raise _Bad("is required", key)
        if strict and len(value) > len(kwargs):
            unknown = sorted(str(k) for k in value.keys() - keys)
            if unknown:
                raise _Bad("is not part of the schema", unknown[0][:40])
        result = cls(**kwargs)
        if problem is not None:
            found = result.problem()
            if found:
                raise _Bad(found[1], found[0])
        return result

    _COMPILED[cls] = check
    return check


_ENVELOPE = {k: _object_check(cls) for k, cls in DATA_TYPES.items()}
_ENVELOPE_FIELDS = [(f.name, _check_for(typing.get_type_hints(Entry)[f.name], dict(f.metadata)))
                    for f in dataclasses.fields(Entry) if f.name not in ("data", "ref_seq")]
_ENVELOPE_KEYS = frozenset(f.name for f in dataclasses.fields(Entry))
_REF_CHECK = _int_check(1, MAX_SEQ)


def parse_entry(body: dict[str, Any], *, strict: bool = True) -> Entry:
    """Validates a journal body and returns it typed; raises EntrySchemaError naming the field."""
    if type(body) is not dict:
        raise EntrySchemaError("?", "body", f"must be an object, not {_kind(body)}")
    kind = body.get("type")
    entry_type = kind if type(kind) is str and kind in _ENVELOPE else "?"
    values: dict[str, Any] = {}
    try:
        for name, check in _ENVELOPE_FIELDS:
            if name not in body:
                raise _Bad("is required", name)
            try:
                values[name] = check(body[name], strict)
            except _Bad as bad:
                raise bad.under(name) from None
        if values["v"] not in VERSIONS:
            raise _Bad(f"schema version {values['v']} is not one of "
                       f"{', '.join(map(str, sorted(VERSIONS)))}", "v")
        if not TS_PATTERN.fullmatch(values["ts"]):
            raise _Bad("is not an ISO 8601 time with its UTC offset", "ts")
        ref = body.get("ref_seq")
        if ref is not None:
            try:
                values["ref_seq"] = _REF_CHECK(ref, strict)
            except _Bad as bad:
                raise bad.under("ref_seq") from None
        if strict and len(body) > len(values) + 1:
            unknown = sorted(str(k) for k in body.keys() - _ENVELOPE_KEYS)
            if unknown:
                raise _Bad("is not part of the schema", unknown[0][:40])
        if "data" not in body:
            raise _Bad("is required", "data")
        try:
            data = _ENVELOPE[entry_type](body["data"], strict)
        except _Bad as bad:
            raise bad.under("data") from None
        _cross_checks(entry_type, values, data)
    except _Bad as bad:
        raise EntrySchemaError(entry_type, bad.path or "body", bad.reason) from None
    return Entry(data=data, **values)


def validate_body(body: dict[str, Any]) -> None:
    """The writer's check: raises EntrySchemaError when the body does not fit its type."""
    parse_entry(body)


def _cross_checks(entry_type: str, values: dict[str, Any], data: Any) -> None:
    """Rules that span the envelope and the data."""
    if entry_type in NEEDS_REF and values.get("ref_seq") is None:
        raise _Bad(f"a {entry_type} entry refers to an earlier entry", "ref_seq")
    if entry_type == "void" and data.scope == "paid":
        if values.get("ref_seq") is None:
            raise _Bad("a void of a paid ticket refers to its sale", "ref_seq")
        if data.total_paid is None:
            raise _Bad("is required when scope is paid", "data.total_paid")
    if entry_type in ("x_report", "z_close"):
        found = data.problem_in(values["v"])
        if found:
            raise _Bad(found[1], f"data.{found[0]}")
