"""Installing a bundle on a terminal: config, keys, udev rule and systemd units.

Used by cloud-init on first boot and by hand on images without it. `root` lets tests (and
image builders) install into a directory instead of the running system.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from contract.config import ConfigError, parse_config
from contract.keys import public_key_from_pem
from provisioning.bundle import DESTINATIONS, ETC, PUBLIC_FILES, STATE_DIR
from provisioning.fleet import FleetError
from provisioning.release.bundled import install_bundled_release
from provisioning.secure import write_file

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # a source checkout: systemd/, udev/
TERMINAL_UNITS = ("kassa-uplink.service", "kassa-till.service")
SERVICE_USER = "kassa"


@dataclass(frozen=True)
class Applied:
    store: str
    terminal: str
    installed: list[Path]
    enabled: bool


def _under(root: Path, path: PurePosixPath) -> Path:
    return root / path.relative_to("/")


def read_bundle(bundle: Path) -> tuple[dict, dict[str, bytes]]:
    """The manifest and the files, each checked against its sha256 and the config parsed."""
    try:
        manifest = json.loads((bundle / "bundle.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FleetError(f"{bundle}: no bundle.json; not an enrollment bundle") from None
    except ValueError as exc:
        raise FleetError(f"{bundle}/bundle.json: not valid JSON: {exc}") from None
    files: dict[str, bytes] = {}
    for name in DESTINATIONS:
        want = manifest.get("files", {}).get(name)
        try:
            data = (bundle / name).read_bytes()
        except FileNotFoundError:
            raise FleetError(f"{bundle}: {name} is missing") from None
        if hashlib.sha256(data).hexdigest() != want:
            raise FleetError(f"{bundle}: {name} does not match bundle.json (damaged or edited)")
        files[name] = data
    try:
        public_key_from_pem(files["office_ed25519.pub"])
    except ValueError as exc:
        raise FleetError(f"{bundle}: office_ed25519.pub is not head office's key: {exc}") from None
    try:
        config = parse_config(files["kassa.toml"].decode("utf-8"), f"{bundle}/kassa.toml")
    except (ConfigError, UnicodeDecodeError) as exc:
        raise FleetError(f"{bundle}: kassa.toml is not valid: {exc}") from None
    if (config.terminal.terminal, config.terminal.store) != (manifest.get("terminal"),
                                                             manifest.get("store")):
        raise FleetError(f"{bundle}: kassa.toml names another terminal than bundle.json")
    return manifest, files


def _owner(root: Path, owner: str | None) -> tuple[int, int] | None:
    if owner is None and (root != Path("/") or os.geteuid() != 0):
        return None
    name = owner or SERVICE_USER
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise FleetError(f"user {name!r} does not exist; create it (useradd --system "
                         f"--home {STATE_DIR} {name}) or pass --owner") from None
    return entry.pw_uid, entry.pw_gid


def _chown(path: Path, ids: tuple[int, int] | None) -> None:
    if ids is not None:
        os.chown(path, *ids)


def apply_bundle(bundle: Path, root: Path = Path("/"), *, enable: bool = False,
                 owner: str | None = None, force: bool = False,
                 source: Path = PROJECT_ROOT) -> Applied:
    """Installs the bundle's files under root; with enable, also turns the services on."""
    manifest, files = read_bundle(bundle)
    # the release that came with the bundle: installed offline, and its units and rule used
    source = install_bundled_release(bundle, root) or source
    if not (source / "systemd" / TERMINAL_UNITS[0]).is_file():
        raise FleetError(f"{source} is not a Kassa source tree (no systemd/ units); "
                         "pass --source with the checkout cloud-init made")
    ids = _owner(root, owner)
    key_dest = _under(root, DESTINATIONS["journal_ed25519.pem"])
    if key_dest.exists() and key_dest.read_bytes() != files["journal_ed25519.pem"] and not force:
        raise FleetError(f"{key_dest} holds another journal key; this terminal's journal is "
                         "signed with it. Re-image the card or pass --force knowingly")
    installed: list[Path] = []
    for sub in (ETC, ETC / "keys", ETC / "tls", STATE_DIR):
        d = _under(root, sub)
        d.mkdir(parents=True, exist_ok=True)
        os.chmod(d, 0o750 if sub != ETC / "keys" else 0o700)
        _chown(d, ids)
    for name, dest in DESTINATIONS.items():
        path = write_file(_under(root, dest), files[name], 0o644 if name in PUBLIC_FILES else 0o600)
        _chown(path, ids)
        installed.append(path)
    installed += _install_system_files(root, source)
    if enable:
        _enable(root)
    return Applied(manifest["store"], manifest["terminal"], installed, enable)


def _install_system_files(root: Path, source: Path) -> list[Path]:
    out: list[Path] = []
    units = _under(root, PurePosixPath("/etc/systemd/system"))
    for name in TERMINAL_UNITS:
        out.append(write_file(units / name, (source / "systemd" / name).read_bytes(), 0o644))
    rules = _under(root, PurePosixPath("/etc/udev/rules.d"))
    for rule in sorted((source / "provisioning" / "udev").glob("*.rules")):
        out.append(write_file(rules / rule.name, rule.read_bytes(), 0o644))
    return out


def _run(argv: list[str]) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise FleetError(f"{' '.join(argv)} failed: {result.stderr.strip()}")


def _enable(root: Path) -> None:
    systemctl = shutil.which("systemctl") or "systemctl"
    if root != Path("/"):
        _run([systemctl, f"--root={root}", "enable", *TERMINAL_UNITS])
        return
    _run([systemctl, "daemon-reload"])
    udevadm = shutil.which("udevadm")
    if udevadm:
        _run([udevadm, "control", "--reload-rules"])
        _run([udevadm, "trigger"])
    _run([systemctl, "enable", "--now", *TERMINAL_UNITS])
