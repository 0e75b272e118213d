"""`kassa office release ...`: over-the-air rollouts (headoffice/releases/).

    publish VERSION --artifact FILE --ring pilot|stores|all [--percent N] [--force]
    pause|resume|halt|rollback VERSION
    ring TERMINAL pilot|stores
    status [VERSION]
    serve --cert --key --ca [--crl]     the artifact server terminals fetch from (mutual TLS)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli.audited import audited

DEFAULT_RELEASES = Path("var") / "releases"


def _broker_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mqtt-host", default="127.0.0.1")
    parser.add_argument("--mqtt-port", type=int, default=1883)
    parser.add_argument("--mqtt-ca", default="", help="CA file: connect with TLS")
    parser.add_argument("--mqtt-cert", default="", help="head office's client certificate")
    parser.add_argument("--mqtt-key", default="", help="its key")


def add_office_release(osub: argparse._SubParsersAction) -> None:
    parser = osub.add_parser("release", help="roll a release out to the terminals (OTA)")
    parser.add_argument("--releases-dir", default=str(DEFAULT_RELEASES),
                        help="where head office keeps published artifacts")
    rsub = parser.add_subparsers(dest="release_command", required=True, metavar="RELEASE_COMMAND")
    pub = rsub.add_parser("publish", help="publish VERSION to a ring (a sealed notice)")
    pub.add_argument("version")
    pub.add_argument("--artifact", required=True, help="the signed release artifact")
    pub.add_argument("--ring", required=True, choices=("pilot", "stores", "all"))
    pub.add_argument("--percent", type=int, default=100, help="of the ring (default 100)")
    pub.add_argument("--max-failures", type=int, default=1,
                     help="failed terminals that halt the rollout (default 1)")
    pub.add_argument("--force", action="store_true",
                     help="allow terminals to install it over a newer release (journaled)")
    _broker_args(pub)
    for name, text in (("pause", "no terminal starts the update until resume"),
                       ("resume", "carry on a paused or halted rollout"),
                       ("halt", "stop the rollout (as the failure threshold does)"),
                       ("rollback", "send the rollout's terminals back to the release before")):
        cmd = rsub.add_parser(name, help=text)
        cmd.add_argument("version")
        _broker_args(cmd)
    ring = rsub.add_parser("ring", help="put a terminal in the pilot or stores ring")
    ring.add_argument("terminal")
    ring.add_argument("ring", choices=("pilot", "stores"))
    status = rsub.add_parser("status", help="each rollout's progress and each terminal's version")
    status.add_argument("version", nargs="?")
    serve = rsub.add_parser("serve", help="serve artifacts and take reports (mutual TLS)")
    serve.add_argument("--bind", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=8443)
    serve.add_argument("--cert", required=True, help="server certificate (from the fleet CA)")
    serve.add_argument("--key", required=True)
    serve.add_argument("--ca", required=True, help="the fleet CA (terminals' certificates)")
    serve.add_argument("--crl", default="", help="the fleet CRL")
    _broker_args(serve)
    parser.set_defaults(handler=run_release)


def _publisher(args: argparse.Namespace):
    import os

    from headoffice.broker import BrokerSettings, publisher

    broker = BrokerSettings(args.mqtt_host, args.mqtt_port, args.mqtt_ca, args.mqtt_cert,
                            args.mqtt_key)
    return publisher(broker, f"kassa-release-{os.getpid()}")


@audited("release", "version", "ring", "terminal", "percent", "force",
         when=lambda args: args.release_command not in ("status", "serve"))
def run_release(args: argparse.Namespace) -> int:
    from headoffice.db import open_office_db
    from headoffice.releases import rollout

    db = open_office_db(args.db)
    releases_dir = Path(args.releases_dir)
    command = args.release_command
    try:
        if command == "ring":
            rollout.set_ring(args.terminal, args.ring)
            print(f"{args.terminal}: ring {args.ring}")
            return 0
        if command == "status":
            for line in rollout.progress(args.version):
                print(line.line())
            for terminal, (version, step, release) in sorted(rollout.terminal_versions().items()):
                print(f"  {terminal}: {version or '?'}{f' ({step} {release})' if step else ''}")
            return 0
        if command == "serve":
            return _serve(args, db, releases_dir)
        with _publisher(args) as send:
            if command == "publish":
                done = rollout.publish(args.version, Path(args.artifact), releases_dir, args.ring,
                                       args.percent, send, force=args.force,
                                       max_failures=args.max_failures)
            elif command == "rollback":
                done = rollout.rollback(args.version, send)
            else:
                state = {"pause": "paused", "resume": "active", "halt": "halted"}[command]
                done = rollout.set_state(args.version, state, send, why="by an admin")
        targets = ", ".join(done.targets)
        print(f"notice {done.notice.version}: {done.release} {done.notice.state} "
              f"({done.notice.reason}) for {targets}")
        return 0
    except rollout.RolloutError as exc:
        print(f"kassa office release: {exc}", file=sys.stderr)
        return 2
    except (OSError, TimeoutError) as exc:
        print(f"kassa office release: the broker did not take the notice: {exc}", file=sys.stderr)
        return 1


def _serve(args: argparse.Namespace, db, releases_dir: Path) -> int:
    import logging
    import signal
    import threading

    from headoffice.releases.server import ReleaseServer, ServerTls

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server = ReleaseServer((args.bind, args.port), releases_dir,
                           ServerTls(args.cert, args.key, args.ca, args.crl), db,
                           lambda: _publisher(args))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"release server on https://{args.bind}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0
