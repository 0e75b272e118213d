"""Creating the fleet (CA, broker and ingest identities) and enrolling terminals into it."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contract.config import parse_config
from contract.keys import key_fingerprint, public_key_from_pem, public_key_hex
from provisioning import ca as x509ca
from provisioning.brokerconf import reserved_id
from provisioning.bundle import BundleFiles, kassa_toml, write_bundle
from provisioning.fleet import (
    CertRecord,
    EnrolledTerminal,
    Fleet,
    FleetError,
    Settings,
    now_iso,
    valid_id,
)
from provisioning.identity import FIELDS, IdentityError, StoreIdentity, check_identity
from provisioning.ingest_identity import issue_ingest_identity
from provisioning.release.keys import create_release_key
from provisioning.secure import private_dir, write_file, write_new_file

Registrar = Callable[[str, str, str], None]  # (terminal, store, public key hex)


def init_fleet(root: Path, settings: Settings) -> Fleet:
    """Creates the CA, the broker's server certificate, the ingest client certificate and the
    release signing key."""
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
        issue_ingest_identity(fleet)  # under a CA of its own: see ingest_identity.py
        create_release_key(root)  # signs release manifests; terminals pin its public half
        fleet.save()
        fleet.write_crl()
        return fleet


def pin_office_key(fleet: Fleet, pem: bytes) -> str:
    """Pins head office's public key (PEM) in the fleet; later bundles carry it. Returns its
    fingerprint. Replacing a pinned key is allowed (head office's key was rotated): bundles
    made before keep the old one, and those terminals must be given the new file."""
    try:
        key = public_key_from_pem(pem)
    except ValueError as exc:
        raise FleetError(f"head office's public key: {exc}") from None
    write_file(fleet.office_key_path, pem, 0o644)
    return key_fingerprint(key)


def pinned_office_pem(fleet: Fleet) -> bytes:
    """The pinned key, or FleetError: a bundle without it would leave the till refusing every
    catalogue, price, offers and config message."""
    try:
        pem = fleet.office_key_path.read_bytes()
    except FileNotFoundError:
        raise FleetError("no head-office public key is pinned in this fleet: export it on head "
                         "office (`kassa office public-key --out office.pub`), then `kassa "
                         "provision office-key office.pub`") from None
    try:
        public_key_from_pem(pem)
    except ValueError as exc:
        raise FleetError(f"{fleet.office_key_path}: {exc}") from None
    return pem


def check_ids(store: str, terminal: str) -> None:
    for label, value in (("store", store), ("terminal", terminal)):
        if not valid_id(value):
            raise FleetError(f"{label} id {value!r} must be 1-64 letters, digits, '-' or '_'")
        if reserved_id(value):
            raise FleetError(f"{label} id {value!r} is reserved (it is a topic name)")


@dataclass(frozen=True)
class Enrolled:
    terminal: EnrolledTerminal
    bundle: Path


def enroll(fleet: Fleet, store: str, terminal: str, register: Registrar | None,
           hardware: str = "", identity: StoreIdentity | None = None) -> Enrolled:
    """Makes the terminal's keys and certificate, registers its public key, writes its bundle.

    The registry is written first: if head office refuses, nothing is left behind in the
    fleet and the admin can retry. Without an identity the bundle keeps the demo shop's,
    and the till refuses to start on it outside --demo/--sim.
    """
    check_ids(store, terminal)
    if terminal in fleet.terminals:
        old = fleet.terminals[terminal]
        raise FleetError(f"terminal {terminal!r} is already enrolled (store {old.store}, "
                         f"{old.status}); a replacement gets a new terminal id")
    bundle_dir = fleet.bundle_dir(terminal)
    if bundle_dir.exists():
        raise FleetError(f"{bundle_dir} exists; remove it or pick another terminal id")
    parse_config(kassa_toml(fleet.settings, store, terminal, hardware, identity),
                 source=f"hardware profile for {terminal}")
    office_pem = pinned_office_pem(fleet)
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
        office_public_key=office_pem,
    )
    entry = EnrolledTerminal(terminal=terminal, store=store, public_key=pub, enrolled_at=now_iso(),
                     certs=[CertRecord(serial=cert.serial_number,
                                       not_after=cert.not_valid_after_utc.isoformat())])
    write_bundle(bundle_dir, fleet.settings, store, terminal, files, hardware, identity)
    fleet.terminals[terminal] = entry
    fleet.save()
    return Enrolled(entry, bundle_dir)


@dataclass(frozen=True)
class EnrollmentRow:
    store: str
    terminal: str
    identity: StoreIdentity | None = None  # from the CSV's identity columns, if given


CSV_COLUMNS = ("store", "terminal", *FIELDS)


def read_enrollment_csv(text: str, source: str) -> list[EnrollmentRow]:
    """Rows of store,terminal, or store,terminal,name,address,vat_number,kvk_number (a header
    line naming them is allowed); every row checked first."""
    rows: list[EnrollmentRow] = []
    seen: set[str] = set()
    for lineno, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
        if not cells or all(not c for c in cells) or cells[0].startswith("#"):
            continue
        if lineno == 1 and [c.lower() for c in cells[:2]] == ["store", "terminal"]:
            if [c.lower() for c in cells] not in (list(CSV_COLUMNS[:2]), list(CSV_COLUMNS)):
                raise FleetError(f"{source}:1: header must be store,terminal or "
                                 f"{','.join(CSV_COLUMNS)}; got {row!r}")
            continue
        if len(cells) not in (2, len(CSV_COLUMNS)):
            raise FleetError(f"{source}:{lineno}: expected 2 columns store,terminal or "
                             f"{len(CSV_COLUMNS)} columns {','.join(CSV_COLUMNS)}; got {row!r}")
        store, terminal = cells[:2]
        try:
            check_ids(store, terminal)
            identity = None
            if len(cells) > 2:
                identity = check_identity(store, dict(zip(FIELDS, cells[2:], strict=True)),
                                          f"{source}:{lineno}")
        except IdentityError:
            raise
        except FleetError as exc:
            raise FleetError(f"{source}:{lineno}: {exc}") from None
        if terminal in seen:
            raise FleetError(f"{source}:{lineno}: terminal {terminal!r} appears twice")
        seen.add(terminal)
        rows.append(EnrollmentRow(store, terminal, identity))
    if not rows:
        raise FleetError(f"{source}: no store,terminal rows")
    return rows


def store_identities(rows: Iterable[EnrollmentRow], stores: dict[str, StoreIdentity],
                     source: str, *, demo: bool = False) -> dict[str, StoreIdentity | None]:
    """One identity per store of the rows: from the CSV or the stores file, the same wherever
    it is given. A store without one is refused unless `demo` (a lab or training till: the
    bundle keeps the demo identity, which the till only runs with --demo or --sim)."""
    given: dict[str, list[StoreIdentity]] = {}
    for row in rows:
        found = given.setdefault(row.store, [])
        found += [i for i in (row.identity, stores.get(row.store)) if i is not None]
    identities: dict[str, StoreIdentity | None] = {}
    for store, found in given.items():
        for other in found[1:]:
            if other != found[0]:
                key = next(k for k in FIELDS if getattr(other, k) != getattr(found[0], k))
                raise IdentityError(source, store, key, f"given twice, as "
                                    f"{getattr(found[0], key)!r} and {getattr(other, key)!r}")
        if not found and not demo:
            raise IdentityError(source, store, "(identity)",
                                "no legal identity (name, address, vat_number, kvk_number) for "
                                "this store: give it in --stores FILE or the CSV's columns, or "
                                "pass --demo-identity for a lab till")
        identities[store] = found[0] if found else None
    return identities
