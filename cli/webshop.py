"""`kassa webshop sync`: WooCommerce orders in, stock and prices out; `log` shows failures."""

from __future__ import annotations

import argparse
import os

from cli.customers import db_arg, open_db


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("webshop", help="the webshop link (WooCommerce REST API v3)")
    db_arg(parser)
    wsub = parser.add_subparsers(dest="webshop_command", required=True)
    sync = wsub.add_parser("sync", help="take new orders from stock, push stock and prices")
    sync.add_argument("--url", required=True, help="the shop's address, e.g. https://shop.example")
    sync.add_argument("--key", default=os.environ.get("KASSA_WC_KEY", ""),
                      help="consumer key (default $KASSA_WC_KEY)")
    sync.add_argument("--secret", default=os.environ.get("KASSA_WC_SECRET", ""),
                      help="consumer secret (default $KASSA_WC_SECRET)")
    sync.add_argument("--fulfil-from", default="webshop",
                      help="comma-separated locations whose stock the webshop sells")
    sync.set_defaults(handler=run_sync)
    log = wsub.add_parser("log", help="what failed, newest first")
    log.set_defaults(handler=run_log)


def run_sync(args: argparse.Namespace) -> int:
    from headoffice.webshop.sync import sync
    from headoffice.webshop.woocommerce import WooCommerce

    if not args.key or not args.secret:
        print("kassa webshop sync: --key and --secret (or $KASSA_WC_KEY/$KASSA_WC_SECRET) needed")
        return 2
    open_db(args)
    result = sync(WooCommerce(args.url, args.key, args.secret),
                  tuple(loc.strip() for loc in args.fulfil_from.split(",") if loc.strip()))
    stock = result.stock
    print(f"orders: {result.orders_taken} taken of {result.orders_seen} seen; stock pushed: "
          f"{len(stock.updated) if stock else 0}; oversold: {', '.join(result.oversold) or 'none'}")
    for error in result.errors:
        print(f"  FAILED {error}")
    return 1 if result.errors else 0


def run_log(args: argparse.Namespace) -> int:
    from headoffice.webshop.sync import failures

    open_db(args)
    for row in failures():
        print(f"{row.at} {row.shop} {row.action} {row.target}: {row.detail}")
    return 0
