"""`kassa provision`: the fleet admin's CLI (CA, enrollment, bundles, broker config, revoke).

Prints paths, ids, serials and public keys; never a private key or a bundle's contents.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any


class RegistryError(Exception):
    """Head office's registry could not be reached or refused the change."""


class OfficeRegistry:
    """Head office's terminal registry as the fleet commands use it: provisioning itself
    imports nothing of head office, this command line wires the two together."""

    def __init__(self, url: str) -> None:
        if not url:
            raise RegistryError("no head-office database URL: pass --office-db URL (or set it "
                                "at init), or --no-register to skip the registry")
        try:
            from headoffice import db, registry
        except ImportError as exc:  # a fleet-only install, without head office's packages
            raise RegistryError(f"head office registry is not available: {exc}") from None
        self._registry = registry
        try:
            self._db = db.open_office_db(url)
        except Exception as exc:  # any driver error: name the URL scheme, never credentials
            scheme = url.split(":", 1)[0]
            raise RegistryError(f"cannot open the head-office database ({scheme}): {exc}") from None

    def add(self, terminal: str, store: str, public_key_hex: str) -> None:
        try:
            self._registry.add_terminal(terminal, store, public_key_hex)
        except Exception as exc:
            raise RegistryError(f"head office refused terminal {terminal!r}: {exc}") from None

    def revoke(self, terminal: str) -> None:
        try:
            self._registry.revoke_terminal(terminal)
        except Exception as exc:
            raise RegistryError(f"head office could not revoke {terminal!r}: {exc}") from None

    def list(self) -> list[dict[str, Any]]:
        from headoffice.releases import rollout

        versions = rollout.terminal_versions()
        rows = []
        for row in self._registry.list_terminals():
            running, step, release = versions.get(row.terminal_id, ("", "", ""))
            rows.append({"terminal": row.terminal_id, "store": row.store, "status": row.status,
                         "last_seen": row.last_seen, "version": running,
                         "update": f"{step} {release}" if step else ""})
        return rows

    def rollouts(self) -> list[str]:
        from headoffice.releases import rollout

        return [p.line() for p in rollout.progress()]

    def close(self) -> None:
        self._db.close()


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("provision", help="fleet CA, terminal enrollment, broker config")
    p.add_argument("--fleet-dir", help="fleet state directory (default $KASSA_FLEET_DIR, "
                   "else var/fleet)")
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    s = sub.add_parser("init", help="create the fleet CA, broker and ingest certificates")
    s.add_argument("--broker-host", required=True, help="name or IP terminals connect to")
    s.add_argument("--broker-port", type=int, default=8883)
    s.add_argument("--ingest-port", type=int, default=8884)
    s.add_argument("--broker-name", action="append", default=[],
                   help="another DNS name or IP of the broker (repeatable)")
    s.add_argument("--office-db", default="", help="head-office database URL (registry)")
    s.add_argument("--source", default=None, help="git URL cloud-init installs Kassa from")
    s.add_argument("--ref", default="main", help="git branch or tag to install")
    s.add_argument("--office-public-key", help="head office's public key (PEM, from `kassa "
                   "office public-key`); pin it here or later with `office-key`")
    s.set_defaults(handler=_init)

    s = sub.add_parser("office-key", help="pin head office's public key (PEM): every bundle "
                       "made after carries it, and its terminals apply only what it sealed")
    s.add_argument("file", help="the PEM from `kassa office public-key --out FILE`")
    s.set_defaults(handler=_office_key)

    s = sub.add_parser("enroll", help="enroll one terminal, or many from a CSV")
    s.add_argument("--store")
    s.add_argument("--terminal")
    s.add_argument("--csv", help="file of store,terminal rows (bulk enrollment), optionally "
                   "with name,address,vat_number,kvk_number columns (the store's legal identity)")
    s.add_argument("--stores", help="TOML file, one [store-id] table per store with name, "
                   "address, vat_number, kvk_number: the legal identity receipts print")
    s.add_argument("--demo-identity", action="store_true",
                   help="enroll without a legal identity (a lab or training till): the bundle "
                   "keeps the demo shop, and the till then runs only with --demo or --sim")
    s.add_argument("--hardware", help="TOML file with drawer/scanner/printer/ui sections")
    s.add_argument("--office-db", help="head-office database URL (default: from init)")
    s.add_argument("--no-register", action="store_true",
                   help="do not write head office's registry (register the printed key later)")
    s.set_defaults(handler=_enroll)

    s = sub.add_parser("apply", help="install a bundle on this terminal")
    s.add_argument("bundle")
    s.add_argument("--root", default="/", help="install under this directory (default /)")
    s.add_argument("--enable", action="store_true", help="enable (and on / start) the services")
    s.add_argument("--owner", help="user owning the installed files (default kassa when root)")
    s.add_argument("--force", action="store_true", help="replace a different journal key")
    s.add_argument("--source", help="Kassa source tree with systemd/ and provisioning/udev/ "
                   "(default: the one this kassa runs from)")
    s.set_defaults(handler=_apply)

    s = sub.add_parser("revoke", help="revoke a terminal (CRL, ACL, head-office registry)")
    s.add_argument("terminal")
    s.add_argument("--office-db", help="head-office database URL (default: from init)")
    s.add_argument("--no-register", action="store_true", help="leave the registry alone")
    s.set_defaults(handler=_revoke)

    s = sub.add_parser("broker-config", help="write the Mosquitto config, ACLs and TLS files")
    s.add_argument("--out", required=True, help="directory to write into")
    s.add_argument("--install-dir", help="where the files live on the broker (default: --out)")
    s.add_argument("--data-dir", default="/var/lib/mosquitto", help="persistence location")
    s.add_argument("--port", type=int, help="terminal listener port (default: from init)")
    s.add_argument("--ingest-port", type=int, help="head-office listener (default: from init)")
    s.add_argument("--bind", default="", help="terminal listener bind address")
    s.add_argument("--ingest-bind", default="", help="head-office listener bind address")
    s.add_argument("--run-as", default="mosquitto", help="user the broker drops privileges to")
    s.set_defaults(handler=_broker_config)

    s = sub.add_parser("crl", help="re-sign the CRL (do it monthly; it is valid for a year)")
    s.set_defaults(handler=_crl)

    s = sub.add_parser("sync-registry", help="write every terminal's key and status into a "
                       "head-office database (a new PostgreSQL one, or after a restore)")
    s.add_argument("--office-db", help="head-office database URL (default: from init)")
    s.set_defaults(handler=_sync_registry)

    s = sub.add_parser("list", help="terminals with store, status and last seen")
    s.add_argument("--office-db", help="head-office database URL (default: from init)")
    s.set_defaults(handler=_list)


def _fleet_dir(args: argparse.Namespace) -> Path:
    from provisioning.fleet import fleet_dir_from_env

    return fleet_dir_from_env(args.fleet_dir)


def _fail(message: str) -> int:
    print(f"kassa provision: {message}", file=sys.stderr)
    return 1


def _guard(handler):  # noqa: ANN001, ANN202 - a decorator over the handlers below
    def run(args: argparse.Namespace) -> int:
        from provisioning.fleet import FleetError
        from provisioning.release.errors import ReleaseError

        os.umask(0o077)
        try:
            return handler(args)
        except (FleetError, RegistryError, ReleaseError, FileExistsError) as exc:
            return _fail(str(exc))
    return run


@_guard
def _init(args: argparse.Namespace) -> int:
    from provisioning.enroll import init_fleet
    from provisioning.fleet import Settings
    from provisioning.release.keys import release_key_path

    settings = Settings(broker_host=args.broker_host, broker_port=args.broker_port,
                        ingest_port=args.ingest_port, broker_names=args.broker_name,
                        office_db=args.office_db, ref=args.ref)
    if args.source:
        settings.source = args.source
    pem = _read_pem(args.office_public_key) if args.office_public_key else None
    fleet = init_fleet(_fleet_dir(args), settings)
    print(f"fleet created in {fleet.root}")
    if pem is not None:
        _pin(fleet.root, pem)
    print(f"  CA certificate      {fleet.ca_cert_path}")
    print(f"  broker certificate  {fleet.server_cert_path}  (for {args.broker_host})")
    print(f"  ingest certificate  {fleet.ingest_cert_path}  (CN kassa-ingest)")
    print(f"  CRL                 {fleet.crl_path}")
    print(f"  release key         {release_key_path(fleet.root)}  (signs `kassa release build`)")
    print("next: kassa provision broker-config --out DIR, then enroll terminals")
    return 0


def _read_pem(path: str) -> bytes:
    from provisioning.fleet import FleetError

    try:
        return Path(path).read_bytes()[:8192]
    except OSError as exc:
        raise FleetError(f"head office's public key {path}: {exc.strerror or exc}") from None


def _pin(root: Path, pem: bytes) -> None:
    from provisioning.enroll import pin_office_key
    from provisioning.fleet import Fleet

    with Fleet.locked(root) as fleet:
        print(f"  head office's key   {fleet.office_key_path}  "
              f"(fingerprint {pin_office_key(fleet, pem)})")


@_guard
def _office_key(args: argparse.Namespace) -> int:
    _pin(_fleet_dir(args), _read_pem(args.file))
    print("bundles enrolled from now on carry this key; a terminal enrolled before needs the "
          "file as /etc/kassa/office_ed25519.pub (see docs/operations/provisioning.md)")
    return 0


def _registrar(args: argparse.Namespace, fleet):  # noqa: ANN001, ANN202
    if args.no_register:
        return None
    return OfficeRegistry(args.office_db or fleet.settings.office_db)


@_guard
def _enroll(args: argparse.Namespace) -> int:
    from provisioning.brokerconf import refresh_broker_files
    from provisioning.enroll import (
        EnrollmentRow,
        check_ids,
        enroll,
        read_enrollment_csv,
        store_identities,
    )
    from provisioning.fleet import Fleet, FleetError
    from provisioning.identity import read_stores_file

    if args.csv:
        if args.store is not None or args.terminal is not None:
            raise FleetError("give either --csv or --store and --terminal, not both")
        rows = read_enrollment_csv(Path(args.csv).read_text(encoding="utf-8"), args.csv)
    elif args.store is not None and args.terminal is not None:
        check_ids(args.store, args.terminal)
        rows = [EnrollmentRow(args.store, args.terminal)]
    else:
        raise FleetError("enroll needs --store and --terminal, or --csv FILE")
    stores = (read_stores_file(Path(args.stores).read_text(encoding="utf-8"), args.stores)
              if args.stores else {})
    if stores and args.demo_identity:
        raise FleetError("give either --stores or --demo-identity, not both")
    hardware = Path(args.hardware).read_text(encoding="utf-8") if args.hardware else ""
    with Fleet.locked(_fleet_dir(args)) as fleet:
        clash = [row.terminal for row in rows if row.terminal in fleet.terminals]
        if clash:
            raise FleetError(f"already enrolled: {', '.join(clash)}; nothing was enrolled")
        # every store's identity is checked before the first terminal is enrolled
        identities = store_identities(rows, stores, args.stores or args.csv or "enroll",
                                      demo=args.demo_identity)
        registry = _registrar(args, fleet)
        try:
            for row in rows:
                store, terminal, identity = row.store, row.terminal, identities[row.store]
                done = enroll(fleet, store, terminal,
                              registry.add if registry else None, hardware, identity)
                serial = done.terminal.certs[-1].serial
                print(f"enrolled {terminal} (store {store}): cert serial {serial:x}, "
                      f"journal key {done.terminal.public_key}")
                if identity is None:
                    print("  demo shop identity (--demo-identity): the till runs only with "
                          "--demo or --sim")
                else:
                    print(f"  {identity.name}, BTW-nr {identity.vat_number}, "
                          f"KvK {identity.kvk_number}")
                print(f"  bundle {done.bundle}")
                if registry is None:
                    print("  not registered at head office (--no-register)")
        finally:
            if registry is not None:
                registry.close()
        if len(rows) > 1:
            print(f"{len(rows)} terminals enrolled")
        broker_dir = fleet.settings_broker_dir()
        if broker_dir is not None:
            refresh_broker_files(fleet, broker_dir)
            print(f"broker ACL updated in {broker_dir}")
    print("next: " + ("reload the broker (systemctl reload mosquitto)" if broker_dir else
                      "kassa provision broker-config --out DIR, then reload the broker"))
    return 0


@_guard
def _apply(args: argparse.Namespace) -> int:
    from provisioning.apply import PROJECT_ROOT, apply_bundle

    done = apply_bundle(Path(args.bundle), Path(args.root), enable=args.enable,
                        owner=args.owner, force=args.force,
                        source=Path(args.source) if args.source else PROJECT_ROOT)
    print(f"installed terminal {done.terminal} (store {done.store}) under {args.root}")
    for path in done.installed:
        print(f"  {path}")
    if done.enabled:
        print("  services enabled: kassa-uplink.service kassa-till.service")
    return 0


@_guard
def _revoke(args: argparse.Namespace) -> int:
    from provisioning.brokerconf import refresh_broker_files
    from provisioning.fleet import Fleet

    with Fleet.locked(_fleet_dir(args)) as fleet:
        entry = fleet.revoke(args.terminal)
        serials = ", ".join(f"{c.serial:x}" for c in entry.certs)
        print(f"revoked {entry.terminal} (store {entry.store}): certificate {serials} in "
              f"{fleet.crl_path}")
        broker_dir = fleet.settings_broker_dir()
        if broker_dir is not None:
            refresh_broker_files(fleet, broker_dir)
            print(f"  broker files updated in {broker_dir}: crl.pem, acl-terminals")
        registry = _registrar(args, fleet)
        if registry is not None:
            try:
                registry.revoke(args.terminal)
            finally:
                registry.close()
            print("  head office registry: revoked")
    print("next: reload the broker (systemctl reload mosquitto) so it reads the new CRL")
    return 0


@_guard
def _broker_config(args: argparse.Namespace) -> int:
    from provisioning.brokerconf import BrokerOptions, write_broker_config
    from provisioning.fleet import Fleet

    out = Path(args.out).resolve()
    with Fleet.locked(_fleet_dir(args)) as fleet:
        opts = BrokerOptions(
            install_dir=Path(args.install_dir) if args.install_dir else out,
            data_dir=Path(args.data_dir),
            port=args.port or fleet.settings.broker_port,
            ingest_port=args.ingest_port or fleet.settings.ingest_port,
            bind=args.bind, ingest_bind=args.ingest_bind, run_as=args.run_as,
        )
        files = write_broker_config(fleet, out, opts)
        fleet.settings.broker_dir = str(out)
        fleet.save()
        count = len(fleet.active_terminals())
    print(f"broker config for {count} active terminals written to {out}:")
    for path in files.written:
        print(f"  {path}")
    if files.ingest_renewed:
        print(f"NOTE: new ingest certificate under the head-office CA: copy "
              f"{fleet.ingest_cert_path} and {fleet.ingest_key_path} to head office "
              "(kassa office ingest --cert/--key) before reloading the broker")
    if files.group:
        print(f"server.key: mode 0640, group {files.group}; {out}: mode 0750, group "
              f"{files.group} (the broker user can read them)")
        print("install: point mosquitto at mosquitto.conf, reload; when copying the directory "
              "elsewhere keep modes and group (cp -a, rsync -a, install -g)")
    else:
        group = files.missing_group
        print(f"NOTE: server.key is readable by its owner only (no group '{group}' here, or no "
              f"right to give files to it); on the broker host run: chgrp {group} server.key "
              f"&& chmod 0640 server.key (Mosquitto reads its files as user '{opts.run_as}')")
        print("install: point mosquitto at mosquitto.conf, fix server.key as above, reload")
    return 0


@_guard
def _crl(args: argparse.Namespace) -> int:
    from provisioning.brokerconf import refresh_broker_files
    from provisioning.fleet import Fleet

    with Fleet.locked(_fleet_dir(args)) as fleet:
        path = fleet.write_crl()
        broker_dir = fleet.settings_broker_dir()
        if broker_dir is not None:
            refresh_broker_files(fleet, broker_dir)
    print(f"CRL re-signed: {path}")
    return 0


def _terminals_and_office(args: argparse.Namespace):  # noqa: ANN202
    """The fleet's terminals by store and id, and the head-office database (--office-db or
    the one given at init), read under the fleet lock."""
    from provisioning.fleet import Fleet

    with Fleet.locked(_fleet_dir(args)) as fleet:
        terminals = sorted(fleet.terminals.values(), key=lambda t: (t.store, t.terminal))
        return terminals, args.office_db or fleet.settings.office_db


@_guard
def _sync_registry(args: argparse.Namespace) -> int:
    terminals, url = _terminals_and_office(args)
    registry = OfficeRegistry(url)
    try:
        current = {row["terminal"]: row["status"] for row in registry.list()}
        for t in terminals:
            if current.get(t.terminal) != t.status:
                if current.get(t.terminal) is None or t.status == "active":
                    registry.add(t.terminal, t.store, t.public_key)
                if t.status == "revoked":
                    registry.revoke(t.terminal)
                print(f"{t.terminal} (store {t.store}): {t.status}")
    finally:
        registry.close()
    print(f"head office registry holds the fleet's {len(terminals)} terminals")
    return 0


@_guard
def _list(args: argparse.Namespace) -> int:
    terminals, url = _terminals_and_office(args)
    office: dict[str, dict] = {}
    rollouts: list[str] = []
    if url:
        try:
            registry = OfficeRegistry(url)
            try:
                office = {row["terminal"]: row for row in registry.list()}
                rollouts = registry.rollouts()
            finally:
                registry.close()
        except RegistryError as exc:  # the fleet's own view is still worth showing
            print(f"kassa provision: warning: no last-seen times: {exc}", file=sys.stderr)
    rows = [("STORE", "TERMINAL", "STATUS", "LAST SEEN", "ENROLLED", "VERSION", "UPDATE")]
    for t in terminals:
        seen = office.get(t.terminal, {})
        status = t.status
        if seen.get("status") and seen["status"] != t.status:
            status = f"{t.status} (head office: {seen['status']})"
        rows.append((t.store, t.terminal, status, seen.get("last_seen") or "never",
                     t.enrolled_at, seen.get("version") or "?", seen.get("update") or ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    for line in rollouts:
        print(f"rollout {line}")
    return 0
