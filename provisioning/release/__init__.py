"""Signed releases: one artifact per version, verified and installed offline on a terminal.

The terminal side (imports only `contract` and the standard library, never head office):

    verify_artifact(path, release_public_key, arch) -> Manifest        verify.py
    install_release(artifact, root, release_public_key, arch) -> Path  install.py
    switch_current(root, version) / rollback(root) / current_version(root)
    previous_version(root) / installed_versions(root) / installed_manifest(root, version)
    remove_release(root, version)

The fleet admin's side builds and signs artifacts (build.py) with the release key that
`kassa provision init` makes beside the fleet CA (keys.py). Errors are typed (errors.py).
"""

from provisioning.release.errors import (
    ArtifactMalformed,
    HashMismatch,
    InstallFailed,
    NoSuchRelease,
    ReleaseError,
    SignatureRefused,
    WrongArch,
)
from provisioning.release.install import (
    current_version,
    install_release,
    installed_manifest,
    installed_versions,
    previous_version,
    remove_release,
    rollback,
    switch_current,
)
from provisioning.release.manifest import Manifest
from provisioning.release.verify import verify_artifact

__all__ = [
    "ArtifactMalformed", "HashMismatch", "InstallFailed", "Manifest", "NoSuchRelease",
    "ReleaseError", "SignatureRefused", "WrongArch", "current_version", "install_release",
    "installed_manifest", "installed_versions", "previous_version", "remove_release", "rollback",
    "switch_current", "verify_artifact",
]
