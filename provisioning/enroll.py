"""Creating the fleet (CA, broker and ingest identities) and enrolling terminals into it."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contract.config import parse_config
from contract.keys import public_key_hex
from provisioning import ca as x509ca
from provisioning.brokerconf import RESERVED_IDS
from provisioning.bundle import BundleFiles, kassa_toml, write_bundle
from provisioning.fleet import (
    INGEST_CN,
    CertRecord,
    EnrolledTerminal,
    Fleet,
    FleetError,
    Settings,
    now_iso,
    valid_id,
)
from provisioning.secure import private_dir, write_file, write_new_file

Registrar = Callable[[str, str, str], None]  # (terminal, store, public key hex)


def init_fleet(root: Path, settings: Settings) -> Fleet:
    """Creates the CA, the broker's server certificate and the ingest client certificate."""
    if (root / "fleet.json").exists():
        raise FleetError(f"{root} already holds a fleet; refusing to replace its CA")
    with Fleet.locked(root, must_exist=False) as fleet:
        fleet.settings = settings
        for sub in ("ca", "broker", "ingest", "bundles"):
            private_dir(root / sub)
        authority = x509ca.create_ca()
        write_new_file(fleet.ca_key_path, x509ca.key_pem(authority.key))
        write_file(fleet.ca_cert_path, x509ca.cert_pem(authority.cert), 0o644)
        names = [settings.broker_host, *settings.broker_names]
        key, cert = x509ca.issue(authority, settings.broker_host, unit="broker", server=True,
                                 dns_names=names)
        write_new_file(fleet.server_key_path, x509ca.key_pem(key))
        write_file(fleet.server_cert_path, x509ca.cert_pem(cert))
        key, cert = x509ca.issue(authority, INGEST_CN, unit="head office")
        write_new_file(fleet.ingest_key_path, x509ca.key_pem(key))
        write_file(fleet.ingest_cert_path, x509ca.cert_pem(cert))
        fleet.save()
        fleet.write_crl()
        return fleet


def check_ids(store: str, terminal: str) -> None:
    for label, value in (("store", store), ("terminal", terminal)):
        if not valid_id(value):
            raise FleetError(f"{label} id {value!r} must be 1-64 letters, digits, '-' or '_'")
        if value in RESERVED_IDS:
            raise FleetError(f"{label} id {value!r} is reserved (it is a topic name)")


@dataclass(frozen=True)
class Enrolled:
    terminal: EnrolledTerminal
    bundle: Path


def enroll(fleet: Fleet, store: str, terminal: str, register: Registrar | None,
           hardware: str = "") -> Enrolled:
    """Makes the terminal's keys and certificate, registers its public key, writes its bundle.

    The registry is written first: if head office refuses, nothing is left behind in the
    fleet and the admin can retry.
    """
    check_ids(store, terminal)
    if terminal in fleet.terminals:
        old = fleet.terminals[terminal]
        raise FleetError(f"terminal {terminal!r} is already enrolled (store {old.store}, "
                         f"{old.status}); a replacement gets a new terminal id")
    bundle_dir = fleet.bundle_dir(terminal)
    if bundle_dir.exists():
        raise FleetError(f"{bundle_dir} exists; remove it or pick another terminal id")
    parse_config(kassa_toml(fleet.settings, store, terminal, hardware),
                 source=f"hardware profile for {terminal}")
    signing = Ed25519PrivateKey.generate()
    pub = public_key_hex(signing)
    if register is not None:
        register(terminal, store, pub)
    authority = fleet.load_ca()
    tls_key, cert = x509ca.issue(authority, terminal, unit=f"store {store}")
    files = BundleFiles(
        signing_key=signing.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()),
        ca_cert=fleet.ca_cert_path.read_bytes(),
        client_cert=x509ca.cert_pem(cert),
        client_key=x509ca.key_pem(tls_key),
    )
    entry = EnrolledTerminal(terminal=terminal, store=store, public_key=pub, enrolled_at=now_iso(),
                     certs=[CertRecord(serial=cert.serial_number,
                                       not_after=cert.not_valid_after_utc.isoformat())])
    write_bundle(bundle_dir, fleet.settings, store, terminal, files, hardware)
    fleet.terminals[terminal] = entry
    fleet.save()
    return Enrolled(entry, bundle_dir)


def read_enrollment_csv(text: str, source: str) -> list[tuple[str, str]]:
    """Rows of store,terminal (a header line naming them is allowed); every row checked first."""
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    for lineno, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
        if not cells or all(not c for c in cells) or cells[0].startswith("#"):
            continue
        if lineno == 1 and [c.lower() for c in cells[:2]] == ["store", "terminal"]:
            continue
        if len(cells) != 2:
            raise FleetError(f"{source}:{lineno}: expected 2 columns store,terminal; got {row!r}")
        store, terminal = cells
        try:
            check_ids(store, terminal)
        except FleetError as exc:
            raise FleetError(f"{source}:{lineno}: {exc}") from None
        if terminal in seen:
            raise FleetError(f"{source}:{lineno}: terminal {terminal!r} appears twice")
        seen.add(terminal)
        rows.append((store, terminal))
    if not rows:
        raise FleetError(f"{source}: no store,terminal rows")
    return rows
