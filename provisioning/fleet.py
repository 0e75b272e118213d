"""The fleet admin's state directory: the CA, the broker and ingest identities, every terminal.

Layout (everything private to the admin, directories 0700, files 0600):

    fleet.json              settings and the terminal index (store, status, cert serials)
    ca/ca.key ca/ca.crt     the fleet CA
    ca/crl.pem              revoked certificate serials, read by the broker (crlfile)
    broker/server.*         the broker's TLS server identity
    ingest/ingest.*         head office's ingest client identity (CN kassa-ingest)
    ingest/ingest-ca.*      the head-office CA that issued it (trusted by the 8884 listener only)
    bundles/<terminal>/     enrollment bundles, ready to copy to an SD card

Every change happens under an exclusive lock so two admins (or a bulk run) never hand out
the same terminal twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from provisioning import ca as x509ca
from provisioning.secure import private_dir, write_file

INGEST_CN = "kassa-ingest"
DEFAULT_FLEET_DIR = Path(__file__).resolve().parent.parent / "var" / "fleet"


class FleetError(Exception):
    """A fleet operation that cannot go ahead; the message says what and why."""


def fleet_dir_from_env(explicit: str | None = None) -> Path:
    if explicit:
        return Path(explicit)
    if os.environ.get("KASSA_FLEET_DIR"):
        return Path(os.environ["KASSA_FLEET_DIR"])
    return DEFAULT_FLEET_DIR


def valid_id(value: str) -> bool:
    """Store and terminal ids are MQTT topic levels and certificate CNs: keep them plain."""
    return 0 < len(value) <= 64 and all(c.isascii() and (c.isalnum() or c in "-_") for c in value)


@dataclass
class Settings:
    broker_host: str = "127.0.0.1"
    broker_port: int = 8883
    ingest_port: int = 8884
    broker_names: list[str] = field(default_factory=list)
    office_db: str = ""
    source: str = "https://example.invalid/kassa.git"
    ref: str = "main"
    broker_dir: str = ""  # where broker-config last wrote; revoke refreshes CRL and ACL there


@dataclass
class CertRecord:
    serial: int
    not_after: str
    revoked_at: str = ""


@dataclass
class EnrolledTerminal:
    """A terminal in the fleet index: its key, its store and the certificates it was issued."""

    terminal: str
    store: str
    public_key: str
    enrolled_at: str
    status: str = "active"  # active | revoked
    certs: list[CertRecord] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict) -> EnrolledTerminal:
        certs = [CertRecord(**c) for c in data.pop("certs", [])]
        return cls(**data, certs=certs)


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


class Fleet:
    """Loads and saves the fleet directory; callers use it inside `Fleet.locked(dir)`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.settings = Settings()
        self.terminals: dict[str, EnrolledTerminal] = {}
        self.other_revoked: list[CertRecord] = []

    # paths -----------------------------------------------------------------------------
    @property
    def index_path(self) -> Path:
        return self.root / "fleet.json"

    @property
    def ca_key_path(self) -> Path:
        return self.root / "ca" / "ca.key"

    @property
    def ca_cert_path(self) -> Path:
        return self.root / "ca" / "ca.crt"

    @property
    def crl_path(self) -> Path:
        return self.root / "ca" / "crl.pem"

    @property
    def server_cert_path(self) -> Path:
        return self.root / "broker" / "server.crt"

    @property
    def server_key_path(self) -> Path:
        return self.root / "broker" / "server.key"

    @property
    def ingest_cert_path(self) -> Path:
        return self.root / "ingest" / "ingest.crt"

    @property
    def ingest_key_path(self) -> Path:
        return self.root / "ingest" / "ingest.key"

    @property
    def ingest_ca_cert_path(self) -> Path:
        """The head-office CA: it issues the ingest certificate only (ingest_identity.py)."""
        return self.root / "ingest" / "ingest-ca.crt"

    @property
    def ingest_ca_key_path(self) -> Path:
        return self.root / "ingest" / "ingest-ca.key"

    @property
    def office_key_path(self) -> Path:
        """Head office's public key (PEM), pinned by `kassa provision office-key`; every bundle
        carries it, so a terminal applies only what head office sealed."""
        return self.root / "office_ed25519.pub"

    def bundle_dir(self, terminal: str) -> Path:
        return self.root / "bundles" / terminal

    # persistence -----------------------------------------------------------------------
    @classmethod
    @contextlib.contextmanager
    def locked(cls, root: str | os.PathLike[str], *, must_exist: bool = True) -> Iterator[Fleet]:
        root = Path(root)
        if must_exist and not (root / "fleet.json").exists():
            raise FleetError(f"{root} is not a fleet directory; run `kassa provision init` first")
        private_dir(root)
        with open(root / ".lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            fleet = cls(root)
            fleet._load()
            yield fleet

    def _load(self) -> None:
        if not self.index_path.exists():
            return
        data = json.loads(self.index_path.read_text(encoding="utf-8"))
        self.settings = Settings(**data.get("settings", {}))
        self.terminals = {t["terminal"]: EnrolledTerminal.from_json(t) for t in data.get("terminals", [])}
        self.other_revoked = [CertRecord(**c) for c in data.get("other_revoked", [])]

    def save(self) -> None:
        data = {
            "settings": asdict(self.settings),
            "terminals": [asdict(t) for t in sorted(self.terminals.values(),
                                                    key=lambda t: (t.store, t.terminal))],
            "other_revoked": [asdict(c) for c in self.other_revoked],
        }
        write_file(self.index_path, json.dumps(data, indent=2, sort_keys=True) + "\n")

    # the CA ----------------------------------------------------------------------------
    def load_ca(self) -> x509ca.CA:
        try:
            return x509ca.CA(x509ca.load_key(self.ca_key_path.read_bytes()),
                             x509ca.load_cert(self.ca_cert_path.read_bytes()))
        except FileNotFoundError:
            raise FleetError(f"{self.root}: no fleet CA; run `kassa provision init`") from None

    def write_crl(self) -> Path:
        """Rewrites the CRL from every revoked certificate serial the index knows."""
        revoked = [c for t in self.terminals.values() for c in t.certs if c.revoked_at]
        revoked += self.other_revoked
        pairs = [(c.serial, dt.datetime.fromisoformat(c.revoked_at)) for c in revoked]
        return write_file(self.crl_path, x509ca.build_crl(self.load_ca(), pairs), 0o644)

    def revoke(self, terminal: str) -> EnrolledTerminal:
        entry = self.terminals.get(terminal)
        if entry is None:
            raise FleetError(f"terminal {terminal!r} is not enrolled in this fleet")
        when = _now_iso()
        for cert in entry.certs:
            if not cert.revoked_at:
                cert.revoked_at = when
        entry.status = "revoked"
        self.save()
        self.write_crl()
        return entry

    def settings_broker_dir(self) -> Path | None:
        path = Path(self.settings.broker_dir) if self.settings.broker_dir else None
        return path if path is not None and path.is_dir() else None

    def active_terminals(self) -> list[EnrolledTerminal]:
        return sorted((t for t in self.terminals.values() if t.status == "active"),
                      key=lambda t: (t.store, t.terminal))


def now_iso() -> str:
    return _now_iso()
