"""`kassa update`: the terminal's updater (updater/), its own process and systemd unit.

    kassa update                run: act on head office's release notices (the unit)
    kassa update status         what the updater is doing, and the last outcome
    kassa update supervise      run the till and uplink like systemd would (tests, laptops)
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("update", help="the terminal's updater: signed releases, health "
                            "check, rollback")
    parser.add_argument("--supervisor", default="",
                        help="control directory of `kassa update supervise` (default: systemd)")
    parser.add_argument("--installer", default="",
                        help="module:factory(root, release_key) giving the Installer "
                        "(default: provisioning.release)")
    parser.add_argument("-v", "--verbose", action="store_true")
    usub = parser.add_subparsers(dest="update_command", metavar="UPDATE_COMMAND")
    usub.add_parser("status", help="the updater's state and its last outcome")
    sup = usub.add_parser("supervise", help="run till and uplink from releases/current, "
                          "restarted on exit and on the updater's request (no systemd)")
    sup.add_argument("--control", required=True, help="control directory")
    sup.add_argument("--uplink-args", default="uplink", help="the uplink's arguments")
    parser.set_defaults(handler=run)


def build_updater(args: argparse.Namespace):
    from contract.config import load_config
    from updater.engine import Updater
    from updater.fetch import Tls
    from updater.notice import load_office_key
    from updater.services import SupervisorServices, SystemdServices
    from updater.slots import ReleaseInstaller
    from updater.state import StateFile
    from updater.tillfacts import TillFacts

    config = load_config(args.config)
    cfg = config.update
    if not cfg.enabled:
        raise SystemExit("kassa update: [update] enabled = false in the config; nothing to do")
    root = Path(cfg.root)
    if args.installer:
        module, _, name = args.installer.partition(":")
        installer = getattr(importlib.import_module(module), name)(root, Path(cfg.release_key))
    else:
        installer = ReleaseInstaller(root, Path(cfg.release_key))
    services = (SupervisorServices(Path(args.supervisor)) if args.supervisor
                else SystemdServices())
    mqtt = config.mqtt
    return Updater(config.terminal.terminal, cfg, root, StateFile(config.update_state_dir),
                   installer, services, TillFacts(config.database_path),
                   load_office_key(Path(cfg.office_key)),
                   Tls(cfg.ca_file or mqtt.ca_file, cfg.cert_file or mqtt.cert_file,
                       cfg.key_file or mqtt.key_file))


def run(args: argparse.Namespace) -> int:
    import logging
    import signal
    import threading

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.update_command == "supervise":
        return supervise(args)
    if args.update_command == "status":
        from contract.config import load_config
        from updater.state import StateFile

        config = load_config(args.config)
        state = StateFile(config.update_state_dir).load()
        print(json.dumps(state.__dict__, indent=2, sort_keys=True))
        return 0
    from updater.notice import OfficeKeyFileError
    from updater.state import StateError

    try:
        updater = build_updater(args)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        updater.run(stop.is_set, exit_on_commit=not args.supervisor)
    except (OfficeKeyFileError, StateError) as exc:
        print(f"kassa update: {exc}", file=sys.stderr)
        return 2
    return 0


def supervise(args: argparse.Namespace) -> int:
    from contract.config import load_config
    from updater.supervisor import Supervisor

    config = load_config(args.config)
    if not args.config:
        raise SystemExit("kassa update supervise: --config is required (the till and uplink "
                         "get the same file)")
    Supervisor(Path(config.update.root), Path(args.control), str(Path(args.config).resolve()),
               uplink_args=tuple(args.uplink_args.split())).run()
    return 0
