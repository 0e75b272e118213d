"""`kassa office ...`: head office. One function pair (add_*, run_*) per subcommand."""

from __future__ import annotations

import argparse

from cli.audited import audited
from cli.office_audit import add_office_audit
from cli.office_catalogue import add_office_catalogue
from cli.office_config import add_office_config
from cli.office_key import add_office_key
from cli.office_release import add_office_release
from cli.office_report import add_office_report
from cli.office_web import add_office_web
from cli.text_table import table


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("office", help="head office: ingest, terminal registry")
    parser.add_argument("--db", help="head-office database: a SQLite path, sqlite:///path or "
                        "postgresql://user@host/db (default: $KASSA_OFFICE_DB, var/office.sqlite3)")
    osub = parser.add_subparsers(dest="office_command", required=True, metavar="OFFICE_COMMAND")
    add_ingest(osub)
    add_terminal(osub)
    add_promotions(osub)
    add_office_web(osub)  # web, user, export, verify-export, alerts (cli/office_web.py)
    add_office_catalogue(osub)  # the product master (cli/office_catalogue.py)
    add_office_release(osub)  # release publish|pause|resume|halt|rollback|ring|status|serve
    add_office_key(osub)  # public-key (cli/office_key.py)
    add_office_config(osub)  # push-config (cli/office_config.py)
    add_office_report(osub)  # report sales|margin|discounts [--xlsx] (cli/office_report.py)
    add_office_audit(osub)  # audit show|verify|export (cli/office_audit.py)


def _open(args: argparse.Namespace):
    from headoffice.db import open_office_db

    return open_office_db(args.db)


# -- office ingest ------------------------------------------------------------------------------
def add_ingest(osub: argparse._SubParsersAction) -> None:
    parser = osub.add_parser("ingest", help="receive, verify and store the terminals' journals")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--mqtt-host", default="127.0.0.1")
    parser.add_argument("--mqtt-port", type=int, default=1883)
    parser.add_argument("--ca", default="", help="CA file: connect with TLS")
    parser.add_argument("--cert", default="", help="client certificate (TLS)")
    parser.add_argument("--key", default="", help="client key (TLS)")
    parser.add_argument("--client-prefix", default="kassa-ingest",
                        help="MQTT client id prefix; worker i is <prefix>-<i>")
    parser.add_argument("--batch", type=int, default=1000, help="largest batch per commit")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.set_defaults(handler=run_ingest)


def run_ingest(args: argparse.Namespace) -> int:
    import logging
    import signal
    import sys
    import threading

    from headoffice.broker import BrokerSettings
    from headoffice.ingest import worker_main
    from headoffice.ingest.supervisor import WorkerConfigError, supervise

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format=worker_main.LOG_FORMAT)
    if args.workers < 1:
        raise SystemExit("kassa office ingest: --workers must be at least 1")
    broker = BrokerSettings(args.mqtt_host, args.mqtt_port, args.ca, args.cert, args.key)
    try:  # one clear line before any worker starts, however many there are
        worker_main.check_tls_files(broker)
    except worker_main.TlsFileError as exc:
        print(f"kassa office ingest: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    specs = [worker_main.WorkerSpec(args.db, broker, f"{args.client_prefix}-{index}",
                                    args.batch, args.verbose) for index in range(args.workers)]
    if args.workers == 1:
        worker_main.run(specs[0], stop)
        return 0
    _open(args).close()  # create the tables once, before the workers start
    try:
        supervise(specs, stop)
    except WorkerConfigError as exc:
        print(f"kassa office ingest: {exc}", file=sys.stderr)
        return 2
    return 0


# -- office terminal add|list|revoke -------------------------------------------------------------
def add_terminal(osub: argparse._SubParsersAction) -> None:
    parser = osub.add_parser("terminal", help="the terminal registry")
    tsub = parser.add_subparsers(dest="terminal_command", required=True)
    add = tsub.add_parser("add", help="enroll a terminal with its journal public key")
    add.add_argument("terminal_id")
    add.add_argument("--store", required=True)
    add.add_argument("--key", required=True, help="raw Ed25519 public key, 64 hex digits")
    add.set_defaults(handler=run_terminal_add)
    revoke = tsub.add_parser("revoke", help="refuse a terminal's messages from now on")
    revoke.add_argument("terminal_id")
    revoke.set_defaults(handler=run_terminal_revoke)
    listing = tsub.add_parser("list", help="terminals with link state and key fingerprints")
    listing.add_argument("--keys", action="store_true", help="print 'TERMINAL HEX' lines of the "
                         "public keys instead (the file verify-export --public-key reads)")
    listing.set_defaults(handler=run_terminal_list)


@audited("terminal", "terminal_id", "store")
def run_terminal_add(args: argparse.Namespace) -> int:
    from headoffice.registry import RegistryError, add_terminal

    _open(args)
    try:
        info = add_terminal(args.terminal_id, args.store, args.key)
    except RegistryError as exc:
        print(f"kassa office terminal add: {exc}")
        return 1
    print(f"enrolled {info.terminal_id} for store {info.store}")
    return 0


@audited("terminal", "terminal_id")
def run_terminal_revoke(args: argparse.Namespace) -> int:
    from headoffice.registry import RegistryError, revoke_terminal

    _open(args)
    try:
        info = revoke_terminal(args.terminal_id)
    except RegistryError as exc:
        print(f"kassa office terminal revoke: {exc}")
        return 1
    print(f"revoked {info.terminal_id} at {info.revoked}")
    return 0


def run_terminal_list(args: argparse.Namespace) -> int:
    from headoffice.registry import list_terminals

    _open(args)
    rows = list_terminals()
    if args.keys:
        print("# terminal public keys (raw Ed25519, hex); fingerprint = SHA-256 of the raw key")
        for t in rows:
            print(f"{t.terminal_id} {t.public_key}")
        return 0
    header = ("terminal", "store", "status", "link", "acked", "backlog", "last seen", "problem",
              "key fingerprint (sha-256)")
    cells = [(t.terminal_id, t.store, t.status, "online" if t.online else "offline",
              str(t.acked_seq), "" if t.backlog is None else str(t.backlog), t.last_seen or "-",
              t.problem, t.fingerprint) for t in rows]
    for line in table(header, cells, right={"acked", "backlog"}):
        print(line)
    print(f"{len(rows)} terminal(s)")
    return 0


# -- office promotions -------------------------------------------------------------------------
def add_promotions(osub: argparse._SubParsersAction) -> None:
    parser = osub.add_parser("promotions", help="what each promotion cost and sold")
    parser.add_argument("--from", dest="first_day", help="first day YYYY-MM-DD (default: all)")
    parser.add_argument("--to", dest="last_day", help="last day YYYY-MM-DD (default: all)")
    parser.add_argument("--store", help="one store (default: every store)")
    parser.set_defaults(handler=run_promotions)


def run_promotions(args: argparse.Namespace) -> int:
    from contract.money import format_money
    from headoffice.promotion_report import promotion_figures

    _open(args)
    rows = promotion_figures(args.first_day, args.last_day, args.store)
    header = ("promotion", "name", "version", "tickets", "pieces", "sold", "cost")
    cells = [(f.promotion, f.name, str(f.version), str(f.tickets), str(f.quantity),
              format_money(f.gross), format_money(f.discount)) for f in rows]
    for line in table(header, cells, right={"version", "tickets", "pieces", "sold", "cost"}):
        print(line)
    print(f"{len(rows)} promotion(s), cost {format_money(sum(f.discount for f in rows))},"
          f" sold {format_money(sum(f.gross for f in rows))}")
    return 0
