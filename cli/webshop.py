"""`kassa webshop sync|retry|parked|set-stock|import-stock|log`: the WooCommerce link.

`sync` takes orders through their statuses and pushes stock and prices, once or every
--loop seconds (the service); credentials come from the environment, never the command line
shown in `ps` or logs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from cli.audited import audited
from cli.customers import db_arg, open_db


def _shop_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=os.environ.get("KASSA_WC_URL", ""),
                        help="the shop's address, e.g. https://shop.example (default $KASSA_WC_URL)")
    parser.add_argument("--key", default=os.environ.get("KASSA_WC_KEY", ""),
                        help="consumer key (default $KASSA_WC_KEY)")
    parser.add_argument("--secret", default=os.environ.get("KASSA_WC_SECRET", ""),
                        help="consumer secret (default $KASSA_WC_SECRET)")
    parser.add_argument("--name", default=os.environ.get("KASSA_WEBSHOP_NAME", "woocommerce"),
                        help="the webshop's name at head office (default $KASSA_WEBSHOP_NAME, "
                        "woocommerce); the webhook endpoint uses the same")


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("webshop", help="the webshop link (WooCommerce REST API v3)")
    db_arg(parser)
    wsub = parser.add_subparsers(dest="webshop_command", required=True)
    sync = wsub.add_parser("sync", help="follow orders through their statuses, push stock and "
                           "prices (the first run imports the webshop's stock)")
    _shop_args(sync)
    sync.add_argument("--fulfil-from", default="webshop",
                      help="comma-separated locations whose stock the webshop sells")
    sync.add_argument("--loop", type=float, default=0,
                      help="repeat every N seconds (the service); errors do not stop it")
    sync.set_defaults(handler=run_sync)
    retry = wsub.add_parser("retry", help="fetch a (parked) order again and take it")
    _shop_args(retry)
    retry.add_argument("order_id")
    retry.set_defaults(handler=run_retry)
    parked = wsub.add_parser("parked", help="orders head office could not take, and why")
    parked.set_defaults(handler=run_parked)
    level = wsub.add_parser("set-stock", help="count: put stock of a SKU at a location "
                            "(default the webshop's, 'webshop')")
    level.add_argument("sku", help="GTIN or plu:<number>")
    level.add_argument("quantity", type=int)
    level.add_argument("--location", default="webshop")
    level.set_defaults(handler=run_set_stock)
    imp = wsub.add_parser("import-stock", help="take the stock the webshop shows as head "
                          "office's count at 'webshop' (done once by the first sync)")
    _shop_args(imp)
    imp.add_argument("--replace", action="store_true",
                     help="also for SKUs head office already keeps stock for at 'webshop'")
    imp.set_defaults(handler=run_import)
    log = wsub.add_parser("log", help="what failed, newest first")
    log.set_defaults(handler=run_log)


def in_master(sku: str) -> bool:
    """Whether the product master has this SKU (for head office's known-SKU checks)."""
    from headoffice.catalogue.models import MasterProduct

    return MasterProduct.select().where(MasterProduct.sku == sku).exists()


def _connector(args: argparse.Namespace, command: str):
    from headoffice.webshop.woocommerce import WooCommerce

    if not args.url or not args.key or not args.secret:
        print(f"kassa webshop {command}: --url, --key and --secret (or $KASSA_WC_URL, "
              "$KASSA_WC_KEY, $KASSA_WC_SECRET) needed", file=sys.stderr)
        return None
    return WooCommerce(args.url, args.key, args.secret, name=args.name)


def _round(shop, fulfil_from: tuple[str, ...]) -> int:
    from headoffice.webshop.sync import sync

    result = sync(shop, fulfil_from)
    stock = result.stock
    if result.imported:
        print(f"linked: stock of {len(result.imported)} SKU(s) imported at 'webshop'")
    pushed = f"{len(stock.updated)}" if stock else f"none ({result.stock_skipped or 'failed'})"
    print(f"orders: {result.orders_taken} new, {result.orders_changed} changed of "
          f"{result.orders_seen} seen; parked: {len(result.parked)}; stock pushed: {pushed}; "
          f"oversold: {', '.join(result.oversold) or 'none'}", flush=True)
    for error in result.errors:
        print(f"  FAILED {error}", flush=True)
    return 1 if result.errors else 0


def run_sync(args: argparse.Namespace) -> int:
    shop = _connector(args, "sync")
    if shop is None:
        return 2
    fulfil_from = tuple(loc.strip() for loc in args.fulfil_from.split(",") if loc.strip())
    if not fulfil_from:
        print("kassa webshop sync: --fulfil-from names no location", file=sys.stderr)
        return 2
    open_db(args)
    while True:
        started = time.monotonic()
        try:
            code = _round(shop, fulfil_from)
        except Exception as exc:  # noqa: BLE001 - the service keeps going; the next round retries
            if not args.loop:
                raise
            print(f"  FAILED round: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            code = 1
        if not args.loop:
            return code
        time.sleep(max(0.0, args.loop - (time.monotonic() - started)))


@audited("change", "order_id")
def run_retry(args: argparse.Namespace) -> int:
    from headoffice.webshop.connector import WebshopError
    from headoffice.webshop.sync import retry

    shop = _connector(args, "retry")
    if shop is None:
        return 2
    open_db(args)
    try:
        applied = retry(shop, args.order_id)
    except WebshopError as exc:
        print(f"kassa webshop retry: {exc}", file=sys.stderr)
        return 1
    if applied.outcome == "parked":
        print(f"order {args.order_id}: still parked: {applied.reason}")
        return 1
    print(f"order {args.order_id}: {applied.outcome}, {applied.moved} stock move(s)")
    return 0


def run_parked(args: argparse.Namespace) -> int:
    from headoffice.webshop.orders import parked

    open_db(args)
    rows = parked()
    for row in rows:
        print(f"{row.shop} {row.order_id} ({row.status}): {row.reason}")
    print(f"{len(rows)} parked")
    return 0


@audited("stock", "sku", "quantity", "location")
def run_set_stock(args: argparse.Namespace) -> int:
    import datetime as dt

    from contract.product_key import parse_sku
    from headoffice.db import write_transaction
    from headoffice.stock import ledger
    from headoffice.stock.known import UnknownSku, require_known

    open_db(args)
    if args.quantity < 0:
        print(f"kassa webshop set-stock: quantity must be 0 or more, got {args.quantity}",
              file=sys.stderr)
        return 2
    try:
        sku = parse_sku(args.sku)
        require_known(sku, (in_master,))
    except (ValueError, UnknownSku) as exc:
        print(f"kassa webshop set-stock: {exc}", file=sys.stderr)
        return 1
    now = dt.datetime.now(dt.UTC)
    with write_transaction():
        ledger.count(args.location, sku, args.quantity,
                     f"office_count:{args.location}:{sku}:{now.isoformat()}",
                     int(now.timestamp() * 1000))
    print(f"{args.location} {sku}: {ledger.level(args.location, sku)}")
    return 0


@audited("stock", "replace")
def run_import(args: argparse.Namespace) -> int:
    from headoffice.webshop.connector import WebshopError
    from headoffice.webshop.sync import import_stock

    shop = _connector(args, "import-stock")
    if shop is None:
        return 2
    open_db(args)
    try:
        imported = import_stock(shop, replace=args.replace)
    except WebshopError as exc:
        print(f"kassa webshop import-stock: {exc}", file=sys.stderr)
        return 1
    for sku, quantity in imported.items():
        print(f"webshop {sku}: {quantity}")
    print(f"{len(imported)} SKU(s) imported")
    return 0


def run_log(args: argparse.Namespace) -> int:
    """A reader that stops early (`| head`) ends it quietly."""
    from headoffice.webshop.sync import failures

    open_db(args)
    try:
        for row in failures():
            print(f"{row.at} {row.shop} {row.action} {row.target}: {row.detail}")
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return 0
