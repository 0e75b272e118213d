"""The Z-report archive: every Z close rebuilt from the journal and compared with the Z itself.

The rebuild replays the terminal's entries with the contract's one reduction
(contract.figures: the same code the till's own Z uses), so every figure of the Z, the
perpetual grand totals included, is compared, in the layout of the Z's own schema version,
and a till whose Z disagrees with its own journal shows up.

It also says which Z closes close which days (`z_coverage`): the XAF auditfile books a day
only once a Z closes it, and names those Z closes in the day's transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from peewee import fn

from contract import figures
from contract.entries import EntrySchemaError
from contract.money import format_money
from contract.shop_time import SHOP_ZONE  # every Z is dated in the shop's own time zone
from headoffice.exports.periods import Period
from headoffice.models import OfficeEntry, TerminalState
from headoffice.received import read

# Entry types that may move money (a void only when it voids a paid ticket; training never).
MONEY_TYPES = ("sale", "refund", "void")


@dataclass
class ZCheck:
    terminal: str
    seq: int
    ts: str
    z_number: int
    from_seq: int
    stated: dict[str, Any]
    rebuilt: dict[str, Any]
    differences: list[str] = field(default_factory=list)
    # (first, last) seq of every run of entries before the Z that head office has not received
    gaps: list[tuple[int, int]] = field(default_factory=list)
    store: str = ""

    @property
    def ok(self) -> bool:
        return not self.differences

    @property
    def local_time(self) -> str:
        """`03-12-2026 18:04`: when the Z was made, on the shop's clock."""
        return local_datetime(self.ts)


def local_datetime(ts: str) -> str:
    """A journal timestamp as `dd-mm-jjjj HH:MM` in Europe/Amsterdam ('' when unreadable)."""
    moment = _moment(ts)
    return moment.strftime("%d-%m-%Y %H:%M") if moment else ""


def local_date(ts: str) -> str:
    """A journal timestamp as `dd-mm-jjjj` in Europe/Amsterdam ('' when unreadable)."""
    moment = _moment(ts)
    return moment.strftime("%d-%m-%Y") if moment else ""


def _moment(ts: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(ts)
    except (TypeError, ValueError):
        return None
    # a timestamp without an offset is already the till's (Dutch) wall clock
    return moment.astimezone(SHOP_ZONE) if moment.tzinfo else moment


def z_list(store: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The newest Z closes with what the archive lists: number, Dutch date, terminal, turnover
    and cash variance (the Z's own figures, as the till printed them)."""
    query = (OfficeEntry.select(OfficeEntry.store, OfficeEntry.terminal, OfficeEntry.seq,
                                OfficeEntry.ts, OfficeEntry.body)
             .where(OfficeEntry.type == "z_close")
             .order_by(OfficeEntry.ts.desc(), OfficeEntry.terminal).limit(limit))
    if store:
        query = query.where(OfficeEntry.store == store)
    rows = []
    for row in query.dicts():
        body = row.pop("body")
        data = _z_data(body)
        rows.append({**row, "z_number": data.get("z_number"), "turnover": data.get("turnover"),
                     "variance": data.get("variance"), "date": local_date(row["ts"]),
                     "time": local_datetime(row["ts"])[11:]})
    return rows


def z_stores() -> list[str]:
    """The shops head office has a Z close of (the archive's store filter)."""
    query = (OfficeEntry.select(OfficeEntry.store).distinct()
             .where(OfficeEntry.type == "z_close").order_by(OfficeEntry.store))
    return [row.store for row in query]


def _z_data(body: str) -> dict[str, Any]:
    """The figures of a stored Z, read through the contract; {} for a body it cannot read."""
    try:
        entry = read(body, strict=False).entry
    except (EntrySchemaError, ValueError):
        return {}
    data = entry.data
    return {"z_number": data.z_number, "turnover": data.turnover, "variance": data.variance,
            "first_seq": data.first_seq, "last_seq": data.last_seq}


def check_z(terminal: str, seq: int) -> ZCheck:
    """Replays the terminal's entries before the Z with the contract's reduction and compares."""
    row = OfficeEntry.get_or_none((OfficeEntry.terminal == terminal) & (OfficeEntry.seq == seq)
                                  & (OfficeEntry.type == "z_close"))
    if row is None:
        raise LookupError(f"terminal {terminal} has no Z close at entry {seq}")
    counters: dict[str, int] = {}
    expected = 1
    gaps: list[tuple[int, int]] = []
    query = (OfficeEntry.select(OfficeEntry.seq, OfficeEntry.body)
             .where((OfficeEntry.terminal == terminal) & (OfficeEntry.seq < seq))
             .order_by(OfficeEntry.seq))
    for entry in query.iterator():
        if entry.seq != expected:
            gaps.append((expected, entry.seq - 1))
        expected = entry.seq + 1
        figures.apply(counters, figures.changes(json.loads(entry.body)))
    if expected != seq:
        gaps.append((expected, seq - 1))
    body = json.loads(row.body)
    stated = body.get("data") or {}
    rebuilt = figures.rebuilt_z(stated, counters, seq - 1, int(body["v"]))
    differences = ([f"entries {a}..{b} have not reached head office" for a, b in gaps]
                   + figures.z_differences(stated, rebuilt))
    return ZCheck(terminal, seq, row.ts, int(stated.get("z_number", 0)),
                  int(rebuilt.get("first_seq", 1)), stated, rebuilt, differences, gaps,
                  row.store)


# --- the detail page: every figure of the Z beside its rebuild --------------------------------

@dataclass(frozen=True)
class ZRow:
    """One figure of a Z: the terminal's value and head office's rebuild, formatted."""

    key: str
    label: str
    stated: str
    rebuilt: str
    differs: bool
    section: str = ""


# figure -> Dutch label, in the order of the till's printed Z (contract/receipt.py's words)
_PAIRS = (("sales", "Verkopen"), ("refunds", "Retouren"), ("voids", "Annuleringen"),
          ("voids_open", "Annuleringen open bonnen"),
          ("voids_paid", "Annuleringen betaalde bonnen"), ("discounts", "Kortingen"),
          ("price_overrides", "Prijswijzigingen"), ("no_sales", "Lade open zonder verkoop"),
          ("receipt_copies", "Kopiebonnen"), ("float", "Wisselgeld begin"),
          ("cash_in", "Geld in"), ("cash_out", "Geld uit"))
_COUNT_ONLY = {"no_sales", "receipt_copies"}
_HEAD = (("z_number", "Z-nummer", "count"), ("first_seq", "Eerste journaalregel", "count"),
         ("last_seq", "Laatste journaalregel", "count"), ("tickets", "Aantal bonnen", "count"),
         ("turnover", "Omzet (incl. btw)", "money"), ("average_ticket", "Gemiddelde bon", "money"))
_CASH = (("cash.float", "Wisselgeld begin", "money"), ("cash.cash_in", "Geld in", "money"),
         ("cash.cash_out", "Geld uit", "money"),
         ("cash.cash_tenders", "Contante betalingen", "money"),
         ("cash.expected", "Verwacht in lade", "money"), ("counted.total", "Geteld", "money"),
         ("variance", "Kasverschil (geteld - verwacht)", "money"))
_TAIL = (("rounding", "Afronding contant", "money"),
         ("training_entries", "Trainingsboekingen", "count"),
         ("x_reports", "X-rapporten", "count"),
         ("grand_totals.sales", "Eeuwigdurend totaal verkopen", "money"),
         ("grand_totals.returns", "Eeuwigdurend totaal retouren", "money"),
         ("approved_by", "Goedgekeurd door", "text"))
VAT_NAMES = {"high": "hoog", "low": "laag", "zero": "nul", "exempt": "vrijgesteld"}
TENDER_NAMES = {"cash": "Contant", "card": "Pin", "voucher": "Waardebon"}
MISSING = "—"


def rate_text(rate_bp: int) -> str:
    """2100 -> '21', 950 -> '9,5': a VAT rate as Dutch text."""
    whole, part = divmod(int(rate_bp), 100)
    return f"{whole}" if not part else f"{whole},{part:02d}".rstrip("0")


def vat_label(code: str, rate_bp: int) -> str:
    """`Btw hoog 21%`, `Btw 0%`, `Btw vrijgesteld`: a VAT code in Dutch."""
    if code == "exempt":
        return "Btw vrijgesteld"
    if code == "zero" or (code not in VAT_NAMES and not rate_bp):
        return f"Btw {rate_text(rate_bp)}%"
    return f"Btw {VAT_NAMES.get(code, code)} {rate_text(rate_bp)}%"


def _format(value: Any, kind: str) -> str:
    if value is None:
        return MISSING
    if kind == "money" and isinstance(value, int) and not isinstance(value, bool):
        return format_money(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _get(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _leaves(data: Any, path: str = "") -> Iterator[str]:
    if isinstance(data, Mapping):
        for key, value in data.items():
            yield from _leaves(value, f"{path}.{key}" if path else str(key))
    else:
        yield path


def _keyed(items: Any, key: Any) -> dict[Any, Mapping[str, Any]]:
    return {key(item): item for item in items or () if isinstance(item, Mapping)}


def z_rows(check: ZCheck) -> list[ZRow]:
    """Every figure of the Z in the till's order, with Dutch labels and money as `€ 1.234,56`;
    a row whose rebuild differs from what the terminal stated is marked."""
    stated, rebuilt = check.stated, check.rebuilt
    rows: list[ZRow] = []
    done: set[str] = set()

    def add(path: str, label: str, kind: str, section: str, a: Any = None, b: Any = None,
            direct: bool = False) -> None:
        one, two = (a, b) if direct else (_get(stated, path), _get(rebuilt, path))
        if not direct and one is None and two is None:
            return
        done.add(path)
        rows.append(ZRow(path, label, _format(one, kind), _format(two, kind), one != two, section))

    for path, label, kind in _HEAD:
        add(path, label, kind, "Totalen")
    for name, label in _PAIRS:
        add(f"{name}.count", f"{label}: aantal", "count", "Bonnen en handelingen")
        if name not in _COUNT_ONLY:
            add(f"{name}.amount", f"{label}: bedrag", "money", "Bonnen en handelingen")
        done.add(f"{name}.amount")
    vat_a = _keyed(stated.get("vat"), lambda v: (v.get("code"), v.get("rate_bp")))
    vat_b = _keyed(rebuilt.get("vat"), lambda v: (v.get("code"), v.get("rate_bp")))
    for code, rate in sorted(set(vat_a) | set(vat_b), key=lambda k: (-(k[1] or 0), str(k[0]))):
        one, two = vat_a.get((code, rate), {}), vat_b.get((code, rate), {})
        name = vat_label(str(code), int(rate or 0))
        for part, words in (("gross", "omzet incl. btw"), ("vat", "btw"),
                            ("net", "omzet excl. btw")):
            add(f"vat.{code}.{rate}.{part}", f"{name}: {words}", "money", "Btw per tarief",
                one.get(part), two.get(part), direct=True)
    tender_a = _keyed(stated.get("tenders"), lambda t: t.get("kind"))
    tender_b = _keyed(rebuilt.get("tenders"), lambda t: t.get("kind"))
    order = list(figures.TENDER_ORDER)
    for kind in sorted(set(tender_a) | set(tender_b),
                       key=lambda k: (order.index(k) if k in order else 99, str(k))):
        one, two = tender_a.get(kind, {}), tender_b.get(kind, {})
        name = TENDER_NAMES.get(str(kind), str(kind))
        add(f"tenders.{kind}.count", f"{name}: aantal", "count", "Betaalwijzen",
            one.get("count"), two.get("count"), direct=True)
        add(f"tenders.{kind}.amount", f"{name}: bedrag", "money", "Betaalwijzen",
            one.get("amount"), two.get("amount"), direct=True)
    for path, label, kind in _CASH:
        add(path, label, kind, "Kasgeld")
    add("counted.by_denomination", "Telling per coupure", "text", "Kasgeld",
        _denominations(_get(stated, "counted.by_denomination")),
        _denominations(_get(rebuilt, "counted.by_denomination")), direct=True)
    for path, label, kind in _TAIL:
        add(path, label, kind, "Overig")
    done.update({"vat", "tenders"})
    # a figure this page does not know yet (a newer schema) is still shown, under its own name
    for path in sorted(set(_leaves(stated)) | set(_leaves(rebuilt))):
        if path not in done and path.split(".")[0] not in ("vat", "tenders"):
            add(path, path, "text", "Overig")
    return rows


def _denominations(value: Any) -> str | None:
    if not isinstance(value, list):
        return None if value is None else str(value)
    parts = []
    for item in value:
        if isinstance(item, (list, tuple)) and len(item) == 2:
            parts.append(f"{item[1]} × {format_money(int(item[0]))}")
    return ", ".join(parts)


# --- which Z closes close which days (the auditfile books closed days only) -------------------

@dataclass(frozen=True)
class ZRef:
    """A Z close of one terminal and the days of takings it closes (`first_day`..`day`)."""

    terminal: str
    seq: int
    z_number: int
    first_day: str
    day: str

    def covers(self, day: str) -> bool:
        return self.first_day <= day <= self.day


@dataclass
class ZCoverage:
    """Per terminal: its Z closes, the days with takings no Z closes yet, and the days whose
    Z head office has but not every entry before it (a gap: the day's figures may be short)."""

    zs: dict[str, list[ZRef]] = field(default_factory=lambda: defaultdict(list))
    open_days: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    incomplete_days: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def closing(self, terminal: str, day: str) -> list[ZRef]:
        return [z for z in self.zs.get(terminal, ()) if z.covers(day)]


def _next_day(day: str) -> str:
    return (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()


def _money_entries(terminal: str, after: int, before: int, chunk: int = 20) -> Iterator[str]:
    """The days (ts[:10]) of the terminal's entries between two seqs that move money, in seq
    order, read in small chunks (callers usually want only the first)."""
    last = after
    while True:
        query = (OfficeEntry.select(OfficeEntry.seq, OfficeEntry.ts, OfficeEntry.body)
                 .where((OfficeEntry.terminal == terminal) & (OfficeEntry.seq > last)
                        & OfficeEntry.type.in_(MONEY_TYPES))
                 .order_by(OfficeEntry.seq).limit(chunk))
        query = query.where(OfficeEntry.seq < before)
        rows = list(query.tuples())
        for _seq, ts, body in rows:
            if figures.moves_money(json.loads(body)):
                yield ts[:10]
        if len(rows) < chunk:
            return
        last = rows[-1][0]


def z_coverage(terminals: Iterable[str], period: Period) -> ZCoverage:
    """Which Z closes close each terminal's days of the period.

    A Z closes the days from its first entry that moves money to the Z's own day (the
    journal's local dates, as the aggregates count them). Days with takings after a
    terminal's last Z are open; days up to a Z whose earlier entries have not all reached
    head office are incomplete."""
    coverage = ZCoverage()
    end = _next_day(period.last)
    for terminal in sorted(set(terminals)):
        state = TerminalState.get_or_none(TerminalState.terminal == terminal)
        contiguous = state.contiguous_seq if state is not None else 0
        previous_day = period.first
        query = (OfficeEntry.select(OfficeEntry.seq, OfficeEntry.ts, OfficeEntry.body)
                 .where((OfficeEntry.terminal == terminal) & (OfficeEntry.type == "z_close")
                        & (OfficeEntry.ts >= period.first))
                 .order_by(OfficeEntry.seq))
        for seq, ts, body in query.tuples():
            data = _z_data(body)
            day = ts[:10]
            first = next(_money_entries(terminal, int(data.get("first_seq") or 1) - 1, seq), day)
            coverage.zs[terminal].append(ZRef(terminal, seq, int(data.get("z_number") or 0),
                                              min(first, day), day))
            if seq > contiguous:
                coverage.incomplete_days[terminal].update(_days(previous_day, day))
            previous_day = day
            if day > period.last:
                break  # this Z closes everything before it: no later Z matters here
        else:
            last_z = (OfficeEntry.select(OfficeEntry.seq)
                      .where((OfficeEntry.terminal == terminal)
                             & (OfficeEntry.type == "z_close"))
                      .order_by(OfficeEntry.seq.desc()).limit(1).scalar()) or 0
            coverage.open_days[terminal].update(_open_days(terminal, last_z, period.first, end))
    return coverage


def _open_days(terminal: str, last_z: int, first: str, end: str) -> Iterator[str]:
    """The days in [first, end) with takings after the terminal's last Z: the candidate days
    come from one grouped query, and each is confirmed by its first entry that moves money
    (a training sale or a void of an open ticket does not), so a terminal that never
    closed a day costs one query per day, not a read of every entry."""
    day_of = fn.SUBSTR(OfficeEntry.ts, 1, 10)
    candidates = (OfficeEntry.select(day_of.alias("day"), fn.MIN(OfficeEntry.seq).alias("seq"))
                  .where((OfficeEntry.terminal == terminal) & (OfficeEntry.seq > last_z)
                         & OfficeEntry.type.in_(MONEY_TYPES) & (OfficeEntry.ts >= first)
                         & (OfficeEntry.ts < end))
                  .group_by(day_of).tuples())
    for day, first_seq in candidates:
        after = int(first_seq) - 1
        while True:
            rows = list(OfficeEntry.select(OfficeEntry.seq, OfficeEntry.body)
                        .where((OfficeEntry.terminal == terminal) & (OfficeEntry.seq > after)
                               & OfficeEntry.type.in_(MONEY_TYPES) & (OfficeEntry.ts >= day)
                               & (OfficeEntry.ts < _next_day(day)))
                        .order_by(OfficeEntry.seq).limit(20).tuples())
            if any(figures.moves_money(json.loads(body)) for _, body in rows):
                yield day
                break
            if len(rows) < 20:
                break
            after = rows[-1][0]


def _days(first: str, last: str) -> Iterator[str]:
    day = first
    while day <= last:
        yield day
        day = _next_day(day)


def format_refs(refs: Iterable[ZRef]) -> str:
    """`kassa1 nr 12, kassa2 nr 8+9`: the Z closes of a day, per terminal."""
    numbers: dict[str, list[int]] = defaultdict(list)
    for ref in sorted(refs, key=lambda r: (r.terminal, r.seq)):
        if ref.z_number not in numbers[ref.terminal]:
            numbers[ref.terminal].append(ref.z_number)
    return ", ".join(f"{terminal} nr {'+'.join(map(str, zs))}" for terminal, zs in numbers.items())
