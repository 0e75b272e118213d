"""`kassa journal verify|show|tail`: the auditor's view of the fiscal journal."""

from __future__ import annotations

import argparse
import json
import sys

SHOW_LIMIT = 50


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("journal", help="verify or show the fiscal journal")
    jsub = parser.add_subparsers(dest="journal_command", required=True)
    verify = jsub.add_parser("verify", help="re-check the whole chain and every signature")
    verify.add_argument("--public-key", help="hex Ed25519 public key (default: the terminal's own)")
    verify.set_defaults(handler=run_verify)
    show = jsub.add_parser("show", help="print entries as JSON lines (the first 50 unless --all)")
    show.add_argument("--from", dest="first", type=int, default=1, help="first seq to show")
    count = show.add_mutually_exclusive_group()
    count.add_argument("--limit", type=int, default=SHOW_LIMIT,
                       help=f"at most this many entries (default {SHOW_LIMIT})")
    count.add_argument("--all", action="store_true", help="every entry from --from on")
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
    """Prints the entries; a cut-off list says so on stderr, so no one takes it for the whole."""
    if args.limit < 1:
        print("kassa journal show: --limit must be at least 1", file=sys.stderr)
        return 2
    journal = _journal(args)
    after = max(args.first, 1) - 1
    shown = 0
    for entry in journal.entries(after=after, limit=None if args.all else args.limit):
        print(json.dumps({"seq": entry.seq, "hash": entry.hash, "body": entry.body},
                         ensure_ascii=False))
        shown += 1
    total = journal.db.execute_sql("SELECT COUNT(*) FROM journal WHERE seq > ?",
                                   (after,)).fetchone()[0]
    if shown < total:
        print(f"{shown} of {total} entries shown; --all for every entry", file=sys.stderr)
    return 0
