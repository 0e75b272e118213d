"""`kassa office public-key`: head office's public key, for the fleet to pin in every bundle."""

from __future__ import annotations

import argparse
import sys


def add_office_key(osub: argparse._SubParsersAction) -> None:
    parser = osub.add_parser("public-key", help="print or write head office's public key (PEM)"
                             " that terminals pin to check downstream seals")
    parser.add_argument("--key", help="head office's signing key file (default $KASSA_OFFICE_KEY,"
                        " else var/office_ed25519.pem; made on first use)")
    parser.add_argument("--out", help="write the PEM to this file (default: print it)")
    parser.set_defaults(handler=run_office_key)


def run_office_key(args: argparse.Namespace) -> int:
    from pathlib import Path

    from contract.keys import public_key_pem
    from headoffice.signing import OfficeKeyError, fingerprint, office_key, raw_public

    try:
        key = office_key(args.key)
    except (OfficeKeyError, OSError) as exc:
        print(f"kassa office public-key: {exc}", file=sys.stderr)
        return 1
    pem = public_key_pem(key)
    if args.out:
        Path(args.out).write_bytes(pem)
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(pem.decode())
    print(f"fingerprint {fingerprint(raw_public(key).hex())}", file=sys.stderr)
    return 0
