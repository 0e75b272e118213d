"""`kassa catalogue import|find`: load a shop's products from CSV, look one up."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("catalogue", help="import products from CSV, look them up")
    csub = parser.add_subparsers(dest="catalogue_command", required=True)
    imp = csub.add_parser("import", help="import a product CSV (format in README)")
    imp.add_argument("file")
    imp.add_argument("--partial", action="store_true",
                     help="import the good rows even when some rows have errors")
    imp.set_defaults(handler=run_import)
    find = csub.add_parser("find", help="look up a barcode or PLU, or search a name")
    find.add_argument("query")
    find.set_defaults(handler=run_find)


def _db(args: argparse.Namespace):
    from contract.config import load_config
    from firmware.db import open_database

    config = load_config(args.config)
    return config, open_database(config.database_path)


def run_import(args: argparse.Namespace) -> int:
    from firmware.catalogue import import_csv, progress_bar

    _config, db = _db(args)
    try:
        report = import_csv(db, args.file, partial=args.partial, progress=progress_bar)
    except OSError as exc:
        print(f"kassa catalogue import: {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    return print_import_report(args.file, report, args.partial)


def print_import_report(file: str, report, partial: bool) -> int:
    """Each row error on stderr, then the counts; the exit code (1: errors, nothing stored).
    Shared with `kassa office catalogue import`, whose report has the same fields."""
    for error in report.errors:
        print(f"{file}: {error}", file=sys.stderr)
    if report.errors and not partial:
        print(f"nothing imported: {len(report.errors)} error(s) (fix them or use --partial)",
              file=sys.stderr)
        return 1
    print(f"{report.rows} rows: {report.inserted} new, {report.updated} updated, "
          f"{len(report.errors)} skipped")
    return 0


def run_find(args: argparse.Namespace) -> int:
    from contract.gtin import BarcodeError
    from contract.money import format_money
    from firmware.catalogue import Catalogue
    from firmware.errors import TillError

    config, db = _db(args)
    catalogue = Catalogue.for_scanner(db, config.scanner)
    if args.query.isdigit():
        try:
            found = catalogue.resolve(args.query)
        except (BarcodeError, TillError) as exc:
            print(exc, file=sys.stderr)
            return 1
        p = found.product
        extra = ""
        if found.embedded_price is not None:
            extra = f" (label price {format_money(found.embedded_price)})"
        if found.weight_g is not None:
            extra = f" ({found.weight_g} g)"
        print(f"{p.gtin or '-'} PLU {p.plu or '-'} {p.name} {format_money(p.price_cents)}"
              f" {p.vat_code}{extra}")
        return 0
    for p in catalogue.search(args.query):
        print(f"{p.gtin or '-'} PLU {p.plu or '-'} {p.name} {format_money(p.price_cents)} {p.vat_code}")
    return 0
