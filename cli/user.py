"""`kassa user add|list`: cashiers and managers of this terminal."""

from __future__ import annotations

import argparse
import getpass
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("user", help="add or list cashiers and managers")
    usub = parser.add_subparsers(dest="user_command", required=True)
    add = usub.add_parser("add", help="add a user; the PIN is asked for unless --pin-stdin")
    add.add_argument("name")
    add.add_argument("--role", choices=("cashier", "manager"), default="cashier")
    add.add_argument("--pin-stdin", action="store_true", help="read the PIN from standard input")
    add.set_defaults(handler=run_add)
    lst = usub.add_parser("list", help="list users")
    lst.set_defaults(handler=run_list)


def _users(args: argparse.Namespace):
    from contract.config import load_config
    from firmware.db import open_database
    from firmware.users import Users

    config = load_config(args.config)
    open_database(config.database_path)
    return Users(config.terminal.pin_attempts, config.terminal.lockout_seconds)


def run_add(args: argparse.Namespace) -> int:
    users = _users(args)
    pin = sys.stdin.readline().strip() if args.pin_stdin else getpass.getpass("PIN: ")
    try:
        user = users.add(args.name, args.role, pin)
    except ValueError as exc:
        print(f"kassa user add: {exc}", file=sys.stderr)
        return 1
    print(f"added {user.role} {user.name}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    for user in _users(args).all():
        print(f"{user.name}\t{user.role}")
    return 0
