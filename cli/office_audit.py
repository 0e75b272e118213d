"""`kassa office audit show|verify|export`: head office's audit trail from the command line.

`verify` re-computes the hash chain and names the first row that no longer fits (exit 1), so
a cron job or the owner can check that nobody changed or removed a row with SQL. `export`
writes the trail as CSV with each row's hash; handing it out is itself audited.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from cli.audited import audited


def add_office_audit(osub: argparse._SubParsersAction) -> None:
    parser = osub.add_parser("audit", help="head office's audit trail: show, verify, export")
    asub = parser.add_subparsers(dest="audit_command", required=True)
    show = asub.add_parser("show", help="the newest rows (oldest of them first)")
    export = asub.add_parser("export", help="the trail as CSV with each row's hash")
    for sub in (show, export):
        sub.add_argument("--since", type=_date, help="rows from this day on (YYYY-MM-DD)")
        sub.add_argument("--action", default="",
                         help="one action (login, export, user_role, ...) or a prefix: user_*")
    show.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    show.set_defaults(handler=run_show)
    export.add_argument("-o", "--output", required=True, help="the CSV file to write")
    export.set_defaults(handler=run_export)
    verify = asub.add_parser("verify", help="re-check the hash chain; exit 1 at a broken row")
    verify.set_defaults(handler=run_verify)


def _date(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def _open(args: argparse.Namespace) -> None:
    from headoffice.db import open_office_db

    open_office_db(args.db)


def run_show(args: argparse.Namespace) -> int:
    from cli.text_table import table
    from headoffice.web import audit_trail

    _open(args)
    rows = list(reversed(audit_trail.recent(args.limit, args.action, args.since or "")))
    cells = [(str(r.id), r.at, r.actor, r.address, r.action, r.detail) for r in rows]
    for line in table(("id", "at", "who", "from", "action", "detail"), cells, right={"id"}):
        print(line)
    print(f"{len(rows)} row(s)")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from headoffice.web import audit_trail

    _open(args)
    checked, broken = audit_trail.verify()
    if broken is None:
        print(f"audit trail: {checked} row(s), the hash chain holds")
        return 0
    print(f"audit trail: the hash chain is broken at row id {broken} (row {checked} in order): "
          "it was changed, or a row before it was removed", file=sys.stderr)
    return 1


@audited("audit_export", "since", "action", "output")
def run_export(args: argparse.Namespace) -> int:
    from headoffice.web import audit_trail

    _open(args)
    rows = list(reversed(audit_trail.recent(None, args.action, args.since or "")))
    with open(args.output, "w", encoding="utf-8", newline="") as fh:
        fh.write(audit_trail.as_csv(rows))
    print(f"wrote {args.output} ({len(rows)} row(s))", file=sys.stderr)
    return 0
