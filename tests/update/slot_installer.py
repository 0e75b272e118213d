"""A stand-in artifact format and Installer for the updater's tests, until provisioning/release/
(the real artifact: wheels, units, signed manifest) is merged; the updater reaches either one
only through updater.slots.Installer.

An artifact here is a tar of `manifest.json` (version, arch list, SHA-256 of every file),
`manifest.sig` (Ed25519 over the manifest by the release key, hex) and `payload/`: Kassa's
packages as source. A slot is <root>/releases/<version>/ with src/ and venv/bin/kassa (the links at <root>, as
provisioning/release/ lays them out), a launcher
that runs this interpreter on the slot's own source.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from updater.slots import ArtifactRefused, link_version, point_link, slot_link

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("cli", "contract", "firmware", "drivers", "ui", "updater", "provisioning", "headoffice")


def build_artifact(out: Path, version: str, key: Ed25519PrivateKey, arch: tuple[str, ...] = (
        "x86_64", "aarch64"), broken: bool = False, tamper: bool = False) -> Path:
    """An artifact of this checkout claiming `version`; `broken`: its till exits at start;
    `tamper`: one file changed after signing (its hash is wrong)."""
    files: dict[str, bytes] = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                files[str(path.relative_to(REPO))] = path.read_bytes()
    files["contract/version.py"] = (
        b'"""The software version."""\n\nSOFTWARE_VERSION = "' + version.encode() + b'"\n')
    if broken:
        files["cli/till_headless.py"] = (b'"""A broken release: the till exits at start."""\n\n'
                                         b'import sys\n\n\ndef run_headless(config):\n'
                                         b'    sys.exit(3)\n')
    manifest = {"version": version, "arch": list(arch),
                "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}}
    manifest_bytes = json.dumps(manifest, sort_keys=True).encode()
    if tamper:
        files["firmware/journal.py"] += b"\n# changed after signing\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(out, "w") as tar:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        add("manifest.json", manifest_bytes)
        add("manifest.sig", key.sign(manifest_bytes).hex().encode())
        for name, data in files.items():
            add("payload/" + name, data)
    return out


class SlotInstaller:
    def __init__(self, root: Path, release_key_path: Path) -> None:
        self.root = root
        self.releases_dir = root / "releases"
        self.key = Ed25519PublicKey.from_public_bytes(
            bytes.fromhex(release_key_path.read_text().strip()))

    def _read(self, artifact: Path) -> tuple[dict, dict[str, bytes]]:
        with tarfile.open(artifact) as tar:
            members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
        return json.loads(members["manifest.json"]), members

    def verify(self, artifact: Path, arch: str) -> str:
        manifest, members = self._read(artifact)
        try:
            self.key.verify(bytes.fromhex(members["manifest.sig"].decode()),
                            members["manifest.json"])
        except Exception:
            raise ArtifactRefused("signature", "manifest not signed by the fleet release key"
                                  ) from None
        if arch not in manifest["arch"]:
            raise ArtifactRefused("arch", f"built for {manifest['arch']}, this is {arch}")
        for name, digest in manifest["files"].items():
            data = members.get("payload/" + name)
            if data is None or hashlib.sha256(data).hexdigest() != digest:
                raise ArtifactRefused("hash", f"{name} does not match the manifest")
        return manifest["version"]

    def install(self, artifact: Path, arch: str) -> None:
        manifest, members = self._read(artifact)
        slot = self.releases_dir / manifest["version"]
        if (slot / ".complete").exists():
            return
        work = self.releases_dir / f".{manifest['version']}.partial"
        shutil.rmtree(work, ignore_errors=True)
        for name, data in members.items():
            if name.startswith("payload/"):
                target = work / "src" / name.removeprefix("payload/")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        launcher = work / "venv" / "bin" / "kassa"
        launcher.parent.mkdir(parents=True)
        launcher.write_text(f"#!/bin/sh\ncd {slot}/src && PYTHONPATH={slot}/src exec {sys.executable} -m cli "
                            '"$@"\n')
        launcher.chmod(0o755)
        (work / ".complete").write_text(manifest["version"])
        shutil.rmtree(slot, ignore_errors=True)
        os.replace(work, slot)

    def switch(self, version: str) -> None:
        current = self.root / "current"
        before = link_version(current)
        if before == version:
            return
        if before:
            point_link(self.root / "previous", slot_link(self.root, before))
        point_link(current, slot_link(self.root, version))

    def current(self) -> str | None:
        return link_version(self.root / "current")
