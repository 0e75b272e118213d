"""The slots a terminal keeps under the releases directory, as the updater needs them.

The artifact format, its verification and the slot layout belong to provisioning/release/
(`verify_artifact`, `install_release`, `switch_current`, `rollback`); the updater reaches
them only through the `Installer` protocol below, so the updater's state machine and its
power-cut tests do not depend on how a slot is built. `ReleaseInstaller` binds the protocol
to provisioning.release.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Protocol

from updater.state import sync_dir


class ArtifactRefused(Exception):
    """An artifact that must not be installed: `reason` is signature, hash, arch or version;
    `detail` says what exactly. The running version is left untouched."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


class Installer(Protocol):
    def verify(self, artifact: Path, arch: str) -> str:
        """Checks the artifact's signed manifest and every file's hash and that it carries
        `arch`; returns its release version. Raises ArtifactRefused."""

    def install(self, artifact: Path, arch: str) -> None:
        """Makes the artifact's slot complete; a half-made slot (a power cut) is made again.
        Never touches `current`. Raises ArtifactRefused when it cannot be installed."""

    def switch(self, version: str) -> None:
        """Points `current` at `version` (and `previous` at what was current) atomically."""

    def current(self) -> str | None:
        """The version `current` points at, or None when there is no `current` yet."""


def link_version(link: Path) -> str | None:
    """The slot name a link such as <root>/current points at."""
    try:
        return Path(os.readlink(link)).name
    except (FileNotFoundError, OSError):
        return None


def point_link(link: Path, target: Path) -> None:
    """Replaces `link` by one to `target` in one rename: it is the old or the new one, never
    missing, whenever the power goes."""
    tmp = link.with_name(f".{link.name}.new")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link)
    sync_dir(link.parent)


def slot_link(root: Path, version: str) -> Path:
    """What a link under `root` holds to name a slot: releases/<version>, relative, as
    provisioning/release/ writes `current` and `previous`."""
    return Path("releases") / version


class ReleaseInstaller:
    """Installer on provisioning/release/ (the artifact format, its checks and the slots):
    `verify_artifact`, `install_release`, `switch_current`, `current_version`."""

    def __init__(self, root: Path, release_key_path: Path) -> None:
        self.root = root
        self.release_key_path = release_key_path

    def _key(self):  # noqa: ANN202 - contract.keys.PublicKey
        from provisioning.release.keys import read_public_key

        return read_public_key(self.release_key_path)

    def verify(self, artifact: Path, arch: str) -> str:
        from provisioning import release

        reasons = {release.SignatureRefused: "signature", release.HashMismatch: "hash",
                   release.WrongArch: "arch", release.ArtifactMalformed: "malformed"}
        try:
            manifest = release.verify_artifact(artifact, self._key(), arch)
        except release.ReleaseError as exc:
            raise ArtifactRefused(reasons.get(type(exc), "release"), str(exc)) from None
        return str(manifest.version)

    def install(self, artifact: Path, arch: str) -> None:
        from provisioning import release

        try:
            release.install_release(artifact, self.root, release_public_key=self._key(),
                                    arch=arch)
        except release.ReleaseError as exc:
            raise ArtifactRefused("install", str(exc)) from None

    def switch(self, version: str) -> None:
        from provisioning import release

        release.switch_current(self.root, version)

    def current(self) -> str | None:
        return link_version(self.root / "current")
