"""`kassa office report KIND`: the owner's reports (sales, margin, discounts) over a range,
as text or, with --xlsx FILE / --pdf FILE, as the same Excel file and PDF the dashboard's
buttons give."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli.audited import audited


def add_office_report(osub: argparse._SubParsersAction) -> None:
    parser = osub.add_parser("report", help="the owner's reports: sales, margin, discounts")
    parser.add_argument("kind", help="sales, margin or discounts")
    parser.add_argument("--period", default="this_month",
                        help="a preset (today, yesterday, this_week, last_week, this_month, "
                        "last_month, this_quarter, last_quarter, this_year, last_year) or a "
                        "period: 2026, 2026-Q1, 2026-03, 2026-W10, 2026-03-01..2026-03-09")
    parser.add_argument("--store", help="one store (default: every store)")
    parser.add_argument("--xlsx", type=Path, metavar="FILE", help="write the report as Excel")
    parser.add_argument("--pdf", type=Path, metavar="FILE", help="write the report as PDF")
    parser.add_argument("--lang", choices=("nl", "en"), default="nl",
                        help="the PDF's language (default nl)")
    parser.set_defaults(handler=run_office_report)


def _cell(value: object, money: bool) -> str:
    from contract.money import format_money

    return format_money(value) if money and isinstance(value, int) else str(value)


@audited("export", "kind", "period", "store", "xlsx", when=lambda args: bool(args.xlsx))
def run_office_report(args: argparse.Namespace) -> int:
    from cli.text_table import table
    from headoffice.db import open_office_db
    from headoffice.web.i18n import now_local
    from headoffice.web.report_pdf import pdf
    from headoffice.web.report_queries import ReportError, parse_range
    from headoffice.web.report_sheets import UnknownReport, heading, sheets, workbook

    open_office_db(args.db)
    try:
        period = parse_range(args.period, now_local().date())
        found = sheets(args.kind, period, args.store)
    except (ReportError, UnknownReport) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.xlsx:
        args.xlsx.write_bytes(workbook(found, heading(period, args.store)))
        print(f"{args.xlsx}: {len(found)} sheet(s), {period.first} .. {period.last}")
    if args.pdf:
        args.pdf.write_bytes(pdf(args.kind, period, args.store, args.lang, found))
        print(f"{args.pdf}: {len(found)} table(s), {period.first} .. {period.last}")
    if args.xlsx or args.pdf:
        return 0
    print(heading(period, args.store))
    for sheet in found:
        print(f"\n== {sheet.title}")
        header = tuple(sheet.header)
        rows = [tuple(_cell(v, i in sheet.money) for i, v in enumerate(row)) for row in sheet.rows]
        for line in table(header, rows, right=set(header[1:])):
            print(line)
    return 0
