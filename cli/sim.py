"""`kassa sim`: a scripted shop day on simulated hardware, printing each committed seq."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("sim", help="run a scripted shop day on the till service (no UI)")
    parser.add_argument("--sales", type=int, default=100, help="number of sales (default 100)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the day")
    parser.add_argument("--products", type=int, default=200, help="catalogue size if empty")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from cli.assemble import build_till
    from contract.config import load_config
    from firmware.errors import StorageError
    from firmware.integrity import JournalUnreadable
    from firmware.sim import ensure_demo_data, run_day, summary

    config = load_config(args.config)

    try:
        till = build_till(config)
    except JournalUnreadable as exc:
        print(f"kassa sim: {exc}", file=sys.stderr)
        return 3
    if till.journal_alarm:
        print(f"kassa sim: {till.journal_alarm} Selling is blocked until a manager "
              "acknowledges it.", file=sys.stderr)
        return 3
    ensure_demo_data(till, args.products, args.seed)

    def out(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    try:
        stats = run_day(till, args.sales, args.seed, out)
    except StorageError as exc:
        print(f"kassa sim: {exc}", file=sys.stderr)
        return 1
    print(summary(stats))
    result = till.journal.verify()
    print(result)
    return 0 if result.ok else 1
