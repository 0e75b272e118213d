"""`kassa stock ...`: head office's stock per location, reorder list, oversold report."""

from __future__ import annotations

import argparse

from cli.audited import audited
from cli.customers import db_arg, open_db


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("stock", help="stock per shop and webshop at head office")
    db_arg(parser)
    ssub = parser.add_subparsers(dest="stock_command", required=True)
    levels = ssub.add_parser("levels", help="stock per location and SKU")
    levels.add_argument("--location")
    levels.set_defaults(handler=run_levels)
    reorder = ssub.add_parser("reorder", help="the reorder list: SKUs at or below their level")
    reorder.add_argument("--location")
    reorder.set_defaults(handler=run_reorder)
    level = ssub.add_parser("set-level", help="low-stock level of a SKU at a location")
    level.add_argument("location")
    level.add_argument("sku", help="GTIN or plu:<number>")
    level.add_argument("minimum", type=int)
    level.add_argument("reorder_to", type=int)
    level.set_defaults(handler=run_set_level)
    oversold = ssub.add_parser("oversold", help="sales and orders that took stock not there")
    oversold.set_defaults(handler=run_oversold)


def run_levels(args: argparse.Namespace) -> int:
    from headoffice.stock.ledger import levels

    open_db(args)
    rows = levels(args.location)
    for location, sku, quantity in rows:
        print(f"{location:16} {sku:16} {quantity:>8}")
    print(f"{len(rows)} level(s)")
    return 0


def run_reorder(args: argparse.Namespace) -> int:
    from headoffice.stock.ledger import reorder_list

    open_db(args)
    rows = reorder_list(args.location)
    for r in rows:
        print(f"{r.location:16} {r.sku:16} {r.name[:30]:30} stock {r.quantity:>6} "
              f"(level {r.minimum}) order {r.order}")
    print(f"{len(rows)} to reorder")
    return 0


@audited("stock", "location", "sku", "minimum", "reorder_to")
def run_set_level(args: argparse.Namespace) -> int:
    from cli.webshop import in_master
    from contract.product_key import parse_sku
    from headoffice.db import write_transaction
    from headoffice.stock.known import UnknownSku, require_known
    from headoffice.stock.ledger import set_reorder_level

    open_db(args)
    try:
        sku = require_known(parse_sku(args.sku), (in_master,))
        with write_transaction():
            set_reorder_level(args.location, sku, args.minimum, args.reorder_to)
    except (ValueError, UnknownSku) as exc:
        print(f"kassa stock set-level: {exc}")
        return 1
    print(f"{args.location} {args.sku}: reorder at {args.minimum}, up to {args.reorder_to}")
    return 0


def run_oversold(args: argparse.Namespace) -> int:
    from headoffice.stock.ledger import oversold

    open_db(args)
    rows = oversold()
    for r in rows:
        print(f"{r.location:16} {r.sku:16} level {r.level_after:>4} by {r.source}")
    print(f"{len(rows)} oversold")
    return 0
