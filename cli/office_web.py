"""`kassa office web|user|export|verify-export|alerts|aggregates`: the dashboard side of head office.

Registered by cli/office.py; heavy imports (Starlette, lxml) only inside handlers.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from cli.audited import audited
from cli.office_user import add_office_user

if TYPE_CHECKING:
    from headoffice.exports.periods import Period


def add_office_web(osub: argparse._SubParsersAction) -> None:
    settings_help = "office settings TOML ([alerts], [accounts], [company], [web]; every key in " \
                    "docs/operations/head-office.md); default $KASSA_OFFICE_SETTINGS"
    web = osub.add_parser("web", help="the dashboard (login, live turnover, tax overviews)")
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=8080)
    web.add_argument("--settings", help=settings_help)
    web.add_argument("--no-alerts", action="store_true", help="do not run the alert sender here")
    web.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM; with --tls-key)")
    web.add_argument("--tls-key", help="the certificate's private key (PEM)")
    web.add_argument("--fleet-ca", help="serve HTTPS with a certificate for --tls-name issued "
                     "by the fleet CA in this directory (made on first start, kept beside it)")
    web.add_argument("--tls-name", default="localhost", help="the host name in that certificate")
    web.add_argument("--idle-minutes", type=float, default=30,
                     help="a session idle this long ends (default 30)")
    web.set_defaults(handler=run_web)
    add_office_user(osub)

    export = osub.add_parser("export", help="tax overviews: vat, xaf, journal")
    export.add_argument("kind", choices=("vat", "xaf", "journal"))
    export.add_argument("--period", required=True,
                        help="YYYY, YYYY-Qn, YYYY-MM, YYYY-Www, YYYY-MM-DD or FROM..TO")
    export.add_argument("--store", help="one shop (default: every shop; an xaf then holds one "
                        "sales journal per shop of the company)")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv", help="journal format")
    export.add_argument("--settings", help=settings_help)
    export.add_argument("-o", "--output", help="file to write (default: standard output); a "
                        "journal goes with its signed manifest: FILE and FILE.manifest.json, or "
                        "both in one zip when FILE ends in .zip")
    export.add_argument("--office-key", help="head office's signing key file (default "
                        "$KASSA_OFFICE_KEY, var/office_ed25519.pem; created on first use)")
    export.set_defaults(handler=run_export)

    verify = osub.add_parser("verify-export", help="check a journal export offline: chain, "
                             "signatures, columns and completeness against its signed manifest")
    verify.add_argument("file", help="the data file (its FILE.manifest.json beside it) or the zip")
    verify.add_argument("--manifest", help="the manifest, when it is not beside the data file")
    verify.add_argument("--public-key", action="append", default=[],
                        help="TERMINAL=HEX, HEX (every terminal) or a file of 'TERMINAL HEX' "
                        "lines; must agree with the manifest's keys (default: the manifest's)")
    verify.add_argument("--office-key", help="head office's public key or its fingerprint, as "
                        "head office gave it to you: the manifest must be signed by it")
    verify.set_defaults(handler=run_verify_export, office_db=False)

    alerts = osub.add_parser("alerts", help="run the alert monitor and sender on its own")
    alerts.add_argument("--settings", help=settings_help)
    alerts.set_defaults(handler=run_alerts)

    agg = osub.add_parser("aggregates", help="rebuild the dashboard totals from the journal")
    agg.add_argument("action", choices=("rebuild",))
    agg.set_defaults(handler=run_aggregates)


def _open(args: argparse.Namespace):
    from headoffice.db import open_office_db

    return open_office_db(args.db)


def _settings(args: argparse.Namespace):
    from headoffice.alerts import settings

    loaded = settings.load_settings(getattr(args, "settings", None))
    settings.use(loaded)
    return loaded


def _tls(args: argparse.Namespace) -> tuple[str, str] | None:
    """(cert, key) files to serve HTTPS with, or None for plain HTTP (behind a proxy)."""
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            raise SystemExit("kassa office web: give both --tls-cert and --tls-key")
        return args.tls_cert, args.tls_key
    if args.fleet_ca:
        from cli.office_tls import fleet_certificate

        return fleet_certificate(args.fleet_ca, args.tls_name)
    return None


def run_web(args: argparse.Namespace) -> int:
    import uvicorn

    from headoffice.alerts.delivery import AlertWorker
    from headoffice.web.app import create_app
    from headoffice.web.daily_summary import SummaryWorker

    settings = _settings(args)
    tls = _tls(args)
    db = _open(args)
    worker = summaries = None
    if not args.no_alerts:
        worker = AlertWorker(db, settings.alerts)
        worker.start()
        summaries = SummaryWorker(settings.alerts)
        summaries.start()
    scheme = "https" if tls else "http"
    print(f"kassa office web: {scheme}://{args.host}:{args.port}/", flush=True)
    ssl = {"ssl_certfile": tls[0], "ssl_keyfile": tls[1]} if tls else {}
    try:
        uvicorn.run(create_app(settings, idle_seconds=args.idle_minutes * 60, fill_margin=True),
                    host=args.host, port=args.port, log_level="warning", **ssl)
    finally:
        if worker:
            worker.stop()
        if summaries:
            summaries.stop()
    return 0


@audited("export", "kind", "period", "store", "format", "output")
def run_export(args: argparse.Namespace) -> int:
    from headoffice.exports.periods import PeriodError, parse_period
    from headoffice.exports.vat import vat_csv, vat_report
    from headoffice.exports.xaf import NO_Z, build_auditfile, validate_xaf

    settings = _settings(args)
    _open(args)
    try:
        period = parse_period(args.period)
    except PeriodError as exc:
        print(f"kassa office export: {exc}", file=sys.stderr)
        return 2
    if args.kind == "vat":
        data: bytes = vat_csv(vat_report(period, args.store)).encode()
    elif args.kind == "xaf":
        auditfile = build_auditfile([args.store] if args.store else None, period,
                                    settings.company, settings.accounts)
        data = auditfile.data
        for day in auditfile.left_out:  # booked once a Z closes them: say which are not yet
            why = "no Z close yet from" if day.reason == NO_Z else \
                "entries before the Z not all received from"
            print(f"kassa office export xaf: left out {day.day} of {day.store}: {why} "
                  f"{', '.join(day.terminals)}", file=sys.stderr)
        problems = validate_xaf(data)
        if problems:
            print("kassa office export xaf: the file does not validate against the XSD:\n  "
                  + "\n  ".join(problems[:20]), file=sys.stderr)
            return 1
    else:
        return _write_journal(args, period)
    if args.output:
        with open(args.output, "wb") as fh:
            fh.write(data)
        print(f"wrote {args.output} ({len(data)} bytes)", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
    return 0


def _write_journal(args: argparse.Namespace, period: Period) -> int:
    """The journal and its signed manifest: never one without the other."""
    from pathlib import Path

    from headoffice import signing
    from headoffice.exports.manifest import build_export

    if not args.output:
        print("kassa office export journal: give -o FILE (the signed manifest is written beside "
              "it as FILE.manifest.json, or with it in FILE when that ends in .zip)",
              file=sys.stderr)
        return 2
    try:
        key = signing.office_key(args.office_key)
    except (signing.OfficeKeyError, OSError) as exc:
        print(f"kassa office export journal: {exc}", file=sys.stderr)
        return 2
    out = Path(args.output)
    name = out.name[:-4] + "." + args.format if out.suffix == ".zip" else out.name
    export = build_export(period, args.format, args.store, key, name)
    if out.suffix == ".zip":
        out.write_bytes(export.zip_bytes())
        written = f"{out} ({export.name} and {export.manifest_name})"
    else:
        out.write_bytes(export.data)
        out.with_name(export.manifest_name).write_bytes(export.manifest)
        written = f"{out} ({len(export.data)} bytes) and {out.with_name(export.manifest_name)}"
    print(f"wrote {written}\nsigned by head office key {signing.fingerprint(signing.raw_public(key).hex())}",
          file=sys.stderr)
    return 0


def run_verify_export(args: argparse.Namespace) -> int:
    """Needs nothing but the export: no database is opened (office_db=False)."""
    from headoffice.exports.journal import ExportFormatError, parse_keys
    from headoffice.exports.manifest import load_export, verify_export

    try:
        loaded = load_export(args.file, args.manifest)
        proof = verify_export(loaded, parse_keys(args.public_key), args.office_key)
    except (ExportFormatError, OSError, KeyError, UnicodeDecodeError) as exc:
        print(f"kassa office verify-export: {exc}", file=sys.stderr)
        return 2
    result = proof.check
    if proof.office_fingerprint:
        print(f"manifest signed by head office key {proof.office_fingerprint}")
    for used in proof.keys:
        print(f"terminal {used.terminal} key {used.fingerprint} (from the {used.source})")
    for problem in result.problems[:50]:
        print(f"BAD {problem}")
    if len(result.problems) > 50:
        print(f"... and {len(result.problems) - 50} more")
    if result.ok:
        per = ", ".join(f"{t}: {n}" for t, n in sorted(result.terminals.items()))
        print(f"export OK: {result.entries} entries ({per}), chain, signatures, columns and "
              "completeness verified")
        return 0
    if not result.entries:
        print("export holds no entries")
    else:
        print(f"export BROKEN: {len(result.problems)} problem(s) in {result.entries} entries")
    return 1


def run_alerts(args: argparse.Namespace) -> int:
    import signal
    import threading

    from headoffice.alerts.delivery import AlertWorker
    from headoffice.web.daily_summary import SummaryWorker

    settings = _settings(args)
    worker = AlertWorker(_open(args), settings.alerts)
    summaries = SummaryWorker(settings.alerts)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    worker.start()
    summaries.start()
    stop.wait()
    worker.stop()
    summaries.stop()
    return 0


def run_aggregates(args: argparse.Namespace) -> int:
    from headoffice.aggregates import rebuild

    count = rebuild(_open(args))
    print(f"aggregates rebuilt from {count} journal entries")
    return 0
