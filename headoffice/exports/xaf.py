"""XAF 4.0 auditfile: each closed shop day is one transaction in that shop's sales journal.

Per day: revenue per VAT rate (credit, net), VAT payable per rate (credit), receipts in
cash, card and voucher (debit), the cash rounding and the cash differences counted at Z
on their own accounts. Built from the aggregates, so a year of a shop takes little time.

A day is booked only once a Z close closes it on every terminal that took money that day
(and head office holds every entry up to that Z); a day still open is left out, and
`Auditfile.left_out` says which and why, so the file never holds figures that may still
change. Each day's transaction names its Z closes and terminals (`docRef`, description).
One file may hold every shop of the company: one journal per shop.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from peewee import fn

from contract.version import SOFTWARE_VERSION
from headoffice.aggregate_models import AggDay, AggVat
from headoffice.exports.accounts import Account, chart
from headoffice.exports.periods import Period
from headoffice.exports.vat import box_of
from headoffice.exports.zreports import ZRef, format_refs, vat_label, z_coverage

NS = "http://www.odb.belastingdienst.nl/Belastingdienst/BCPP/1.1/structures/XmlauditfileXAF_4.0"
SOFTWARE = "Kassa"


def schema_path() -> Path:
    """The official XSD as shipped by pyxaf."""
    import pyxaf

    return Path(pyxaf.__file__).parent / "schemas" / "XmlAuditfileFinancieel4.0.xsd"


def _amount(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NS}}}{tag}")
    if text is not None:
        element.text = text
    return element


@dataclass(frozen=True)
class LeftOut:
    """A shop day not in the auditfile: `terminals` took money that day and `reason` is
    NO_Z (no Z close closes it yet) or INCOMPLETE (entries before its Z are missing)."""

    store: str
    day: str
    terminals: tuple[str, ...]
    reason: str


NO_Z = "no_z"
INCOMPLETE = "incomplete"


@dataclass
class Auditfile:
    """The XML bytes, the shops in it, its day transactions and the days left out."""

    data: bytes
    stores: list[str]
    transactions: int
    left_out: list[LeftOut] = field(default_factory=list)


class _Day:
    def __init__(self) -> None:
        self.lines: list[tuple[Account, int, str, tuple[str, int, int] | None]] = []
        self.refs: list[ZRef] = []

    def add(self, account: Account, credit: int, desc: str,
            vat: tuple[str, int, int] | None = None) -> None:
        """Positive `credit` books a credit, negative a debit; zero is left out."""
        if credit:
            self.lines.append((account, credit, desc, vat))


def revenue_text(code: str, rate_bp: int) -> str:
    """`Omzet hoog 21%`, `Omzet laag 9%`, `Omzet 0%`, `Omzet vrijgesteld van btw`."""
    if code == "exempt":
        return "Omzet vrijgesteld van btw"
    return "Omzet" + vat_label(code, rate_bp)[3:]


def _lines(store: str, period: Period, accounts: dict[str, Account]) -> dict[str, _Day]:
    days: dict[str, _Day] = defaultdict(_Day)
    vat_rows = (AggVat.select(AggVat.day, AggVat.code, AggVat.rate_bp,
                              fn.SUM(AggVat.gross).alias("gross"), fn.SUM(AggVat.vat).alias("vat"))
                .where((AggVat.store == store) & AggVat.day.between(period.first, period.last))
                .group_by(AggVat.day, AggVat.code, AggVat.rate_bp)
                .order_by(AggVat.day, AggVat.rate_bp.desc(), AggVat.code))
    for row in vat_rows.namedtuples():
        box = box_of(row.code, row.rate_bp)
        gross, vat = int(row.gross), int(row.vat)
        day = days[row.day]
        day.add(accounts[f"revenue_{box}" if box else "revenue_exempt"], gross - vat,
                revenue_text(row.code, row.rate_bp),
                (f"{row.code}-{row.rate_bp}", row.rate_bp, vat))
        if box not in ("1e", None):  # no VAT to pay on 0%, not-taxed-here or exempt supplies
            day.add(accounts[f"vat_{box}"], vat, vat_label(row.code, row.rate_bp))
    totals = (AggDay.select(AggDay.day, fn.SUM(AggDay.cash).alias("cash"),
                            fn.SUM(AggDay.card).alias("card"), fn.SUM(AggDay.voucher).alias("voucher"),
                            fn.SUM(AggDay.rounding).alias("rounding"),
                            fn.SUM(AggDay.cash_variance).alias("variance"))
              .where((AggDay.store == store) & AggDay.day.between(period.first, period.last))
              .group_by(AggDay.day).order_by(AggDay.day))
    for row in totals.namedtuples():
        day = days[row.day]
        day.add(accounts["rounding"], int(row.rounding), "Afronding contante betalingen")
        day.add(accounts["cash"], -int(row.cash), "Ontvangen contant")
        day.add(accounts["card"], -int(row.card), "Ontvangen pin")
        day.add(accounts["voucher"], -int(row.voucher), "Ontvangen tegoedbonnen")
        variance = int(row.variance)
        day.add(accounts["cash"], -variance, "Kasverschil")
        day.add(accounts["cash_difference"], variance, "Kasverschil")
    return {key: value for key, value in sorted(days.items()) if value.lines}


def _days(store: str, period: Period, accounts: dict[str, Account],
          left_out: list[LeftOut]) -> dict[str, _Day]:
    """The shop's closed days with their lines and Z closes; open days go to `left_out`."""
    days = _lines(store, period, accounts)
    active: dict[str, set[str]] = defaultdict(set)  # day -> terminals that took money
    query = (AggDay.select(AggDay.day, AggDay.terminal)
             .where((AggDay.store == store) & AggDay.day.between(period.first, period.last)
                    & ((AggDay.tickets + AggDay.refunds + AggDay.voids > 0)
                       | (AggDay.turnover != 0) | (AggDay.cash_variance != 0)
                       | (AggDay.rounding != 0))))
    for row in query.namedtuples():
        active[row.day].add(row.terminal)
    coverage = z_coverage({t for ts in active.values() for t in ts}, period)
    for day_text in list(days):
        refs: list[ZRef] = []
        missing, incomplete = [], []
        for terminal in sorted(active.get(day_text, ())):
            closing = coverage.closing(terminal, day_text)
            if not closing or day_text in coverage.open_days.get(terminal, ()):
                missing.append(terminal)
            elif day_text in coverage.incomplete_days.get(terminal, ()):
                incomplete.append(terminal)
            refs += closing
        if missing or incomplete:
            del days[day_text]
            left_out.append(LeftOut(store, day_text, tuple(missing or incomplete),
                                    NO_Z if missing else INCOMPLETE))
        else:
            days[day_text].refs = refs
    return days


def _stores(period: Period) -> list[str]:
    query = (AggDay.select(AggDay.store).distinct()
             .where(AggDay.day.between(period.first, period.last)))
    return sorted({row.store for row in query})


def build_xaf(store: str | None, period: Period, company: dict[str, str] | None = None,
              account_settings: dict[str, str] | None = None,
              created: dt.date | None = None) -> bytes:
    """The auditfile of one shop (every shop when `store` is None), as UTF-8 XML bytes."""
    return build_auditfile([store] if store else None, period, company, account_settings,
                           created).data


def build_auditfile(stores: Sequence[str] | None, period: Period,
                    company: dict[str, str] | None = None,
                    account_settings: dict[str, str] | None = None,
                    created: dt.date | None = None) -> Auditfile:
    """The auditfile of the given shops (None: every shop with takings in the period) for a
    period: one company, one sales journal per shop, one transaction per closed day."""
    company = company or {}
    accounts = chart(account_settings)
    names = sorted(set(stores)) if stores is not None else _stores(period)
    left_out: list[LeftOut] = []
    per_store = {store: _days(store, period, accounts, left_out) for store in names}
    root = etree.Element(f"{{{NS}}}auditfile", nsmap={None: NS})
    header = _sub(root, "header")
    fiscal = (str(period.start.year) if period.start.year == period.end.year
              else f"{period.start.year}-{period.end.year}")
    _sub(header, "fiscalYear", fiscal)
    _sub(header, "startDate", period.first)
    _sub(header, "endDate", period.last)
    _sub(header, "curCode", "EUR")
    _sub(header, "dateCreated", (created or dt.date.today()).isoformat())
    _sub(header, "softwareDesc", SOFTWARE)
    _sub(header, "softwareVersion", _version())
    comp = _sub(root, "company")
    if company.get("commerce_nr"):
        _sub(comp, "Commercenr", company["commerce_nr"][:100])
    fallback = f"Winkel {names[0]}" if len(names) == 1 else "Winkels " + ", ".join(names)
    _sub(comp, "companyName", (company.get("name") or fallback)[:255])
    _sub(comp, "taxRegistrationCountry", company.get("country", "NL")[:2])
    _sub(comp, "taxRegIdent", (company.get("vat_number") or "onbekend")[:30])
    ledger = _sub(comp, "generalLedger")
    for account in sorted(accounts.values(), key=lambda a: a.id):
        acc = _sub(ledger, "ledgerAccount")
        _sub(acc, "accID", account.id)
        _sub(acc, "accDesc", account.description)
        _sub(acc, "accTp", account.kind)
    vat_ids = sorted({line[3][:2] for days in per_store.values() for day in days.values()
                      for line in day.lines if line[3]})
    if vat_ids:
        codes = _sub(comp, "vatCodes")
        for vat_id, rate_bp in vat_ids:
            code = _sub(codes, "vatCode")
            _sub(code, "vatID", vat_id)
            _sub(code, "vatDesc", vat_label(vat_id.split("-")[0], rate_bp))
            box = box_of(vat_id.split("-")[0], rate_bp)
            if box not in ("1e", None):
                _sub(code, "vatToPayAccID", accounts[f"vat_{box}"].id)
    periods = _sub(comp, "periods")
    months = _months(period)
    for number, (start, end) in enumerate(months, 1):
        item = _sub(periods, "period")
        _sub(item, "periodNumber", str(number))
        _sub(item, "startDatePeriod", start.isoformat())
        _sub(item, "endDatePeriod", end.isoformat())
    transactions = _sub(comp, "transactions")
    count = _sub(transactions, "linesCount")
    debit_total, credit_total = _sub(transactions, "totalDebit"), _sub(transactions, "totalCredit")
    lines = debits = credits = booked = 0
    journal_ids: set[str] = set()
    for store, days in per_store.items():
        journal = _sub(transactions, "journal")
        _sub(journal, "jrnID", _journal_id(store, journal_ids))
        _sub(journal, "desc", f"Kassaverkopen winkel {store}")
        _sub(journal, "jrnTp", "S")
        for day_text, day in days.items():
            day_date = dt.date.fromisoformat(day_text)
            refs = format_refs(day.refs)
            doc_ref = f"Z {refs}" if refs else f"Dagomzet {store} {day_text}"
            trans = _sub(journal, "transaction")
            _sub(trans, "nr", f"{store[:24]}-{day_text}")
            _sub(trans, "desc", f"Dagomzet winkel {store} {day_date:%d-%m-%Y}"
                 + (f", Z-rapporten: {refs}" if refs else ""))
            _sub(trans, "periodNumber", str(_period_number(months, day_date)))
            _sub(trans, "trDt", day_text)
            _sub(trans, "Source", "kassa journal")
            booked += 1
            for number, (account, credit, desc, vat) in enumerate(day.lines, 1):
                line = _sub(trans, "trLine")
                _sub(line, "nr", str(number))
                _sub(line, "accID", account.id)
                _sub(line, "docRef", doc_ref if len(doc_ref) <= 255 else doc_ref[:254] + "…")
                _sub(line, "effDate", day_text)
                _sub(line, "desc", desc)
                _sub(line, "amnt", _amount(abs(credit)))
                _sub(line, "amntTp", "C" if credit > 0 else "D")
                if vat:
                    vat_el = _sub(line, "vat")
                    _sub(vat_el, "vatID", vat[0])
                    _sub(vat_el, "vatPerc", f"{vat[1] // 100}.{vat[1] % 100:02d}")
                    _sub(vat_el, "vatAmnt", _amount(abs(vat[2])))
                    _sub(vat_el, "vatAmntTp", "C" if vat[2] >= 0 else "D")
                lines += 1
                if credit > 0:
                    credits += credit
                else:
                    debits -= credit
    count.text = str(lines)
    debit_total.text = _amount(debits)
    credit_total.text = _amount(credits)
    if debits != credits:
        raise ValueError(f"auditfile does not balance: debit {_amount(debits)} credit "
                         f"{_amount(credits)} (aggregates inconsistent)")
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return Auditfile(data, names, booked, left_out)


def _journal_id(store: str, taken: set[str]) -> str:
    """`VK-<store>`, at most 35 characters and unique in the file."""
    base = f"VK-{store}"[:35]
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base[:35 - len(str(number)) - 1]}~{number}"
    taken.add(candidate)
    return candidate


def _months(period: Period) -> list[tuple[dt.date, dt.date]]:
    months = []
    start = period.start
    while start <= period.end:
        y, m = divmod(start.year * 12 + start.month, 12)
        end = min(dt.date(y, m + 1, 1) - dt.timedelta(days=1), period.end)
        months.append((start, end))
        start = end + dt.timedelta(days=1)
    return months


def _period_number(months: list[tuple[dt.date, dt.date]], day: dt.date) -> int:
    for number, (start, end) in enumerate(months, 1):
        if start <= day <= end:
            return number
    raise ValueError(f"{day} is outside the auditfile period")


def _version() -> str:
    return SOFTWARE_VERSION[:20]


def validate_xaf(data: bytes) -> list[str]:
    """Problems the official XSD finds; empty when the file is valid."""
    schema = etree.XMLSchema(etree.parse(str(schema_path())))
    document = etree.fromstring(data)
    if schema.validate(document):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]
