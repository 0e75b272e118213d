"""The release manifest: version, architectures, the install requirement and the SHA-256 of
every file in the artifact. Its exact bytes (canonical JSON) are what the release key signs.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from provisioning.release.errors import ArtifactMalformed

FORMAT = 1
MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"  # hex of the 64-byte Ed25519 signature of manifest.json
ARCHES = ("aarch64", "x86_64")
_ARCH_ALIASES = {"arm64": "aarch64", "aarch64": "aarch64", "amd64": "x86_64", "x86_64": "x86_64"}
# a version names a directory under releases/: PEP 440 public/local versions only
VERSION_RE = re.compile(r"^[0-9]+(\.[0-9]+)*((a|b|rc|\.post|\.dev)[0-9]+)*(\+[a-z0-9.]+)?$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def normalize_arch(arch: str) -> str:
    """`arm64`/`aarch64` and `amd64`/`x86_64` name the same CPUs (Debian vs kernel names)."""
    try:
        return _ARCH_ALIASES[arch.lower()]
    except KeyError:
        raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(ARCHES)}") from None


def host_arch() -> str:
    return normalize_arch(platform.machine())


def key_id(public_raw: bytes) -> str:
    """A short name for a release public key, shown in errors and `kassa release key`."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def wheel_dir(arch: str) -> str:
    return f"wheels/{arch}"


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    version: str
    arches: tuple[str, ...]
    requirement: str          # what pip installs from the wheels, e.g. kassa[till]==0.2.0
    python: str               # the CPython minor version the wheels are for
    key_id: str               # the release key that signed it (informative; the signature decides)
    built_at: str
    files: Mapping[str, FileEntry] = field(default_factory=dict)
    format: int = FORMAT

    def to_bytes(self) -> bytes:
        data = {
            "format": self.format, "name": "kassa", "version": self.version,
            "arches": list(self.arches), "requirement": self.requirement,
            "python": self.python, "key_id": self.key_id, "built_at": self.built_at,
            "files": {name: {"sha256": f.sha256, "size": f.size}
                      for name, f in sorted(self.files.items())},
        }
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def files_for(self, arch: str) -> list[str]:
        prefix = wheel_dir(arch) + "/"
        return sorted(n for n in self.files if n.startswith(prefix))

    @classmethod
    def from_bytes(cls, data: bytes, source: str) -> Manifest:
        """Parses signed manifest bytes; anything unexpected is ArtifactMalformed."""
        def bad(reason: str) -> ArtifactMalformed:
            return ArtifactMalformed(source, f"manifest.json: {reason}")

        try:
            raw = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise bad(f"not JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise bad("not an object")
        if raw.get("format") != FORMAT:
            raise bad(f"format {raw.get('format')!r}, this Kassa reads format {FORMAT}")
        if raw.get("name") != "kassa":
            raise bad(f"name {raw.get('name')!r} is not kassa")
        version = raw.get("version")
        if not isinstance(version, str) or not VERSION_RE.match(version):
            raise bad(f"version {version!r} is not a plain release version")
        arches = raw.get("arches")
        if not isinstance(arches, list) or not arches or any(a not in ARCHES for a in arches):
            raise bad(f"arches {arches!r}: expected a non-empty list of {', '.join(ARCHES)}")
        for name in ("requirement", "python", "key_id", "built_at"):
            if not isinstance(raw.get(name), str) or not raw[name]:
                raise bad(f"{name} missing or not a string")
        files = raw.get("files")
        if not isinstance(files, dict) or not files:
            raise bad("files missing or empty")
        entries: dict[str, FileEntry] = {}
        for name, entry in files.items():
            check_member_name(name, source)
            if (not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str)
                    or not _HEX64.match(entry["sha256"]) or not isinstance(entry.get("size"), int)
                    or isinstance(entry.get("size"), bool) or entry["size"] < 0):
                raise bad(f"files[{name!r}] needs a hex sha256 and a size")
            entries[name] = FileEntry(entry["sha256"], entry["size"])
        for arch in arches:
            if not any(n.startswith(wheel_dir(arch) + "/") for n in entries):
                raise bad(f"lists {arch} but carries no {wheel_dir(arch)}/ files")
        return cls(version=version, arches=tuple(arches), requirement=raw["requirement"],
                   python=raw["python"], key_id=raw["key_id"], built_at=raw["built_at"],
                   files=entries, format=FORMAT)


_MEMBER = re.compile(r"^[A-Za-z0-9._+@-]+(/[A-Za-z0-9._+@-]+)*$")


def check_member_name(name: str, source: str) -> None:
    """Relative, plain and without `..`: nothing in an artifact may land outside its slot."""
    if (not isinstance(name, str) or not _MEMBER.match(name)
            or any(part in (".", "..") for part in name.split("/"))):
        raise ArtifactMalformed(source, f"unsafe file name {name!r}")
