"""What can go wrong with a release, one type per cause, each carrying its parameters.

Every refusal happens before anything under the install root changes, so a refused
artifact never touches the running version.
"""

from __future__ import annotations


class ReleaseError(Exception):
    """Base of every release error; the message names the artifact and the cause."""


class ArtifactMalformed(ReleaseError):
    """Not a release artifact: unreadable tar, unsafe member, missing or unlisted file."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: not a valid release artifact: {reason}")
        self.path, self.reason = path, reason


class SignatureRefused(ReleaseError):
    """The manifest is not signed by the trusted release key (another key, or forged)."""

    def __init__(self, path: str, trusted_key_id: str, claimed_key_id: str) -> None:
        claim = f"it names key {claimed_key_id}" if claimed_key_id else "it names no key"
        super().__init__(f"{path}: manifest signature does not verify with the trusted "
                         f"release key {trusted_key_id} ({claim})")
        self.path, self.trusted_key_id, self.claimed_key_id = path, trusted_key_id, claimed_key_id


class HashMismatch(ReleaseError):
    """A file's bytes differ from the SHA-256 the signed manifest gives for it."""

    def __init__(self, path: str, member: str, expected: str, actual: str) -> None:
        super().__init__(f"{path}: {member} has SHA-256 {actual[:16]}…, the signed manifest "
                         f"says {expected[:16]}… (damaged or tampered)")
        self.path, self.member, self.expected, self.actual = path, member, expected, actual


class WrongArch(ReleaseError):
    """The artifact carries no wheels for this terminal's CPU architecture."""

    def __init__(self, path: str, arch: str, available: tuple[str, ...]) -> None:
        super().__init__(f"{path}: built for {', '.join(available) or 'no architecture'}, "
                         f"not for {arch}")
        self.path, self.arch, self.available = path, arch, available


class InstallFailed(ReleaseError):
    """A verified release could not be installed; the slot is left incomplete, never current."""

    def __init__(self, version: str, step: str, detail: str) -> None:
        super().__init__(f"release {version}: {step} failed: {detail}")
        self.version, self.step, self.detail = version, step, detail


class NoSuchRelease(ReleaseError):
    """A switch or rollback names a slot that is not (completely) installed."""

    def __init__(self, root: str, version: str, reason: str = "not installed") -> None:
        super().__init__(f"{root}: release {version or '(none)'}: {reason}")
        self.root, self.version, self.reason = root, version, reason


class BuildFailed(ReleaseError):
    """Building an artifact stopped at a step (wheel build, download, signing)."""

    def __init__(self, step: str, detail: str) -> None:
        super().__init__(f"release build: {step}: {detail}")
        self.step, self.detail = step, detail


class NoBinaryWheel(BuildFailed):
    """A dependency has no wheel for an architecture and no root to compile it in was given."""

    def __init__(self, requirement: str, arch: str) -> None:
        super().__init__(f"wheels for {arch}", f"{requirement} has no {arch} wheel for "
                         f"CPython 3.11; give a Debian root to compile it in "
                         f"(--builder-root {arch}=DIR, see scripts/arm64-root)")
        self.requirement, self.arch = requirement, arch
