"""The audit trail from the command line: a `kassa` command that hands out a file or changes
something at head office leaves a row in head office's trail (headoffice/web/audit_trail.py)
with `cli:<operating-system user>` as actor and `local` as where from.

`@audited(action, *keys)` on a handler writes the row after the command succeeded (exit 0),
with the subcommand words, the named arguments (only those: an argument may be an e-mail
address, and the trail keeps everything forever) and whatever the handler put in
`args.audit_detail` (a customer's id found from a card or e-mail, say). Every handler under
`kassa office`, `customers`, `stock`, `webshop` and `offers` is either audited or listed as
read-only in tests/office/test_audit_cli.py, so a new command cannot slip past.
"""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Callable
from functools import wraps

AUDITED_ATTR = "__kassa_audited__"
Handler = Callable[[argparse.Namespace], int | None]


def actor() -> str:
    return f"cli:{getpass.getuser()}"


def record(action: str, detail: str) -> None:
    """One row: this operating-system user, on this machine."""
    from headoffice.web import audit_trail

    audit_trail.record(action, actor(), audit_trail.LOCAL, detail)


def _text(value: object) -> str:
    return ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def detail_of(args: argparse.Namespace, keys: tuple[str, ...]) -> str:
    words = [value for name, value in vars(args).items()
             if (name == "command" or name.endswith("_command")) and isinstance(value, str)]
    fields = [f"{key}={_text(getattr(args, key))}" for key in keys
              if getattr(args, key, None) not in (None, "", [], False)]
    extra = getattr(args, "audit_detail", "")
    return " ".join(["kassa", *words, *fields, *([extra] if extra else [])])[:2000]


def audited(action: str, *keys: str,
            when: Callable[[argparse.Namespace], bool] | None = None) -> Callable[[Handler], Handler]:
    """Records `action` after the handler succeeded (and `when(args)` holds, for a command that
    only sometimes writes a file)."""
    def wrap(handler: Handler) -> Handler:
        @wraps(handler)
        def run(args: argparse.Namespace) -> int | None:
            code = handler(args)
            if not code and (when is None or when(args)):
                record(action, detail_of(args, keys))
            return code
        setattr(run, AUDITED_ATTR, action)
        return run
    return wrap


def audited_of(handler: object) -> str | None:
    return getattr(handler, AUDITED_ATTR, None)
