"""VAT per period as the Dutch VAT return (aangifte omzetbelasting) groups it.

1a: supplies at the high rate, 1b: at the low rate, 1c: at other rates (not 0%),
1e: at 0% or not taxed here. Turnover is stated without VAT. Read from the aggregates.
Exempt supplies (art. 11 Wet OB, VAT code `exempt`) are not entered on the return at all:
they are reported on a line of their own, for the accountant, outside every box.

The CSV is written for Dutch Excel: semicolons, decimal commas and a UTF-8 byte order mark,
so a double click opens it in columns with the amounts as numbers.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from peewee import fn

from headoffice.aggregate_models import AggVat
from headoffice.exports.periods import Period

BOXES = {
    "1a": "Leveringen/diensten belast met hoog tarief",
    "1b": "Leveringen/diensten belast met laag tarief",
    "1c": "Leveringen/diensten belast met overige tarieven, behalve 0%",
    "1e": "Leveringen/diensten belast met 0% of niet bij u belast",
}


EXEMPT_DESCRIPTION = "Vrijgestelde omzet (art. 11 Wet OB), niet in de aangifte"


def box_of(code: str, rate_bp: int) -> str | None:
    """The return's box for a VAT code and rate; None for exempt supplies (no box)."""
    if code == "exempt":
        return None
    if code == "high":
        return "1a"
    if code == "low":
        return "1b"
    if rate_bp == 0 or code == "zero":
        return "1e"
    return "1c"


@dataclass
class VatBox:
    box: str
    description: str
    net: int = 0
    vat: int = 0
    rates: dict[int, list[int]] = field(default_factory=dict)  # rate_bp -> [net, vat]

    @property
    def net_euros(self) -> int:
        """Whole euros, rounded down in the taxpayer's favour as the return allows."""
        return _whole_euros(self.net)

    @property
    def vat_euros(self) -> int:
        return _whole_euros(self.vat)


def _whole_euros(cents: int) -> int:
    """Cents to whole euros, towards zero (the return takes whole euros)."""
    return cents // 100 if cents >= 0 else -((-cents) // 100)


@dataclass
class VatReport:
    period: Period
    store: str | None
    boxes: list[VatBox]
    exempt: int = 0  # turnover of exempt supplies (no VAT), outside every box

    @property
    def exempt_euros(self) -> int:
        return _whole_euros(self.exempt)

    @property
    def vat_total(self) -> int:
        return sum(b.vat for b in self.boxes)


def vat_report(period: Period, store: str | None = None) -> VatReport:
    query = (AggVat.select(AggVat.code, AggVat.rate_bp, fn.SUM(AggVat.gross).alias("gross"),
                           fn.SUM(AggVat.vat).alias("vat"))
             .where(AggVat.day.between(period.first, period.last))
             .group_by(AggVat.code, AggVat.rate_bp))
    if store:
        query = query.where(AggVat.store == store)
    boxes = {key: VatBox(key, text) for key, text in BOXES.items()}
    exempt = 0
    for row in query.namedtuples():
        key = box_of(row.code, row.rate_bp)
        gross, vat = int(row.gross or 0), int(row.vat or 0)
        if key is None:
            exempt += gross - vat
            continue
        box = boxes[key]
        box.net += gross - vat
        box.vat += vat
        pair = box.rates.setdefault(row.rate_bp, [0, 0])
        pair[0] += gross - vat
        pair[1] += vat
    return VatReport(period, store, list(boxes.values()), exempt)


def _cents(value: int) -> str:
    """Cents as Dutch Excel reads a number: decimal comma, no thousands separator."""
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 100},{abs(value) % 100:02d}"


CSV_HEADER = ["periode", "winkel", "rubriek", "omschrijving", "tarief_procent", "omzet_excl_btw",
              "btw", "omzet_hele_euros", "btw_hele_euros"]


def vat_csv(report: VatReport) -> str:
    """The return as CSV for Dutch Excel: starts with a BOM, `;` between fields, `1234,56`."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    period, store = report.period.label, report.store or "alle"
    for box in report.boxes:
        for rate_bp, (net, vat) in sorted(box.rates.items()):
            writer.writerow([period, store, box.box, box.description, _cents(rate_bp), _cents(net),
                             _cents(vat), "", ""])
        writer.writerow([period, store, box.box, box.description, "totaal", _cents(box.net),
                         _cents(box.vat), box.net_euros, box.vat_euros])
    writer.writerow([period, store, "5a", "Verschuldigde omzetbelasting", "", "",
                     _cents(report.vat_total), "", sum(b.vat_euros for b in report.boxes)])
    writer.writerow([period, store, "", EXEMPT_DESCRIPTION, "", _cents(report.exempt), "",
                     report.exempt_euros, ""])
    return out.getvalue()
