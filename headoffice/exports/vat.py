"""VAT per period as the Dutch VAT return (aangifte omzetbelasting) groups it.

1a: supplies at the high rate, 1b: at the low rate, 1c: at other rates (not 0%),
1e: at 0% or not taxed here. Turnover is stated without VAT. Read from the aggregates.
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


def box_of(code: str, rate_bp: int) -> str:
    if code == "high":
        return "1a"
    if code == "low":
        return "1b"
    if rate_bp == 0 or code in ("zero", "exempt"):
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
        return self.net // 100 if self.net >= 0 else -((-self.net) // 100)

    @property
    def vat_euros(self) -> int:
        return self.vat // 100 if self.vat >= 0 else -((-self.vat) // 100)


@dataclass
class VatReport:
    period: Period
    store: str | None
    boxes: list[VatBox]

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
    for row in query.namedtuples():
        box = boxes[box_of(row.code, row.rate_bp)]
        gross, vat = int(row.gross or 0), int(row.vat or 0)
        box.net += gross - vat
        box.vat += vat
        pair = box.rates.setdefault(row.rate_bp, [0, 0])
        pair[0] += gross - vat
        pair[1] += vat
    return VatReport(period, store, list(boxes.values()))


def _cents(value: int) -> str:
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 100}.{abs(value) % 100:02d}"


def vat_csv(report: VatReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["period", "store", "box", "description", "rate_percent", "turnover_excl_vat",
                     "vat", "turnover_whole_euros", "vat_whole_euros"])
    for box in report.boxes:
        for rate_bp, (net, vat) in sorted(box.rates.items()):
            writer.writerow([report.period.label, report.store or "all", box.box, box.description,
                             _cents(rate_bp), _cents(net), _cents(vat), "", ""])
        writer.writerow([report.period.label, report.store or "all", box.box, box.description,
                         "total", _cents(box.net), _cents(box.vat), box.net_euros, box.vat_euros])
    writer.writerow([report.period.label, report.store or "all", "5a", "Verschuldigde omzetbelasting",
                     "", "", _cents(report.vat_total), "", sum(b.vat_euros for b in report.boxes)])
    return out.getvalue()
