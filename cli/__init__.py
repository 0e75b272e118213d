"""`kassa`: one entry point, a subcommand per job. Heavy imports happen inside each handler.

This package is the composition root: only here are config, drivers, till and UI wired.
Each subcommand lives in its own module exposing `add_parser(subparsers)`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = (
    "sim", "journal", "report", "catalogue", "user", "till", "uplink", "office", "provision",
    "doctor", "customers", "stock", "offers", "webshop", "update", "release",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kassa", description="Kassa till, fleet and head office")
    parser.add_argument("--config", help="config file (default: $KASSA_CONFIG, /etc/kassa/kassa.toml,"
                        " else the embedded dev defaults under var/)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"cli.{name}":
                raise
            continue
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from contract.config import ConfigError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.handler(args)
    except ConfigError as exc:
        print(f"kassa: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from firmware.db import DatabaseBusy

        if not isinstance(exc, DatabaseBusy):
            raise
        print(f"kassa: {exc}", file=sys.stderr)  # busy, not damaged: a restart will do
        return 75  # EX_TEMPFAIL
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
