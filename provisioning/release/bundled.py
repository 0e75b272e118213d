"""A release that travels with an enrollment bundle, so a terminal's first install needs no
network: `kassa release stage` puts it in, `kassa provision apply` installs it.

    <bundle>/release/release.pub         the fleet release key, pinned at /etc/kassa/keys/
    <bundle>/release/kassa-<version>.tar  the signed artifact
"""

from __future__ import annotations

import shutil
from pathlib import Path, PurePosixPath

from provisioning.release.errors import ArtifactMalformed, WrongArch
from provisioning.release.install import install_release, switch_current
from provisioning.release.keys import public_text, read_public_key
from provisioning.release.manifest import host_arch
from provisioning.release.verify import verify_artifact
from provisioning.secure import write_file

RELEASE_SUBDIR = "release"
PUB_NAME = "release.pub"
PINNED_PUB = PurePosixPath("/etc/kassa/keys/release.pub")
INSTALL_ROOT = PurePosixPath("/opt/kassa")


def stage_release(bundle: Path, artifact: Path, release_pub: Path) -> Path:
    """Copies the artifact and the release public key into the bundle, after checking that
    the key verifies the artifact (for every architecture it carries)."""
    public = read_public_key(release_pub)
    try:
        manifest = verify_artifact(artifact, public, host_arch())
    except WrongArch as exc:  # an admin's x86_64 laptop staging an aarch64-only release
        manifest = verify_artifact(artifact, public, exc.available[0])
    target = bundle / RELEASE_SUBDIR
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(mode=0o700)
    write_file(target / PUB_NAME, public_text(public))
    shutil.copyfile(artifact, target / f"kassa-{manifest.version}.tar")
    return target / f"kassa-{manifest.version}.tar"


def install_bundled_release(bundle: Path, root: Path, *, python: str | None = None) -> Path | None:
    """Pins the bundle's release key under root and installs and switches to its release;
    returns the slot (a tree with systemd/ and provisioning/udev/), or None without one."""
    staged = bundle / RELEASE_SUBDIR
    if not staged.is_dir():
        return None
    artifacts = sorted(staged.glob("kassa-*.tar"))
    if len(artifacts) != 1:
        raise ArtifactMalformed(str(staged), f"expected one kassa-VERSION.tar, found {len(artifacts)}")
    public = read_public_key(staged / PUB_NAME)
    install_root = root / INSTALL_ROOT.relative_to("/")
    slot = install_release(artifacts[0], install_root, release_public_key=public, python=python)
    write_file(root / PINNED_PUB.relative_to("/"), public_text(public), 0o644)
    switch_current(install_root, slot.name)
    return slot
