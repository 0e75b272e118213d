"""`kassa uplink`: the MQTT link to head office (journal up, catalogue/prices/config down)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("uplink", help="send the journal to head office, apply its updates")
    parser.add_argument("--until-drained", action="store_true",
                        help="exit once head office has confirmed every journal entry")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every connection step")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import logging
    import signal
    import sys
    import threading

    from contract.config import load_config
    from firmware.db import open_database
    from firmware.uplink.client import Uplink, drained
    from firmware.uplink.connection import IdentityMismatch

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = load_config(args.config)
    if not config.mqtt.enabled:
        print(f"kassa uplink: MQTT is disabled in {config.source} ([mqtt] enabled = false)",
              file=sys.stderr)
        return 2
    db = open_database(config.database_path)
    try:
        uplink = Uplink(db, config.terminal.store, config.terminal.terminal, config.mqtt)
    except IdentityMismatch as exc:
        print(f"kassa uplink: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    uplink.run(stop, until=drained if args.until_drained else None)
    print(f"uplink stopped: acked={uplink.acked} backlog={uplink.backlog()}"
          f" published={uplink.counters.published} refused={uplink.counters.refused}")
    return 0
