"""A fleet for the update tests and the benchmark: a real Mosquitto, head office (database,
release server over mutual TLS, sealed notices) and terminals, each run as on a Pi: a
supervisor in systemd's place running the till (headless) and the uplink from the slot that
`current` names, and `kassa update` beside them."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contract.keys import public_key_hex
from headoffice.broker import BrokerSettings, publisher
from headoffice.db import open_office_db
from headoffice.registry import add_terminal
from headoffice.releases import rollout
from headoffice.releases.server import ReleaseServer, ServerTls
from provisioning.ca import cert_pem, create_ca, issue, key_pem
from tests.update.slot_installer import SlotInstaller, build_artifact
from updater.slots import link_version, point_link, slot_link

REPO = Path(__file__).resolve().parents[2]
INSTALLER = "tests.update.slot_installer:SlotInstaller"


def wait_for(check: Callable[[], object], timeout: float, what: str, step: float = 0.1) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _raw_hex(key: Ed25519PrivateKey) -> str:
    return public_key_hex(key)


@dataclass
class Terminal:
    name: str
    root: Path
    config: Path
    opt: Path  # the update root: releases/<version>/, current, previous, committed
    control: Path
    db: Path
    state_dir: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, what: str) -> None:
        log = open(self.root / f"{what}.log", "ab")  # noqa: SIM115
        if what == "supervisor":
            argv = ["update", "supervise", "--control", str(self.control)]
        else:
            argv = ["update", "-v", "--supervisor", str(self.control), "--installer", INSTALLER]
        self.procs[what] = subprocess.Popen([sys.executable, "-m", "cli", "--config",
                                             str(self.config), *argv], cwd=REPO, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def kill(self, what: str) -> None:
        """kill -9: of `updater` or `supervisor` (our processes) or `till`/`uplink` (the
        supervisor's children, by the pid it recorded last)."""
        if what in self.procs:
            proc = self.procs.pop(what)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
            return
        pid = self.child_pid(what)
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def child_pid(self, service: str) -> int | None:
        pid = None
        for event in self.events():
            if event.get("service") == service and event["event"] == "start":
                pid = event.get("pid")
        return pid

    def events(self) -> list[dict]:
        path = self.control / "events.log"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def stop(self) -> None:
        for what in list(self.procs):
            proc = self.procs.pop(what)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)

    def state(self) -> dict:
        path = self.state_dir / "state.json"
        return json.loads(path.read_text()) if path.exists() else {"phase": "idle", "last": {}}

    def current(self) -> str | None:
        return link_version(self.opt / "current")

    def ready(self) -> bool:
        try:
            ready = json.loads((self.control / "till.ready").read_text())
        except (OSError, ValueError):
            return False
        return bool(ready.get("running"))

    def journal_verify(self) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cli", "--config", str(self.config),
                               "journal", "verify"], cwd=REPO, capture_output=True, text=True,
                              timeout=120)

    def journal_updates(self) -> list[dict]:
        import sqlite3

        conn = sqlite3.connect(self.db)
        try:
            rows = conn.execute("SELECT body FROM journal WHERE type = 'software_update' "
                                "ORDER BY seq").fetchall()
        finally:
            conn.close()
        return [json.loads(body)["data"] for (body,) in rows]


class UpdateFleet:
    """Head office and n terminals on one machine."""

    def __init__(self, root: Path, broker, *, health_seconds: int = 10) -> None:
        self.root, self.broker, self.health_seconds = root, broker, health_seconds
        self.release_key = Ed25519PrivateKey.generate()
        self.office_key = Ed25519PrivateKey.generate()
        self.keys = root / "keys"
        self.keys.mkdir(parents=True)
        (self.keys / "release.pub").write_text(_raw_hex(self.release_key))
        (self.keys / "office.pub").write_text(_raw_hex(self.office_key))
        self.office_pem = self.keys / "office.pem"  # KASSA_OFFICE_KEY for head office's seal
        self.office_pem.write_bytes(self.office_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        self.ca = create_ca("Test fleet CA")
        self._write_cert("ca", None)
        key, cert = issue(self.ca, "127.0.0.1", unit="broker", server=True,
                          dns_names=["localhost"])
        self._write_pair("server", key, cert)
        self.db = open_office_db(root / "office.sqlite3")
        self.published = root / "office-releases"
        self.artifacts = root / "artifacts"
        self.server: ReleaseServer | None = None
        self.terminals: list[Terminal] = []

    def _write_cert(self, name: str, cert) -> None:
        (self.keys / f"{name}.crt").write_bytes(cert_pem(cert or self.ca.cert))

    def _write_pair(self, name: str, key, cert) -> None:
        (self.keys / f"{name}.key").write_bytes(key_pem(key))
        (self.keys / f"{name}.crt").write_bytes(cert_pem(cert))

    @contextlib.contextmanager
    def send(self) -> Iterator:
        with publisher(BrokerSettings(self.broker.host, self.broker.port),
                       f"office-{time.time_ns()}") as send:
            yield send

    def start_server(self) -> str:
        self.server = ReleaseServer(("127.0.0.1", 0), self.published, ServerTls(
            str(self.keys / "server.crt"), str(self.keys / "server.key"),
            str(self.keys / "ca.crt")), self.db, self.send)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"https://127.0.0.1:{self.server.server_address[1]}"

    def artifact(self, version: str, **kwargs) -> Path:
        name = f"{version}{'-broken' if kwargs.get('broken') else ''}" \
               f"{'-tampered' if kwargs.get('tamper') else ''}" \
               f"{'-arm' if kwargs.get('arch') else ''}.tar"
        path = self.artifacts / name
        if not path.exists():
            build_artifact(path, version, kwargs.pop("key", self.release_key), **kwargs)
        return path

    def add_terminal(self, name: str, server: str, ring: str = "pilot",
                     base_version: str = "0.1.0", start: bool = True) -> Terminal:
        root = self.root / name
        opt, control, state = root / "opt", root / "control", root / "update"
        for d in (opt, control, state):
            d.mkdir(parents=True)
        key, cert = issue(self.ca, name, unit="terminal")
        self._write_pair(name, key, cert)
        db = root / "kassa.sqlite3"
        config = root / "kassa.toml"
        config.write_text(f"""
[terminal]
store = "s1"
terminal = "{name}"

[database]
path = "{db}"

[mqtt]
enabled = true
host = "{self.broker.host}"
port = {self.broker.port}
keepalive = 5
backoff_max_seconds = 2

[update]
enabled = true
server = "{server}"
root = "{opt}"
state_dir = "{state}"
office_key = "{self.keys / 'office.pub'}"
release_key = "{self.keys / 'release.pub'}"
ca_file = "{self.keys / 'ca.crt'}"
cert_file = "{self.keys / f'{name}.crt'}"
key_file = "{self.keys / f'{name}.key'}"
health_seconds = {self.health_seconds}
poll_seconds = 1
""")
        terminal = Terminal(name, root, config, opt, control, db, state)
        # the release the terminal was provisioned with (kassa provision apply's part)
        installer = SlotInstaller(opt, self.keys / "release.pub")
        installer.install(self.artifact(base_version), "x86_64")
        installer.switch(base_version)
        point_link(opt / "committed", slot_link(opt, base_version))
        with self.db.connection_context():
            add_terminal(name, "s1", _raw_hex(Ed25519PrivateKey.generate()))
            rollout.set_ring(name, ring)
        self.terminals.append(terminal)
        if start:
            terminal.start("supervisor")
            terminal.start("updater")
        return terminal

    def publish(self, version: str, artifact: Path, ring: str = "pilot", **kwargs):
        with self.send() as send:
            return rollout.publish(version, artifact, self.published, ring,
                                   kwargs.pop("percent", 100), send, **kwargs)

    def report(self, terminal: str):
        from headoffice.releases.models import TerminalRelease

        with self.db.connection_context():
            return TerminalRelease.get_or_none(TerminalRelease.terminal == terminal)

    def release_state(self, version: str) -> str:
        from headoffice.releases.models import Release

        with self.db.connection_context():
            return Release.get(Release.version == version).state

    def close(self) -> None:
        for terminal in self.terminals:
            terminal.stop()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
