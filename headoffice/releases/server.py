"""The release server: artifacts to terminals and their reports back, over mutual TLS.

Terminals connect with the client certificate the fleet CA gave them for MQTT (and the CRL
the broker uses), so only an enrolled, unrevoked terminal fetches a release, and its
certificate's common name is the terminal id its report is filed under. Only artifacts of
published releases are served, with HTTP Range so a cut download continues. A report that
passes a release's failure threshold halts that rollout at once (a new notice).
"""

from __future__ import annotations

import json
import logging
import re
import ssl
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import peewee

from headoffice.broker import Publish
from headoffice.models import RegisteredTerminal
from headoffice.releases import rollout
from headoffice.releases.models import Release

log = logging.getLogger(__name__)
MAX_REPORT = 16 * 1024
CHUNK = 256 * 1024
RANGE = re.compile(r"bytes=([0-9]+)-([0-9]*)")


@dataclass(frozen=True)
class ServerTls:
    cert_file: str  # head office's server certificate (issued by the fleet CA)
    key_file: str
    ca_file: str  # the fleet CA: terminals' client certificates
    crl_file: str = ""

    def context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.cert_file, self.key_file)
        ctx.load_verify_locations(self.ca_file)
        if self.crl_file:
            ctx.load_verify_locations(self.crl_file)
            ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
        ctx.verify_mode = ssl.CERT_REQUIRED
        return ctx


def client_terminal(cert: dict) -> str:
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return ""


class ReleaseServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], releases_dir: Path, tls: ServerTls,
                 db: peewee.Database,
                 publisher: Callable[[], AbstractContextManager[Publish]]) -> None:
        super().__init__(address, Handler)
        self.releases_dir, self.db, self.publisher = releases_dir, db, publisher
        self.socket = tls.context().wrap_socket(self.socket, server_side=True)
        self.halt_lock = threading.Lock()

    def halt(self, version: str) -> None:
        with self.halt_lock, self.publisher() as send:
            row = Release.get_or_none(Release.version == version)
            if row is not None and row.state == "active" and rollout.live_release() == version:
                rollout.set_state(version, "halted", send,
                                  why=f"{row.max_failures} terminal(s) failed")
                log.warning("rollout of %s halted: failure threshold reached", version)


class Handler(BaseHTTPRequestHandler):
    server: ReleaseServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.info("%s %s", self.address_string(), format % args)

    def _terminal(self) -> str | None:
        name = client_terminal(self.connection.getpeercert() or {})
        with self.server.db.connection_context():
            row = RegisteredTerminal.get_or_none(RegisteredTerminal.terminal_id == name)
        if row is None or row.status != "active":
            self._reply(403, b"not an active terminal\n")
            return None
        return name

    def _reply(self, code: int, body: bytes, ctype: str = "text/plain") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        if self._terminal() is None:
            return
        name = self.path.removeprefix("/releases/")
        with self.server.db.connection_context():
            known = Release.get_or_none(Release.artifact == name) is not None
        path = self.server.releases_dir / name
        if not self.path.startswith("/releases/") or not known or not path.is_file():
            self._reply(404, b"no such release\n")
            return
        size = path.stat().st_size
        start, end = 0, size - 1
        match = RANGE.fullmatch(self.headers.get("Range", ""))
        if match:
            start = int(match.group(1))
            end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
            if start >= size:
                self._reply(416, b"range not satisfiable\n")
                return
        self.send_response(206 if match else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(end - start + 1))
        if match:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        with open(path, "rb") as fh:
            fh.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = fh.read(min(CHUNK, left))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)

    def do_POST(self) -> None:  # noqa: N802
        terminal = self._terminal()
        if terminal is None:
            return
        if self.path != "/releases/report":
            self._reply(404, b"unknown\n")
            return
        length = int(self.headers.get("Content-Length", "0") or 0)
        if not 0 < length <= MAX_REPORT:
            self._reply(413, b"report too large\n")
            return
        try:
            report = json.loads(self.rfile.read(length))
            if not isinstance(report, dict) or report.get("terminal") != terminal:
                raise rollout.RolloutError("terminal", "the report names another terminal "
                                           "than the certificate")
            with self.server.db.connection_context():
                halt = rollout.record_report(terminal, report)
        except (ValueError, rollout.RolloutError) as exc:
            self._reply(400, f"{exc}\n".encode())
            return
        self._reply(200, b"{}", "application/json")
        if halt:
            try:
                with self.server.db.connection_context():
                    self.server.halt(halt)
            except Exception:
                log.exception("rollout of %s should halt; the notice was not sent", halt)
