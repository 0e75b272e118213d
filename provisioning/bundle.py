"""An enrollment bundle: everything one terminal needs, in one private directory.

    kassa.toml           the terminal's config (parse_config-valid; paths point into /etc/kassa)
    journal_ed25519.pem  the journal signing key (PKCS8 PEM, what firmware/signing.py loads)
    ca.crt client.crt client.key   the MQTT TLS identity (CN = terminal id)
    office_ed25519.pub   head office's public key (PEM): the till applies only downstream
                         messages sealed with its private half (contract/sealed.py)
    user-data meta-data  cloud-init (NoCloud) for Raspberry Pi OS: copy both to the boot partition
    bundle.json          store, terminal and the sha256 of every file, checked by `apply`

Every file is 0600 and the directory 0700: the bundle holds the terminal's secrets. On the
terminal the office key is installed 0644 beside kassa.toml (it is public; the uplink, running
as the kassa user, reads it), everything else as before.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from contract.config import parse_config
from provisioning.fleet import Settings
from provisioning.identity import StoreIdentity
from provisioning.secure import private_dir, write_file

ETC = PurePosixPath("/etc/kassa")
STATE_DIR = PurePosixPath("/var/lib/kassa")
INSTALL_DIR = PurePosixPath("/opt/kassa")
STAGING = PurePosixPath("/root/kassa-bundle")
# bundle file name -> where `apply` puts it on the terminal
DESTINATIONS = {
    "kassa.toml": ETC / "kassa.toml",
    "journal_ed25519.pem": ETC / "keys" / "journal_ed25519.pem",
    "ca.crt": ETC / "tls" / "ca.crt",
    "client.crt": ETC / "tls" / "client.crt",
    "client.key": ETC / "tls" / "client.key",
    "office_ed25519.pub": ETC / "office_ed25519.pub",
}
PUBLIC_FILES = frozenset({"office_ed25519.pub"})  # installed 0644, not 0600
TERMINAL_GROUPS = ("input", "lp", "gpio", "video", "render")
FIRST_BOOT_PACKAGES = ("git", "python3-venv", "python3-pip", "libgl1-mesa-dri", "libmtdev1")


@dataclass(frozen=True)
class BundleFiles:
    signing_key: bytes
    ca_cert: bytes
    client_cert: bytes
    client_key: bytes
    office_public_key: bytes  # PEM


def _q(value: str) -> str:
    """A TOML (and YAML) basic string: JSON's escaping is valid in both."""
    return json.dumps(value)


def identity_lines(identity: StoreIdentity | None) -> list[str]:
    """The company's legal identity as [terminal] keys (the receipt header reads them there);
    none: the demo identity stays, and the till refuses it outside --demo/--sim."""
    if identity is None:
        return ["# no legal identity given: demo shop identity; `kassa till` runs only with "
                "--demo or --sim"]
    return [
        "# the company's legal identity, printed on every receipt and Z report",
        f"shop_name = {_q(identity.name)}",
        f"address = {_q(identity.address)}",
        f"vat_number = {_q(identity.vat_number)}",
        f"kvk_number = {_q(identity.kvk_number)}",
    ]


def kassa_toml(settings: Settings, store: str, terminal: str, hardware: str = "",
               identity: StoreIdentity | None = None) -> str:
    text = "\n".join([
        f"# Kassa terminal {terminal} of store {store}; written by `kassa provision enroll`.",
        "",
        "[terminal]",
        f"store = {_q(store)}",
        f"terminal = {_q(terminal)}",
        f"name = {_q(terminal)}",
        f"signing_key = {_q(str(DESTINATIONS['journal_ed25519.pem']))}",
        *identity_lines(identity),
        "",
        "[database]",
        f"path = {_q(str(STATE_DIR / 'kassa.sqlite3'))}",
        "",
        "[mqtt]",
        "enabled = true",
        f"host = {_q(settings.broker_host)}",
        f"port = {settings.broker_port}",
        f"ca_file = {_q(str(DESTINATIONS['ca.crt']))}",
        f"cert_file = {_q(str(DESTINATIONS['client.crt']))}",
        f"key_file = {_q(str(DESTINATIONS['client.key']))}",
        "# head office's public key: downstream messages must carry its seal",
        f"office_public_key = {_q(str(DESTINATIONS['office_ed25519.pub']))}",
        "",
    ])
    if hardware.strip():
        text += "\n# hardware profile\n" + hardware.strip() + "\n"
    return text


def user_data(settings: Settings, terminal: str, files: dict[str, bytes]) -> str:
    """cloud-config: the kassa user, packages, the bundle staged for root, then `apply`."""
    lines = [
        "#cloud-config",
        f"# Kassa terminal {terminal}. Holds the terminal's private keys: keep the SD card safe.",
        f"hostname: {_q(terminal)}",
        "users:",
        "  - default",
        "  - name: kassa",
        "    system: true",
        f"    homedir: {STATE_DIR}",
        "    shell: /usr/sbin/nologin",
        "    lock_passwd: true",
        f"    groups: [{', '.join(TERMINAL_GROUPS)}]",
        "package_update: true",
        "packages:",
        *[f"  - {p}" for p in FIRST_BOOT_PACKAGES],
        "write_files:",
    ]
    for name, data in sorted(files.items()):
        lines += [
            f"  - path: {_q(str(STAGING / name))}",
            "    owner: root:root",
            "    permissions: '0600'",
            "    encoding: b64",
            f"    content: {base64.b64encode(data).decode()}",
        ]
    # a git install is a slot of its own: the units run /opt/kassa/current/venv/bin/kassa
    venv = INSTALL_DIR / "releases" / "git" / "venv"
    script = " && ".join([
        "set -e",
        f"git clone --depth 1 --branch {settings.ref} {settings.source} {INSTALL_DIR / 'src'}",
        f"python3 -m venv {venv}",
        f"{venv}/bin/pip install '{INSTALL_DIR / 'src'}[till]'",
        f"ln -sfn releases/git {INSTALL_DIR / 'current'}",
        f"{venv}/bin/kassa provision apply {STAGING} --source {INSTALL_DIR / 'src'} --enable",
        f"rm -rf {STAGING}",
    ])
    lines += [
        "runcmd:",
        f"  - [sh, -c, {_q(script)}]",
        "final_message: \"Kassa provisioned after $UPTIME seconds\"",
        "",
    ]
    return "\n".join(lines)


def meta_data(terminal: str) -> str:
    return f"instance-id: kassa-{terminal}\nlocal-hostname: {terminal}\n"


def write_bundle(directory: Path, settings: Settings, store: str, terminal: str,
                 files: BundleFiles, hardware: str = "",
                 identity: StoreIdentity | None = None) -> Path:
    """Writes the bundle; the config is parsed with the firmware's own parser first."""
    toml = kassa_toml(settings, store, terminal, hardware, identity)
    parse_config(toml, source=f"bundle {terminal}/kassa.toml")
    payload = {
        "kassa.toml": toml.encode(),
        "journal_ed25519.pem": files.signing_key,
        "ca.crt": files.ca_cert,
        "client.crt": files.client_cert,
        "client.key": files.client_key,
        "office_ed25519.pub": files.office_public_key,
    }
    manifest = {
        "store": store,
        "terminal": terminal,
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in payload.items()},
    }
    payload["bundle.json"] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    private_dir(directory)
    for name, data in payload.items():
        write_file(directory / name, data)
    write_file(directory / "user-data", user_data(settings, terminal, payload))
    write_file(directory / "meta-data", meta_data(terminal))
    return directory
