"""The owner's reports as Excel sheets: the same figures as the pages (headoffice.web.report_queries,
headoffice.web.report_queries), so the web button and `kassa office report --xlsx` give one file."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from headoffice.exports.periods import Period
from headoffice.exports.report_xlsx import Sheet, workbook
from headoffice.web import discount_queries as discounts
from headoffice.web import margin_queries as margins
from headoffice.web import report_queries as reports


def _row(label: str, figures: dict[str, Any]) -> list[Any]:
    return [label, figures["turnover"], figures["tickets"], figures["basket"]]


def sales_sheets(data: dict[str, Any]) -> list[Sheet]:
    o: reports.Overview = data["overview"]
    head = ["", "Omzet", "Bonnen", "Gemiddelde bon"]
    sheets = [
        Sheet("Overzicht", head, [
            _row(f"{o.period.first} t/m {o.period.last}", o.now),
            _row(f"vorige periode {o.previous.first} t/m {o.previous.last}", o.before),
            _row(f"jaar eerder {o.earlier.first} t/m {o.earlier.last}", o.last_year),
            ["verschil met vorige periode", o.vs_previous["turnover"], o.vs_previous["tickets"],
             o.vs_previous["basket"]],
            ["verschil met jaar eerder", o.vs_last_year["turnover"], o.vs_last_year["tickets"],
             o.vs_last_year["basket"]],
        ], money=(1, 3)),
        Sheet("Winkels", ["Winkel", "Omzet", "Bonnen", "Gemiddelde bon"],
              [_row(r["store"], r) for r in data["shop"]], money=(1, 3)),
        Sheet("Terminals", ["Winkel", "Terminal", "Omzet", "Bonnen", "Gemiddelde bon"],
              [[r["store"], *_row(r["terminal"], r)] for r in data["terminal"]], money=(2, 4)),
        Sheet("Categorieen", ["Categorie", "Aantal", "Omzet"],
              [[r["category"], r["quantity"], r["gross"]] for r in data["category"]], money=(2,)),
        Sheet("Producten", ["Product", "Naam", "Aantal", "Omzet"],
              [[r["product"], r["name"], r["quantity"], r["gross"]] for r in data["product"]],
              money=(3,)),
        Sheet("Kassieres", ["Kassier", "Omzet", "Bonnen", "Gemiddelde bon"],
              [_row(r["cashier"], r) for r in data["cashier"]], money=(1, 3)),
        Sheet("Betaalwijzen", ["Betaalwijze", "Bedrag"],
              [[r["kind"], r["amount"]] for r in data["payment"]], money=(1,)),
        Sheet("Btw", ["Code", "Tarief %", "Omzet incl.", "Btw", "Omzet excl."],
              [[r["code"], r["rate_bp"] / 100, r["gross"], r["vat"], r["net"]]
               for r in data["vat"]], money=(2, 3, 4)),
        Sheet("Uur x weekdag", ["Weekdag", *[f"{h:02d}" for h in range(24)]],
              [[reports.WEEKDAYS[d], *data["heat"][d]] for d in range(7)],
              money=range(1, 25)),
    ]
    cuts = ("shop", "terminal", "category", "product", "cashier", "payment", "vat")
    for sheet, cut in zip(sheets[1:8], cuts, strict=True):
        _add_comparison(sheet, data[cut])
    return sheets


def _add_comparison(sheet: Sheet, rows: list[dict[str, Any]]) -> None:
    """The cut's figure in the previous period and a year earlier, as two more columns."""
    width = len(sheet.header)
    sheet.header += ["Vorige periode", "Jaar eerder"]
    sheet.money |= {width, width + 1}
    for cells, row in zip(sheet.rows, rows, strict=True):
        cells += [row["previous"], row["last_year"]]


def heading(period: Period, store: str | None) -> str:
    return f"Kassa - {period.first} t/m {period.last} - {store or 'alle winkels'}"


MARGIN_HEAD = ["Verkocht (stuks)", "Omzet incl. btw", "Omzet excl. btw", "Kostprijs", "Marge",
               "Marge %", "Zonder kostprijs (stuks)", "Zonder kostprijs (omzet)"]


def _margin_row(row: margins.MarginRow) -> list[Any]:
    return [row.quantity, row.gross, row.net, row.cost, row.margin,
            margins.percent_text(row.margin_permille), row.uncosted, row.uncosted_gross]


def margin_sheets(report: margins.MarginReport) -> list[Sheet]:
    money = (2, 3, 4, 5, 8)
    return [
        Sheet("Totaal", ["", *MARGIN_HEAD], [["totaal", *_margin_row(report.total)]], money),
        Sheet("Winkels", ["Winkel", *MARGIN_HEAD],
              [[r.key, *_margin_row(r)] for r in report.shops], money),
        Sheet("Categorieen", ["Categorie", *MARGIN_HEAD],
              [[r.key, *_margin_row(r)] for r in report.categories], money),
        Sheet("Producten", ["Product", "Naam", *MARGIN_HEAD],
              [[r.key, r.name, *_margin_row(r)] for r in report.products],
              [m + 1 for m in money]),
        Sheet("Zonder kostprijs", ["Product", "Naam", "Stuks", "Omzet incl. btw"],
              [[r.key, r.name, r.uncosted, r.uncosted_gross] for r in report.uncosted], (3,)),
    ]


def discount_sheets(report: discounts.DiscountReport) -> list[Sheet]:
    head = ["Bonnen", "Regels", "Stuks", "Kosten", "Verkocht"]

    def numbers(r: dict[str, Any]) -> list[Any]:
        return [r["tickets"], r["lines"], r["quantity"], r["discount"], r["gross"]]

    return [
        Sheet("Per soort", ["Soort", *head],
              [[discounts.KIND_NAMES[r["kind"]], *numbers(r)] for r in report.kinds], (4, 5)),
        Sheet("Acties", ["Actie", "Naam", *head],
              [[r["ref"], r["name"], *numbers(r)] for r in report.promotions], (5, 6)),
        Sheet("Persoonlijke aanbiedingen", ["Aanbieding", *head],
              [[r["ref"], *numbers(r)] for r in report.offers], (4, 5)),
        Sheet("Per kassier", ["Kassier", "Bonnen", "Omzet",
                              *[discounts.KIND_NAMES[k] for k in discounts.KINDS], "Totaal"],
              [[r["cashier"], r["tickets"], r["turnover"], *[r[k] for k in discounts.KINDS],
                r["total"]] for r in report.cashiers], range(2, 9)),
    ]


class UnknownReport(ValueError):
    def __init__(self, kind: str) -> None:
        super().__init__(f"unknown report {kind!r} (one of {', '.join(REPORTS)})")
        self.kind = kind


REPORTS: dict[str, Callable[[Period, str | None], list[Sheet]]] = {
    "sales": lambda period, store: sales_sheets(reports.report(period, store)),
    "margin": lambda period, store: margin_sheets(margins.margin(period, store)),
    "discounts": lambda period, store: discount_sheets(discounts.discounts(period, store)),
}


def sheets(kind: str, period: Period, store: str | None = None) -> list[Sheet]:
    """The sheets of report `kind` (REPORTS); UnknownReport for another name."""
    if kind not in REPORTS:
        raise UnknownReport(kind)
    return REPORTS[kind](period, store)


def xlsx(kind: str, period: Period, store: str | None = None) -> bytes:
    return workbook(sheets(kind, period, store), heading(period, store))


def sales_xlsx(period: Period, store: str | None = None) -> bytes:
    return xlsx("sales", period, store)
