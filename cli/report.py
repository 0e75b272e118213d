"""`kassa report x|z`: interim and day-close reports, and the rebuild of a Z from the journal.

    kassa report x --pin 1111                      interim report (journaled)
    kassa report z --pin 9999 --count 5000=2 ...   day close with the counted cash
    kassa report z --show 3                        print Z number 3 as stored
    kassa report z --rebuild 3                     recompute Z 3 from the journal and compare
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("report", help="X report, Z close and Z rebuild")
    rsub = parser.add_subparsers(dest="report_command", required=True)
    for name, text in (("x", "interim report of the open period (nothing is reset)"),
                       ("z", "close the day, or show / rebuild an earlier Z")):
        p = rsub.add_parser(name, help=text)
        p.add_argument("--pin", help="PIN of the cashier (X) or manager (Z close)")
        p.add_argument("--lang", choices=("nl", "en"), help="report language (default: config)")
        p.add_argument("--columns", type=int, choices=(32, 42, 48),
                       help="paper width in characters (default: config)")
        p.add_argument("--json", action="store_true", help="print the figures as JSON")
        p.set_defaults(handler=run_x if name == "x" else run_z)
    z = rsub.choices["z"]
    z.add_argument("--count", action="append", default=[], metavar="CENTS=PIECES",
                   help="counted cash per denomination, e.g. 5000=2 for two 50-euro notes;"
                   " repeat per denomination; --count 0 for an empty drawer")
    group = z.add_mutually_exclusive_group()
    group.add_argument("--show", type=int, metavar="N", help="print Z number N as stored")
    group.add_argument("--rebuild", type=int, metavar="N",
                       help="recompute Z number N from the journal alone and compare")


def parse_counts(items: list[str]) -> dict[int, int]:
    """['5000=2', '20=7'] -> {5000: 2, 20: 7}; ['0'] -> {} (empty drawer)."""
    counts: dict[int, int] = {}
    for item in items:
        if item.strip() == "0":
            continue
        cents, sep, pieces = item.partition("=")
        if not sep or not cents.strip().isdigit() or not pieces.strip().isdigit():
            raise ValueError(f"--count {item!r}: write CENTS=PIECES, e.g. 5000=2")
        counts[int(cents)] = counts.get(int(cents), 0) + int(pieces)
    return counts


def _print(args: argparse.Namespace, config, entry) -> None:
    from contract.receipt import build_document, render_text

    if args.json:
        print(json.dumps(entry.body["data"], indent=2, ensure_ascii=False))
        return
    document = build_document(entry.body, entry.hash, config.terminal,
                              args.columns or config.printer.columns, args.lang or config.ui.language)
    print(render_text(document), end="")


def _till(args: argparse.Namespace):
    from cli.assemble import build_till
    from contract.config import load_config

    till = build_till(load_config(args.config))
    if not args.pin:
        raise SystemExit("kassa report: give --pin (cashier for X, manager for Z)")
    till.login(args.pin)
    return till


def _run_report(args: argparse.Namespace, name: str, make: Callable[[Any], Any]) -> int:
    """Logs in, makes the report (`make(till)` commits it), logs out and prints it."""
    from firmware.errors import TillError

    try:
        till = _till(args)
        committed = make(till)
        till.logout()
    except TillError as exc:  # a refusal, ApprovalRequired included
        print(f"kassa report {name}: {exc}", file=sys.stderr)
        return 1
    _print(args, till.config, committed.entry)
    return 0


def run_x(args: argparse.Namespace) -> int:
    return _run_report(args, "x", lambda till: till.x_report())


def run_z(args: argparse.Namespace) -> int:
    if args.rebuild is not None or args.show is not None:
        return _show_or_rebuild(args)
    try:
        counts = parse_counts(args.count)
    except ValueError as exc:
        print(f"kassa report z: {exc}", file=sys.stderr)
        return 2
    if not args.count:
        print("kassa report z: give the counted cash, e.g. --count 5000=2 --count 200=3 "
              "(or --count 0 for an empty drawer)", file=sys.stderr)
        return 2
    return _run_report(args, "z", lambda till: till.z_close(counts))


def _show_or_rebuild(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from cli.assemble import open_terminal
    from contract.config import load_config
    from firmware import reports

    config = load_config(args.config)
    journal = open_terminal(config).journal
    try:
        if args.show is not None:
            _print(args, config, reports.find_z(journal, args.show))
            return 0
        result = reports.rebuild_z(journal, args.rebuild)
    except reports.ReportError as exc:
        print(f"kassa report z: {exc}", file=sys.stderr)
        return 1
    stored = journal.get(result.seq)
    rebuilt = replace(stored, body={**stored.body, "data": result.rebuilt})
    _print(args, config, rebuilt)
    if result.ok:
        print(f"Z {result.z_number} (entry {result.seq}) rebuilt from the journal: "
              "the same figures as the Z entry")
        return 0
    print(f"Z {result.z_number} (entry {result.seq}) DOES NOT MATCH the journal:", file=sys.stderr)
    for line in result.differences:
        print(f"  {line}", file=sys.stderr)
    return 1
