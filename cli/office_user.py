"""`kassa office user add|list|role|remove|unlock|password|totp|sessions`: dashboard users.

Every change is written to head office's audit trail with the operating-system user as actor
(cli/audited.py).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from cli.audited import audited

ROLES = ("owner", "manager", "accountant", "fleet")


SHOP_HELP = "a manager's shop (repeat for more)"


def add_office_user(osub: argparse._SubParsersAction) -> None:
    user = osub.add_parser("user", help="dashboard users, roles, lockouts")
    usub = user.add_subparsers(dest="user_command", required=True)
    add = usub.add_parser("add", help="add a user (password from --password-stdin or a prompt)")
    for flag, options in (("name", {}), ("--role", {"choices": ROLES, "default": "owner"}),
                          ("--shop", {"action": "append", "default": [], "help": SHOP_HELP}),
                          ("--password-stdin", {"action": "store_true"})):
        add.add_argument(flag, **options)
    add.add_argument("--replace", action="store_true",
                     help="set a new password (and role) for an existing user; ends their sessions")
    add.set_defaults(handler=run_user_add)
    usub.add_parser("list", help="users, roles, shops, lockouts").set_defaults(handler=run_list)
    simple = {  # command: (help, handler, extra positional arguments with their choices)
        "role": ("change a user's role (ends their sessions)", run_role, {"role": ROLES}),
        "remove": ("remove a user; every session of theirs ends", run_remove, {}),
        "unlock": ("lift a login lockout", run_unlock, {}),
        "totp": ("turn the second factor (TOTP) on or off", run_totp, {"state": ("on", "off")}),
    }
    for command, (text, handler, extra) in simple.items():
        parser = usub.add_parser(command, help=text)
        parser.add_argument("name")
        for argument, choices in extra.items():
            parser.add_argument(argument, choices=choices)
        if command == "role":
            parser.add_argument("--shop", action="append", default=[], help=SHOP_HELP)
        parser.set_defaults(handler=handler)


def _open(args: argparse.Namespace) -> None:
    from headoffice.db import open_office_db

    open_office_db(args.db)


def _fail(command: str, exc: Exception) -> int:
    print(f"kassa office user {command}: {exc}", file=sys.stderr)
    return 1


@audited("user_add", "name", "role", "shop", "replace")
def run_user_add(args: argparse.Namespace) -> int:
    from headoffice.web.roles import Role
    from headoffice.web.users import UserError, add_user

    _open(args)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            print("kassa office user add: the passwords differ", file=sys.stderr)
            return 1
    try:
        add_user(args.name, password, replace=args.replace, role=Role(args.role), shops=args.shop)
    except UserError as exc:
        return _fail("add", exc)
    print(f"user {args.name} {'updated' if args.replace else 'added'} ({args.role})")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from headoffice.web import throttle
    from headoffice.web.users import list_users

    _open(args)
    locked = throttle.locked_users()
    for info in list_users():
        print(f"{info.name}\t{info.role.value}\t{','.join(info.shops) or 'all shops'}\t"
              f"{'totp' if info.totp else '-'}\t{'LOCKED' if info.name in locked else 'active'}")
    return 0


def _change(command: str, change, done: str) -> int:
    """Runs a user change; a refusal is printed, a change confirmed (and audited)."""
    from headoffice.web.users import UserError

    try:
        change()
    except UserError as exc:
        return _fail(command, exc)
    print(done)
    return 0


@audited("user_role", "name", "role", "shop")
def run_role(args: argparse.Namespace) -> int:
    from headoffice.web.roles import Role
    from headoffice.web.users import set_role

    _open(args)
    return _change("role", lambda: set_role(args.name, Role(args.role), args.shop),
                   f"user {args.name} is now {args.role}; their sessions have ended")


@audited("user_remove", "name")
def run_remove(args: argparse.Namespace) -> int:
    from headoffice.web.users import remove_user

    _open(args)
    return _change("remove", lambda: remove_user(args.name),
                   f"user {args.name} removed; their sessions have ended")


@audited("user_unlock", "name")
def run_unlock(args: argparse.Namespace) -> int:
    from headoffice.web import throttle

    _open(args)
    had = throttle.unlock(args.name)
    print(f"user {args.name} unlocked" if had else f"user {args.name} was not locked")
    return 0


@audited("user_totp", "name", "state")
def run_totp(args: argparse.Namespace) -> int:
    import pyotp

    from headoffice.web.users import UserError, set_totp

    _open(args)
    secret = pyotp.random_base32() if args.state == "on" else ""
    try:
        set_totp(args.name, secret)
    except UserError as exc:
        return _fail("totp", exc)
    if secret:
        uri = pyotp.TOTP(secret).provisioning_uri(name=args.name, issuer_name="Kassa hoofdkantoor")
        print(f"second factor on for {args.name}\nsecret: {secret}\nauthenticator URI: {uri}")
    else:
        print(f"second factor off for {args.name}")
    return 0
