"""Real services for tests: Mosquitto brokers and PostgreSQL databases, started on demand.

`mosquitto` is a factory: `broker = mosquitto()` starts a broker on a free loopback port
with persistence in tmp; `mosquitto(config_text)` uses your own config, in which `{port}`
and `{dir}` are filled in (for TLS listeners and ACL files). `broker.stop()` /
`broker.start()` simulate an outage of the same broker (same port, same persisted state);
`broker.stop(kill=True)` is a crash. Every broker is stopped when the test ends.

`postgres_database()` returns the URL of a fresh database on the local server when one is
reachable at 127.0.0.1:5432, else on a server started from Debian's postgresql binaries in
tmp for the session. Databases are dropped at the end of the session.
"""

from __future__ import annotations

import contextlib
import getpass
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

DEFAULT_MOSQUITTO_CONFIG = """\
listener {port} 127.0.0.1
allow_anonymous true
persistence true
persistence_location {dir}/
autosave_interval 1
max_queued_messages 0
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before port {port} opened")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


class Broker:
    """One Mosquitto process with its config, data directory and log in `workdir`."""

    def __init__(self, workdir: Path, config_text: str | None = None) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.host = "127.0.0.1"
        self.port = free_port()
        text = (config_text or DEFAULT_MOSQUITTO_CONFIG).format(port=self.port, dir=workdir)
        if os.geteuid() == 0 and "\nuser " not in f"\n{text}":
            text += f"user {getpass.getuser()}\n"  # root: do not drop to 'mosquitto'
        self.config_path = workdir / "mosquitto.conf"
        self.config_path.write_text(text)
        self.log_path = workdir / "mosquitto.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Broker:
        if self.running:
            return self
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.config_path)],
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        try:
            wait_for_port(self.port, proc=self.proc)
        except (RuntimeError, TimeoutError) as exc:
            self.stop(kill=True)
            raise RuntimeError(f"mosquitto did not start: {exc}\n{self.log()}") from None
        return self

    def stop(self, kill: bool = False) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill() if kill else self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def restart(self) -> Broker:
        self.stop()
        return self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Callable[..., Broker]]:
    """Factory: mosquitto(config_text=None, start=True) -> Broker."""
    brokers: list[Broker] = []

    def make(config_text: str | None = None, start: bool = True) -> Broker:
        broker = Broker(tmp_path / f"mosquitto-{len(brokers)}", config_text)
        brokers.append(broker)
        return broker.start() if start else broker

    yield make
    for broker in brokers:
        broker.stop()


# -- PostgreSQL -------------------------------------------------------------------------------

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def _reachable(url: str) -> bool:
    import psycopg2

    try:
        psycopg2.connect(url, connect_timeout=2).close()
    except psycopg2.Error:
        return False
    return True


class _OwnPostgres:
    """A throw-away server from Debian's postgresql binaries, run as a non-root user."""

    def __init__(self, root: Path) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            raise RuntimeError("no PostgreSQL server reachable at 127.0.0.1:5432 and no"
                               " initdb found: install the 'postgresql' Debian package")
        self.bin = Path(bins[-1]).parent
        self.root, self.data, self.port = root, root / "data", free_port()
        self.prefix: list[str] = []
        if os.geteuid() == 0:  # the server refuses to run as root
            self.prefix = ["runuser", "-u", "postgres", "--"]
            root.chmod(0o755)
            shutil.chown(root, "postgres")

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self.prefix, *args], capture_output=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"{' '.join(args[:1])} failed ({done.returncode}):"
                               f" {done.stderr.decode(errors='replace')}")

    def start(self) -> str:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--no-sync")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
                  "-w", "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
                  " -c fsync=off", "start")
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of the maintenance database of a running server (local, or our own)."""
    if not os.environ.get("KASSA_TEST_OWN_POSTGRES") and _reachable(LOCAL_SERVER):
        yield LOCAL_SERVER
        return
    # not under pytest's tmp: that tree is private to us, and the server runs as 'postgres'
    root = Path(tempfile.mkdtemp(prefix="kassa-test-pg-"))
    server = _OwnPostgres(root)
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_database(postgres_server: str) -> Iterator[Callable[[], str]]:
    """Factory: postgres_database() -> URL of a new, empty database (dropped at session end)."""
    import psycopg2

    created: list[str] = []

    def admin(sql: str) -> None:
        conn = psycopg2.connect(postgres_server)
        conn.autocommit = True
        try:
            conn.cursor().execute(sql)
        finally:
            conn.close()

    def make() -> str:
        name = f"kassa_test_{uuid.uuid4().hex[:12]}"
        admin(f'CREATE DATABASE "{name}"')
        created.append(name)
        return postgres_server.rsplit("/", 1)[0] + f"/{name}"

    yield make
    for name in created:
        with contextlib.suppress(Exception):
            admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def office_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, opened head-office database, once on SQLite and once on PostgreSQL."""
    from headoffice.db import database_proxy, open_office_db

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'office.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_database")()
    db = open_office_db(url)
    yield url
    db.close()
    database_proxy.initialize(None)
