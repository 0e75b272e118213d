"""One ingest worker as a process of its own: `python -m headoffice.ingest.worker_main ...`.

The supervisor (headoffice/ingest/supervisor.py) starts its workers through this entry, so
head office runs its workers without the command line; `kassa office ingest` builds the
`WorkerSpec`s and, for a single worker, runs it in its own process with `run`.
"""

from __future__ import annotations

import argparse
import logging
import signal
import ssl
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from headoffice.broker import BrokerSettings
from headoffice.db import open_office_db
from headoffice.ingest.worker import IngestWorker

LOG_FORMAT = "%(asctime)s %(name)s[%(process)d] %(levelname)s %(message)s"
CONFIG_ERROR = 2  # exit status of a worker that cannot start as configured: do not restart it


class TlsFileError(Exception):
    """A TLS file given to the ingest that cannot be used: the option, the file and why."""

    def __init__(self, option: str, path: str, reason: str) -> None:
        super().__init__(f"{option} {path}: {reason}")
        self.option, self.path, self.reason = option, path, reason


def check_tls_files(broker: BrokerSettings) -> None:
    """Raises TlsFileError for a CA, certificate or key file that is missing, unreadable or
    not what it should be, before any worker starts: paho would fail later, deep in a
    worker, with a traceback that does not say which option was wrong."""
    given = [(option, path) for option, path in (("--ca", broker.ca_file),
                                                  ("--cert", broker.cert_file),
                                                  ("--key", broker.key_file)) if path]
    for option, path in given:
        file = Path(path)
        if not file.exists():
            raise TlsFileError(option, path, "no such file")
        if not file.is_file():
            raise TlsFileError(option, path, "not a file")
        try:
            file.open("rb").close()
        except OSError as exc:
            raise TlsFileError(option, path, f"cannot be read ({exc.strerror})") from None
    if broker.key_file and not broker.cert_file:
        raise TlsFileError("--key", broker.key_file, "given without --cert")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if broker.ca_file:
        try:
            context.load_verify_locations(cafile=broker.ca_file)
        except ssl.SSLError:
            raise TlsFileError("--ca", broker.ca_file, "holds no PEM CA certificate") from None
    if broker.cert_file:
        try:
            context.load_cert_chain(broker.cert_file, broker.key_file or None)
        except ssl.SSLError:
            raise TlsFileError("--cert", broker.cert_file, "certificate and key do not load "
                               "as a PEM pair (wrong file, or --key missing or not matching)"
                               ) from None


@dataclass(frozen=True)
class WorkerSpec:
    """Everything one worker needs: its database, its broker and its client id."""

    db_url: str | None
    broker: BrokerSettings
    client_id: str
    batch_max: int = 1000
    verbose: bool = False

    def to_args(self) -> list[str]:
        """The command line of `main` that rebuilds this spec in a new process."""
        out = ["--client-id", self.client_id, "--batch", str(self.batch_max),
               "--mqtt-host", self.broker.host, "--mqtt-port", str(self.broker.port)]
        if self.db_url:
            out += ["--db", self.db_url]
        for flag, value in (("--ca", self.broker.ca_file), ("--cert", self.broker.cert_file),
                            ("--key", self.broker.key_file)):
            if value:
                out += [flag, value]
        if self.verbose:
            out.append("-v")
        return out


def parse_args(argv: list[str]) -> WorkerSpec:
    parser = argparse.ArgumentParser(prog="python -m headoffice.ingest.worker_main",
                                     description="one head-office ingest worker")
    parser.add_argument("--db", default=None)
    parser.add_argument("--mqtt-host", default="127.0.0.1")
    parser.add_argument("--mqtt-port", type=int, default=1883)
    parser.add_argument("--ca", default="")
    parser.add_argument("--cert", default="")
    parser.add_argument("--key", default="")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    broker = BrokerSettings(args.mqtt_host, args.mqtt_port, args.ca, args.cert, args.key)
    return WorkerSpec(args.db, broker, args.client_id, args.batch, args.verbose)


def run(spec: WorkerSpec, stop: threading.Event) -> None:
    """Opens the database and runs the worker until `stop` is set."""
    db = open_office_db(spec.db_url)
    IngestWorker(db, spec.broker, spec.client_id, batch_max=spec.batch_max).run(stop)


def main(argv: list[str] | None = None) -> int:
    spec = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        check_tls_files(spec.broker)
    except TlsFileError as exc:
        print(f"ingest worker {spec.client_id}: {exc}", file=sys.stderr)
        return CONFIG_ERROR
    logging.basicConfig(level=logging.INFO if spec.verbose else logging.WARNING,
                        format=LOG_FORMAT)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    run(spec, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
