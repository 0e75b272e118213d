"""`kassa office catalogue ...`: head office's product master (import, export, prices, costs,
deposit types, store ranges, promotions, the audit trail) and publishing it to the tills.

Registered by cli/office.py; every handler imports head office only when it runs.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable

from cli.audited import audited

ACTOR_ENV = "KASSA_ACTOR"


def add_office_catalogue(osub: argparse._SubParsersAction) -> None:
    parser = osub.add_parser("catalogue", help="the product master: products, prices, "
                             "promotions, audit trail; publish to the tills")
    parser.add_argument("--actor", help=f"who makes the change, for the audit trail (default "
                        f"${ACTOR_ENV}, else the login name)")
    csub = parser.add_subparsers(dest="catalogue_command", required=True)

    imp = csub.add_parser("import", help="products from CSV (columns in "
                          "docs/operations/product-master.md)")
    imp.add_argument("file")
    imp.add_argument("--partial", action="store_true",
                     help="import the good rows even when some rows have errors")
    imp.add_argument("--from", dest="valid_from", help="when the file's prices and costs start "
                     "(Amsterdam time, default now)")
    imp.set_defaults(handler=run_import)

    exp = csub.add_parser("export", help="the master as CSV (the import's columns)")
    exp.add_argument("-o", "--output", help="file to write (default: standard output)")
    exp.set_defaults(handler=run_export)

    product = csub.add_parser("product", help="add a product or change some of its fields")
    product.add_argument("code", help="its GTIN or PLU (a new product: the main code)")
    for option in ("gtin", "barcodes", "plu", "name", "category", "vat", "unit", "age-limit",
                   "deposit", "content"):
        product.add_argument(f"--{option}", help="as the CSV column (docs/operations/"
                             "product-master.md); '' clears it")
    product.add_argument("--active", choices=("ja", "nee"))
    product.set_defaults(handler=run_product)

    show = csub.add_parser("show", help="a product: fields, prices per store, cost")
    show.add_argument("code", help="GTIN, PLU or SKU")
    show.add_argument("--store", default="*", help="whose prices (default: every store's)")
    show.set_defaults(handler=run_show)

    price = csub.add_parser("price", help="set, plan or cancel a shelf price")
    psub = price.add_subparsers(dest="price_command", required=True)
    pset = psub.add_parser("set", help="a price from now or from --from on")
    pset.add_argument("code")
    pset.add_argument("price", help="euros, VAT included: 1,99")
    pset.add_argument("--store", default="*", help="one store (default: every store)")
    pset.add_argument("--from", dest="valid_from", help="Amsterdam time, e.g. '2026-12-07 07:00'")
    pset.set_defaults(handler=run_price_set)
    pcancel = psub.add_parser("cancel", help="withdraw a planned price")
    pcancel.add_argument("code")
    pcancel.add_argument("--store", default="*")
    pcancel.add_argument("--from", dest="valid_from", required=True)
    pcancel.set_defaults(handler=run_price_cancel)

    cost = csub.add_parser("cost", help="the purchase price from now or --from on (history kept)")
    cost.add_argument("code")
    cost.add_argument("cost", help="euros: 0,89")
    cost.add_argument("--from", dest="valid_from")
    cost.set_defaults(handler=run_cost)

    deposit = csub.add_parser("deposit", help="deposit (statiegeld) types")
    dsub = deposit.add_subparsers(dest="deposit_command", required=True)
    dadd = dsub.add_parser("add", help="add or change a deposit type")
    dadd.add_argument("code", help="e.g. statiegeld-015")
    dadd.add_argument("amount", help="euros: 0,15")
    dadd.add_argument("--name", default="")
    dadd.add_argument("--vat", default=None, help="VAT code of the deposit line (default exempt:"
                      " outside VAT, see docs/operations/product-master.md)")
    dadd.set_defaults(handler=run_deposit_add)
    dsub.add_parser("list", help="the deposit types").set_defaults(handler=run_deposit_list)
    dsub.add_parser("dutch", help="add statiegeld-015 and statiegeld-025 if missing"
                    ).set_defaults(handler=run_deposit_dutch)

    store = csub.add_parser("store", help="sell a product in one store or not")
    store.add_argument("action", choices=("enable", "disable"))
    store.add_argument("code")
    store.add_argument("store")
    store.set_defaults(handler=run_store)

    add_promo(csub)

    pub = csub.add_parser("publish", help="send each store its catalogue (full or delta) and "
                          "promotions, sealed and retained")
    pub.add_argument("--store", action="append", help="a store (default: every store with an "
                     "active terminal); repeat for more")
    pub.add_argument("--mode", choices=("auto", "full", "delta"), default="auto",
                     help="auto: a delta when every till of the store holds the last version")
    pub.add_argument("--force", action="store_true", help="publish even when nothing changed")
    pub.add_argument("--what", choices=("all", "catalogue", "promotions"), default="all")
    pub.add_argument("--mqtt-host", default="127.0.0.1")
    pub.add_argument("--mqtt-port", type=int, default=1883)
    pub.add_argument("--ca", default="")
    pub.add_argument("--cert", default="")
    pub.add_argument("--key", default="")
    pub.add_argument("--office-key", help="head office's signing key (default $KASSA_OFFICE_KEY)")
    pub.set_defaults(handler=run_publish)

    shop = csub.add_parser("webshop", help="the webshop (WooCommerce) gets the master's "
                           "products and prices (store 'webshop'); stock is left to `webshop sync`")
    shop.add_argument("--url", required=True, help="the shop's address, e.g. https://shop.example")
    shop.add_argument("--key", default=os.environ.get("KASSA_WC_KEY", ""),
                      help="consumer key (default $KASSA_WC_KEY)")
    shop.add_argument("--secret", default=os.environ.get("KASSA_WC_SECRET", ""),
                      help="consumer secret (default $KASSA_WC_SECRET)")
    shop.set_defaults(handler=run_webshop)

    labels = csub.add_parser("labels", help="shelf labels (PDF) of the prices that change on a day")
    labels.add_argument("--store", default="*", help="one store (default: the chain's prices)")
    labels.add_argument("--day", help="YYYY-MM-DD (default: today, Amsterdam time)")
    labels.add_argument("-o", "--output", required=True, help="the PDF to write")
    labels.set_defaults(handler=run_labels)

    trail = csub.add_parser("audit", help="who changed what")
    trail.add_argument("key", nargs="?", help="a SKU, deposit code or promotion id")
    trail.add_argument("--limit", type=int, default=50)
    trail.set_defaults(handler=run_audit)


def add_promo(csub: argparse._SubParsersAction) -> None:
    promo = csub.add_parser("promo", help="promotions (types and fields: contract/promotions.py)")
    psub = promo.add_subparsers(dest="promo_command", required=True)
    add = psub.add_parser("add", help="add or change a promotion")
    add.add_argument("id")
    add.add_argument("--name", required=True, help="the receipt text, e.g. '3 voor 5,00'")
    add.add_argument("--type", required=True,
                     choices=("n_for_price", "buy_get", "nth_percent", "percent"))
    add.add_argument("--n", type=int)
    add.add_argument("--price", help="euros, for n_for_price")
    add.add_argument("--buy", type=int)
    add.add_argument("--get", type=int)
    add.add_argument("--percent", type=int)
    add.add_argument("--products", default="", help="codes (GTIN, PLU or plu:N), comma separated")
    add.add_argument("--categories", default="", help="category names, comma separated")
    add.add_argument("--from", dest="valid_from", help="first day YYYY-MM-DD")
    add.add_argument("--until", dest="valid_until", help="last day YYYY-MM-DD")
    add.add_argument("--hours", help="HH:MM-HH:MM (Amsterdam time)")
    add.add_argument("--weekdays", default="", help="ISO weekdays, 1 = Monday: 1,2,3")
    add.add_argument("--stores", default="", help="stores, comma separated (default: every store)")
    add.set_defaults(handler=run_promo_add)
    for action in ("enable", "disable"):
        one = psub.add_parser(action, help=f"{action} a promotion")
        one.add_argument("id")
        one.set_defaults(handler=run_promo_active, active=action == "enable")
    psub.add_parser("list", help="the promotions").set_defaults(handler=run_promo_list)


# -- helpers -----------------------------------------------------------------------------------
def _open(args: argparse.Namespace) -> None:
    from headoffice.db import open_office_db

    open_office_db(args.db)


def _actor(args: argparse.Namespace) -> str:
    return args.actor or os.environ.get(ACTOR_ENV) or getpass.getuser()


def _moment(text: str | None):
    from headoffice.catalogue.times import now_utc, parse_moment

    return parse_moment(text) if text else now_utc()


def _euros(text: str, field: str) -> int:
    from headoffice.catalogue.fields import euros

    return euros(text, field)


def _guarded(args: argparse.Namespace, work: Callable[[], int | None]) -> int:
    """Opens the database and runs `work`; a master error is one line on stderr, exit 1."""
    from headoffice.catalogue.errors import MasterError

    _open(args)
    try:
        return work() or 0
    except MasterError as exc:
        print(f"kassa office catalogue {args.catalogue_command}: {exc}", file=sys.stderr)
        return 1


def _product(args: argparse.Namespace):
    from headoffice.catalogue.products import find

    return find(args.code)


# -- handlers ----------------------------------------------------------------------------------
@audited("catalogue", "file", "partial", "valid_from", "actor")
def run_import(args: argparse.Namespace) -> int:
    from cli.catalogue import print_import_report
    from firmware.catalogue import progress_bar
    from headoffice.catalogue.importcsv import import_csv

    def work() -> int:
        try:
            report = import_csv(args.file, _actor(args), partial=args.partial,
                                progress=progress_bar, valid_from=_moment(args.valid_from))
        except OSError as exc:
            print(f"kassa office catalogue import: {args.file}: {exc.strerror}", file=sys.stderr)
            return 2
        return print_import_report(args.file, report, args.partial)

    return _guarded(args, work)


@audited("export", "output")
def run_export(args: argparse.Namespace) -> int:
    from headoffice.catalogue.export import export_csv

    _open(args)
    text = export_csv()
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


@audited("catalogue", "code", "name", "gtin", "plu", "category", "vat", "active", "actor")
def run_product(args: argparse.Namespace) -> int:
    from headoffice.catalogue.errors import UnknownProduct
    from headoffice.catalogue.fields import product_fields
    from headoffice.catalogue.products import save_product, snapshot

    def work() -> None:
        try:
            now = snapshot(_product(args))
            cells = {k: "" if v is None else str(v) for k, v in now.items()}
            cells.update(barcodes=" ".join(now["barcodes"]), active="ja" if now["active"] else "nee")
        except UnknownProduct:
            key = "plu" if len(args.code) <= 6 else "gtin"
            cells = {key: args.code}
        given = {"gtin": args.gtin, "barcodes": args.barcodes, "plu": args.plu,
                 "name": args.name, "category": args.category, "vat_code": args.vat,
                 "unit": args.unit, "age_limit": args.age_limit, "deposit": args.deposit,
                 "content": args.content,
                 "active": args.active}
        cells.update({k: v for k, v in given.items() if v is not None})
        saved, created = save_product(product_fields(cells), _actor(args))
        print(f"{saved.sku} {saved.name}: {'added' if created else 'changed'}")

    return _guarded(args, work)


def run_show(args: argparse.Namespace) -> int:
    from headoffice.catalogue.export import euro_text
    from headoffice.catalogue.pricing import schedule, timelines
    from headoffice.catalogue.products import cost_at, snapshot
    from headoffice.catalogue.times import now_utc, sent

    def work() -> None:
        product = _product(args)
        fields = snapshot(product)
        print(f"{product.sku}  {product.name}")
        for key in ("gtin", "barcodes", "plu", "category", "vat_code", "unit", "content", "age_limit",
                    "deposit", "active"):
            print(f"  {key:10} {fields[key]}")
        now = now_utc()
        lines = timelines(args.store, [product.id]).get(product.id, ([], []))
        current, planned = schedule(*lines, now)
        print(f"  price      {euro_text(current) or '-'} (store {args.store})")
        for moment, cents in planned:
            print(f"  from {sent(moment)}: {euro_text(cents)}")
        print(f"  cost       {euro_text(cost_at(product.id, now)) or '-'}")

    return _guarded(args, work)


@audited("catalogue", "code", "price", "cost", "store", "valid_from", "actor")
def run_price_set(args: argparse.Namespace) -> int:
    from headoffice.catalogue.products import set_price

    def work() -> None:
        product, when = _product(args), _moment(args.valid_from)
        set_price(product, _euros(args.price, "price"), when, args.store, _actor(args))
        print(f"{product.sku} {product.name}: {args.price} in {args.store} from {when.isoformat()}")

    return _guarded(args, work)


@audited("catalogue", "code", "price", "cost", "store", "valid_from", "actor")
def run_price_cancel(args: argparse.Namespace) -> int:
    from headoffice.catalogue.products import cancel_price

    def work() -> int:
        if cancel_price(_product(args), _moment(args.valid_from), args.store, _actor(args)):
            return 0
        print(f"no price of {args.code} in {args.store} from {args.valid_from}", file=sys.stderr)
        return 1

    return _guarded(args, work)


@audited("catalogue", "code", "price", "cost", "store", "valid_from", "actor")
def run_cost(args: argparse.Namespace) -> int:
    from headoffice.catalogue.products import set_cost

    return _guarded(args, lambda: set_cost(_product(args), _euros(args.cost, "cost"),
                                           _moment(args.valid_from), _actor(args)))


@audited("catalogue", "code", "amount", "vat", "actor")
def run_deposit_add(args: argparse.Namespace) -> int:
    from headoffice.catalogue.products import DEFAULT_DEPOSIT_VAT, save_deposit

    return _guarded(args, lambda: save_deposit(
        args.code, args.name or args.code, _euros(args.amount, "amount"),
        args.vat or DEFAULT_DEPOSIT_VAT, _actor(args)) and None)


def run_deposit_list(args: argparse.Namespace) -> int:
    from headoffice.catalogue.export import euro_text
    from headoffice.catalogue.models import DepositType

    _open(args)
    for d in DepositType.select().order_by(DepositType.code):
        print(f"{d.code:20} {euro_text(d.amount_cents):>7}  vat {d.vat_code:7} {d.name}")
    return 0


@audited("catalogue", "actor")
def run_deposit_dutch(args: argparse.Namespace) -> int:
    from headoffice.catalogue.products import ensure_dutch_deposits

    _open(args)
    ensure_dutch_deposits(_actor(args))
    return run_deposit_list(args)


@audited("catalogue", "action", "code", "store", "actor")
def run_store(args: argparse.Namespace) -> int:
    from headoffice.catalogue.products import set_store_active

    return _guarded(args, lambda: set_store_active(_product(args), args.store,
                                                   args.action == "enable", _actor(args)))


@audited("catalogue", "id", "name", "type", "valid_from", "valid_until", "stores", "actor")
def run_promo_add(args: argparse.Namespace) -> int:
    from contract.product_key import sku_for_code
    from headoffice.catalogue.promotions import save_promotion

    def work() -> None:
        item: dict = {"id": args.id, "name": args.name, "type": args.type}
        item.update({key: getattr(args, key) for key in ("n", "buy", "get", "percent")
                     if getattr(args, key) is not None})
        if args.price is not None:
            item["price_cents"] = _euros(args.price, "price")
        item["products"] = [sku_for_code(c) or c for c in _listed(args.products)]
        item["categories"] = _listed(args.categories)
        item["stores"] = _listed(args.stores)
        item["weekdays"] = [int(d) for d in _listed(args.weekdays) if d.isdigit()]
        for key in ("valid_from", "valid_until"):
            if getattr(args, key):
                item[key] = getattr(args, key)
        if args.hours:
            item["time_from"], _, item["time_until"] = args.hours.partition("-")
        row = save_promotion(item, _actor(args))
        print(f"promotion {row.promo_id} version {row.edit}")

    return _guarded(args, work)


def _listed(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@audited("catalogue", "id", "active", "actor")
def run_promo_active(args: argparse.Namespace) -> int:
    from headoffice.catalogue.promotions import set_active

    return _guarded(args, lambda: set_active(args.id, args.active, _actor(args)))


def run_promo_list(args: argparse.Namespace) -> int:
    import json

    from headoffice.catalogue.models import Promotion
    from headoffice.catalogue.promotions import as_item

    _open(args)
    for row in Promotion.select().order_by(Promotion.promo_id):
        state = "active" if row.active else "off"
        print(f"{row.promo_id} [{state}] {json.dumps(as_item(row), ensure_ascii=False)}")
    return 0


@audited("catalogue_publish", "store", "mode", "what", "force")
def run_publish(args: argparse.Namespace) -> int:
    from headoffice.broker import BrokerSettings, publisher
    from headoffice.catalogue.promotions import publish_promotions
    from headoffice.catalogue.publish import publish_store, stores

    _open(args)
    if args.office_key:
        os.environ["KASSA_OFFICE_KEY"] = args.office_key
    targets = args.store or stores()
    if not targets:
        print("no store to publish to (no active terminal; name one with --store)",
              file=sys.stderr)
        return 1
    broker = BrokerSettings(args.mqtt_host, args.mqtt_port, ca_file=args.ca,
                            cert_file=args.cert, key_file=args.key)
    try:
        with publisher(broker, f"kassa-catalogue-{os.getpid()}") as send:
            for store in targets:
                if args.what in ("all", "catalogue"):
                    done = publish_store(send, store, args.mode, force=args.force)
                    print(f"{store}: catalogue " + (
                        f"v{done.version} {done.mode}: {done.products} products, {done.removed}"
                        f" removed, {done.bytes} bytes" if done.mode != "none"
                        else f"unchanged (v{done.version})")
                        + (f"; {done.unpriced} without a price not sent" if done.unpriced else ""))
                if args.what in ("all", "promotions"):
                    promo = publish_promotions(send, store, force=args.force)
                    print(f"{store}: promotions " + (f"v{promo.version}: {promo.promotions}"
                          if promo.sent else f"unchanged (v{promo.version})"))
    except (OSError, TimeoutError) as exc:
        print(f"kassa office catalogue publish: broker: {exc}; nothing recorded as published",
              file=sys.stderr)
        return 2
    return 0


@audited("catalogue_publish", "url")
def run_webshop(args: argparse.Namespace) -> int:
    from headoffice.catalogue.webshop import push_to_webshop
    from headoffice.webshop.connector import WebshopError
    from headoffice.webshop.woocommerce import WooCommerce

    if not args.key or not args.secret:
        print("kassa office catalogue webshop: --key and --secret (or $KASSA_WC_KEY/"
              "$KASSA_WC_SECRET) needed", file=sys.stderr)
        return 2
    _open(args)
    try:
        result = push_to_webshop(WooCommerce(args.url, args.key, args.secret))
    except WebshopError as exc:
        print(f"kassa office catalogue webshop: {exc}", file=sys.stderr)
        return 1
    print(f"webshop: {len(result.created)} created, {len(result.updated)} updated, "
          f"{len(result.failed)} failed")
    for sku, reason in sorted(result.failed.items()):
        print(f"  FAILED {sku}: {reason}", file=sys.stderr)
    return 1 if result.failed else 0


def run_audit(args: argparse.Namespace) -> int:
    from headoffice.catalogue.audit import trail
    from headoffice.catalogue.times import sent

    _open(args)
    for row in trail(args.key, limit=args.limit):
        print(f"{sent(row.at)} {row.actor:12} {row.entity:9} {row.key:16} {row.action:8}"
              f" {row.old or '-'} -> {row.new or '-'}")
    return 0


@audited("export", "store", "day", "output")
def run_labels(args: argparse.Namespace) -> int:
    import datetime as dt

    from headoffice.catalogue.errors import BadField
    from headoffice.catalogue.labels import day_labels
    from headoffice.catalogue.times import SHOP_ZONE
    from headoffice.shelf_labels import LabelError, render_labels

    def work() -> int:
        try:
            day = dt.date.fromisoformat(args.day) if args.day else dt.datetime.now(SHOP_ZONE).date()
        except ValueError:
            raise BadField("day", args.day, "not a date like 2026-12-07") from None
        items = day_labels(args.store, day)
        if not items:
            print(f"no price changes on {day:%d-%m-%Y} for store {args.store}: nothing to print")
            return 0
        try:
            pages = render_labels(items, "alle winkels" if args.store == "*" else args.store,
                                  args.output)
        except (LabelError, OSError) as exc:
            print(f"kassa office catalogue labels: {exc}", file=sys.stderr)
            return 1
        print(f"{len(items)} labels on {pages} page(s): {args.output}")
        return 0

    return _guarded(args, work)

