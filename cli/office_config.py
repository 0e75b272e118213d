"""`kassa office push-config FILE`: head office's settings for every till, sealed."""

from __future__ import annotations

import argparse
import sys

from cli.audited import audited


def add_office_config(osub: argparse._SubParsersAction) -> None:
    parser = osub.add_parser("push-config", help="send a [ui]/[tax]/[cash] TOML file to every "
                             "till (fleet config, sealed with head office's key)")
    parser.add_argument("file", help="TOML with any of the ui, tax and cash sections")
    parser.add_argument("--mqtt-host", default="127.0.0.1")
    parser.add_argument("--mqtt-port", type=int, default=1883)
    parser.add_argument("--ca", default="", help="CA certificate of the broker (TLS)")
    parser.add_argument("--cert", default="", help="head office's client certificate (TLS)")
    parser.add_argument("--key", default="", help="its private key (TLS)")
    parser.set_defaults(handler=run_office_config)


@audited("config", "file")
def run_office_config(args: argparse.Namespace) -> int:
    from pathlib import Path

    from headoffice.broker import BrokerSettings, publisher
    from headoffice.config_push import ConfigPushError, check, push
    from headoffice.db import open_office_db
    from headoffice.signing import OfficeKeyError

    try:
        text = Path(args.file).read_text(encoding="utf-8")
        sections = check(text, args.file)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"kassa office push-config: {args.file}: {exc}", file=sys.stderr)
        return 1
    except ConfigPushError as exc:
        print(f"kassa office push-config: {exc}", file=sys.stderr)
        return 1
    open_office_db(args.db)
    broker = BrokerSettings(args.mqtt_host, args.mqtt_port, ca_file=args.ca,
                            cert_file=args.cert, key_file=args.key)
    try:
        with publisher(broker, "kassa-office-config") as send:
            version = push(send, text, args.file)
    except (OSError, TimeoutError, OfficeKeyError) as exc:
        print(f"kassa office push-config: not sent: {exc}", file=sys.stderr)
        return 1
    print(f"fleet config v{version} sent ({', '.join(sections)}); each till takes it in at"
          " once, window settings at its next start")
    return 0
