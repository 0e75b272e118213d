"""`kassa journal verify|show|tail`: the auditor's view of the fiscal journal."""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("journal", help="verify or show the fiscal journal")
    jsub = parser.add_subparsers(dest="journal_command", required=True)
    verify = jsub.add_parser("verify", help="re-check the whole chain and every signature")
    verify.add_argument("--public-key", help="hex Ed25519 public key (default: the terminal's own)")
    verify.set_defaults(handler=run_verify)
    show = jsub.add_parser("show", help="print entries as JSON lines")
    show.add_argument("--from", dest="first", type=int, default=1)
    show.add_argument("--limit", type=int, default=50)
    show.set_defaults(handler=run_show)


def _journal(args: argparse.Namespace):
    from cli.assemble import open_terminal
    from contract.config import load_config

    return open_terminal(load_config(args.config)).journal


def run_verify(args: argparse.Namespace) -> int:
    from contract.keys import public_key_from_hex

    journal = _journal(args)
    key = public_key_from_hex(args.public_key) if args.public_key else None
    result = journal.verify(key)
    print(result)
    return 0 if result.ok else 1


def run_show(args: argparse.Namespace) -> int:
    journal = _journal(args)
    for entry in journal.entries(after=args.first - 1, limit=args.limit):
        print(json.dumps({"seq": entry.seq, "hash": entry.hash, "body": entry.body},
                         ensure_ascii=False))
    return 0
