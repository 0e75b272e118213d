"""`kassa journal verify|show|tail`: the auditor's view of the fiscal journal.

A database that cannot be read (a damaged page, a file cut short, not a database at all)
ends the command with one line naming the file and exit code 3, never a traceback; `show`
piped into `head` ends quietly when the reader stops.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from functools import wraps

UNREADABLE = 3

SHOW_LIMIT = 50


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("journal", help="verify or show the fiscal journal")
    jsub = parser.add_subparsers(dest="journal_command", required=True)
    verify = jsub.add_parser("verify", help="re-check the whole chain and every signature")
    verify.add_argument("--public-key", help="hex Ed25519 public key (default: the terminal's own)")
    verify.add_argument("--z-qr", action="append", default=[], metavar="CODE",
                        help="the QR code of a printed Z report (KASSA1|store|terminal|seq|hash),"
                        " checked against the journal; may be given more than once")
    verify.set_defaults(handler=run_verify)
    show = jsub.add_parser("show", help="print entries as JSON lines (the first 50 unless --all)")
    show.add_argument("--from", dest="first", type=int, default=1, help="first seq to show")
    count = show.add_mutually_exclusive_group()
    count.add_argument("--limit", type=int, default=SHOW_LIMIT,
                       help=f"at most this many entries (default {SHOW_LIMIT})")
    count.add_argument("--all", action="store_true", help="every entry from --from on")
    show.set_defaults(handler=run_show)


def _readable(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A damaged database file ends the command with one line naming it (exit code 3)."""

    @wraps(handler)
    def run(args: argparse.Namespace) -> int:
        import sqlite3

        import peewee

        from contract.config import load_config
        from firmware.integrity import JournalUnreadable

        try:
            return handler(args)
        except (peewee.DatabaseError, sqlite3.DatabaseError, JournalUnreadable) as exc:
            cause = exc.__cause__ if isinstance(exc, JournalUnreadable) and exc.__cause__ else exc
            path = load_config(args.config).database_path
            print(f"kassa journal: the journal database {path} cannot be read ({cause}): it is "
                  "damaged or was cut short; restore it from a backup", file=sys.stderr)
            return UNREADABLE

    return run


def _journal(args: argparse.Namespace):
    from cli.assemble import open_terminal
    from contract.config import load_config

    return open_terminal(load_config(args.config)).journal


@_readable
def run_verify(args: argparse.Namespace) -> int:
    """The whole chain and every signature, then every Z, the totals, the anchor, head
    office's ack and the printed Z codes given; exit code 1 names each problem."""
    from contract.keys import public_key_from_hex
    from firmware.integrity import audit

    journal = _journal(args)
    key = public_key_from_hex(args.public_key) if args.public_key else None
    result = journal.verify(key)
    print(result)
    report = audit(journal, tuple(args.z_qr))
    for line in report.sound:
        print(line)
    for problem in report.problems:
        print(f"PROBLEM ({problem.code}, entry {problem.bad_seq}): {problem.text}")
    return 0 if result.ok and not report.problems else 1


@_readable
def run_show(args: argparse.Namespace) -> int:
    """Prints the entries; a cut-off list says so on stderr, so no one takes it for the whole.
    A reader that stops early (`| head`) ends it quietly."""
    if args.limit < 1:
        print("kassa journal show: --limit must be at least 1", file=sys.stderr)
        return 2
    try:
        return _show(args)
    except BrokenPipeError:
        # The reader is gone: send what Python still wants to flush to /dev/null, quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 0


def _show(args: argparse.Namespace) -> int:
    journal = _journal(args)
    after = max(args.first, 1) - 1
    shown = 0
    for entry in journal.entries(after=after, limit=None if args.all else args.limit):
        print(json.dumps({"seq": entry.seq, "hash": entry.hash, "body": entry.body},
                         ensure_ascii=False))
        shown += 1
    total = journal.db.execute_sql("SELECT COUNT(*) FROM journal WHERE seq > ?",
                                   (after,)).fetchone()[0]
    sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
    if shown < total:
        print(f"{shown} of {total} entries shown; --all for every entry", file=sys.stderr)
    return 0
