"""Checking an artifact before anything is installed: tar shape, signature, architecture and
the SHA-256 of every file. Reads the artifact only; never writes."""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from pathlib import Path

from contract.keys import PublicKey, verifies
from provisioning.release.errors import ArtifactMalformed, HashMismatch, SignatureRefused, WrongArch
from provisioning.release.manifest import (
    MANIFEST_NAME,
    SIGNATURE_NAME,
    Manifest,
    check_member_name,
    key_id,
    normalize_arch,
)

_CHUNK = 1 << 20
MAX_MANIFEST = 4 << 20


def open_artifact(path: str | os.PathLike[str]) -> tarfile.TarFile:
    try:
        return tarfile.open(path, "r:")
    except (OSError, tarfile.TarError) as exc:
        raise ArtifactMalformed(str(path), f"not a readable tar file: {exc}") from None


def members(tar: tarfile.TarFile, source: str) -> dict[str, tarfile.TarInfo]:
    """Every member by name: regular files with safe names only, no duplicates."""
    out: dict[str, tarfile.TarInfo] = {}
    try:
        infos = tar.getmembers()
    except (OSError, tarfile.TarError) as exc:
        raise ArtifactMalformed(source, f"damaged tar: {exc}") from None
    for info in infos:
        if info.isdir():
            continue
        check_member_name(info.name, source)
        if not info.isfile():
            raise ArtifactMalformed(source, f"{info.name} is not a regular file")
        if info.name in out:
            raise ArtifactMalformed(source, f"{info.name} appears twice")
        out[info.name] = info
    return out


def read_member(tar: tarfile.TarFile, info: tarfile.TarInfo, source: str, limit: int) -> bytes:
    if info.size > limit:
        raise ArtifactMalformed(source, f"{info.name} is {info.size} bytes, over {limit}")
    fh = tar.extractfile(info)
    if fh is None:
        raise ArtifactMalformed(source, f"{info.name} cannot be read")
    return fh.read()


def sha256_member(tar: tarfile.TarFile, info: tarfile.TarInfo, source: str) -> str:
    fh = tar.extractfile(info)
    if fh is None:
        raise ArtifactMalformed(source, f"{info.name} cannot be read")
    digest = hashlib.sha256()
    try:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    except (OSError, tarfile.TarError) as exc:
        raise ArtifactMalformed(source, f"{info.name}: truncated or damaged: {exc}") from None
    return digest.hexdigest()


def _claimed_key_id(data: bytes) -> str:
    """The key id an unverified manifest names, only to say which key signed it."""
    try:
        value = json.loads(data).get("key_id", "")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return ""
    return value if isinstance(value, str) else ""


def check_signature(manifest_bytes: bytes, signature_text: bytes, public_key: PublicKey,
                    source: str) -> None:
    trusted = key_id(public_key.public_bytes_raw())
    try:
        signature = bytes.fromhex(signature_text.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        raise ArtifactMalformed(source, "manifest.sig is not hex") from None
    if len(signature) != 64 or not verifies(public_key, manifest_bytes, signature):
        raise SignatureRefused(source, trusted, _claimed_key_id(manifest_bytes))


def verify_artifact(path: str | os.PathLike[str], release_public_key: PublicKey,
                    arch: str) -> Manifest:
    """The artifact's manifest, once signature, architecture and every hash check out.

    Raises ArtifactMalformed, SignatureRefused, WrongArch or HashMismatch (in that order of
    checking); the signature is checked before the manifest is even parsed.
    """
    source = str(path)
    arch = normalize_arch(arch)
    with open_artifact(path) as tar:
        found = members(tar, source)
        for name in (MANIFEST_NAME, SIGNATURE_NAME):
            if name not in found:
                raise ArtifactMalformed(source, f"no {name}")
        manifest_bytes = read_member(tar, found[MANIFEST_NAME], source, MAX_MANIFEST)
        check_signature(manifest_bytes, read_member(tar, found[SIGNATURE_NAME], source, 1024),
                        release_public_key, source)
        manifest = Manifest.from_bytes(manifest_bytes, source)
        if arch not in manifest.arches:
            raise WrongArch(source, arch, manifest.arches)
        payload = {n: i for n, i in found.items() if n not in (MANIFEST_NAME, SIGNATURE_NAME)}
        missing = sorted(set(manifest.files) - set(payload))
        if missing:
            raise ArtifactMalformed(source, f"{missing[0]} is in the manifest but not in the tar")
        extra = sorted(set(payload) - set(manifest.files))
        if extra:
            raise ArtifactMalformed(source, f"{extra[0]} is in the tar but not in the manifest")
        for name in sorted(payload):
            want = manifest.files[name]
            got = sha256_member(tar, payload[name], source)
            if got != want.sha256 or payload[name].size != want.size:
                raise HashMismatch(source, name, want.sha256, got)
    return manifest


def extract_verified(path: str | os.PathLike[str], manifest: Manifest, names: list[str],
                     dest: Path) -> None:
    """Copies the named members into dest, checking each one's hash again as it is written
    (the artifact may have changed since verify_artifact read it)."""
    source = str(path)
    with open_artifact(path) as tar:
        found = members(tar, source)
        for name in names:
            info = found.get(name)
            if info is None:
                raise ArtifactMalformed(source, f"{name} vanished from the artifact")
            fh = tar.extractfile(info)
            if fh is None:
                raise ArtifactMalformed(source, f"{name} cannot be read")
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            with open(target, "wb") as out:
                while chunk := fh.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            want = manifest.files[name].sha256
            if digest.hexdigest() != want:
                target.unlink()
                raise HashMismatch(source, name, want, digest.hexdigest())
