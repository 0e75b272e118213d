"""Releases side by side on a terminal, installed offline from a verified artifact.

    <root>/releases/<version>/   manifest.json manifest.sig systemd/ provisioning/udev/ venv/
                                 .complete (the units and rule as laid out in the source tree)
    <root>/current  -> releases/<version>     what the systemd units run
    <root>/previous -> releases/<version>     kept for rollback

A slot without `.complete` is a crash mid-install: it is never switched to, and the next
install of that version wipes and redoes it. Links change by rename(2), so `current` always
names a whole slot, old or new, whatever moment the power goes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from contract.keys import PublicKey
from provisioning.release.errors import InstallFailed, NoSuchRelease
from provisioning.release.manifest import (
    MANIFEST_NAME,
    SIGNATURE_NAME,
    VERSION_RE,
    Manifest,
    host_arch,
    normalize_arch,
    wheel_dir,
)
from provisioning.release.verify import extract_verified, verify_artifact

DEFAULT_ROOT = Path("/opt/kassa")
COMPLETE = ".complete"
CURRENT, PREVIOUS = "current", "previous"
PIP_TIMEOUT = 1800  # seconds; a Pi 4 under load, or qemu, is slow


def slot_path(root: Path, version: str) -> Path:
    if not VERSION_RE.match(version):
        raise NoSuchRelease(str(root), version, "not a release version")
    return root / "releases" / version


def is_complete(slot: Path) -> bool:
    return (slot / COMPLETE).is_file() and (slot / "venv" / "bin" / "kassa").exists()


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """One installer at a time per root (the updater, `provision apply`, an admin by hand)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".release.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@contextlib.contextmanager
def _readable_by_all() -> Iterator[None]:
    """The service user must read and run the slot, whatever umask the installer has
    (`kassa provision` works under 0077)."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def offline_pip_env() -> dict[str, str]:
    """The environment for pip on a terminal: no config file, no index, no PIP_* from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_INPUT="1")
    return env


def _run(version: str, step: str, argv: list[str], timeout: int, cwd: Path) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=cwd,
                              env=offline_pip_env(), check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InstallFailed(version, step, str(exc)) from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise InstallFailed(version, step, " | ".join(tail) or f"exit {done.returncode}")


def install_release(artifact: str | os.PathLike[str], root: Path = DEFAULT_ROOT, *,
                    release_public_key: PublicKey, arch: str | None = None,
                    python: str | None = None, timeout: int = PIP_TIMEOUT) -> Path:
    """Verifies the artifact, unpacks it into releases/<version>/ and installs its wheels
    into that slot's own venv with pip, offline. Returns the slot; `current` is untouched.

    Idempotent: a complete slot of the same build is returned as it is.
    """
    arch = normalize_arch(arch or host_arch())
    manifest = verify_artifact(artifact, release_public_key, arch)
    version = manifest.version
    digest = hashlib.sha256(manifest.to_bytes()).hexdigest()
    slot = slot_path(root, version)
    with _readable_by_all(), _locked(root):
        if is_complete(slot):
            if (slot / COMPLETE).read_text(encoding="ascii").strip() == digest:
                return slot
            raise InstallFailed(version, "slot", f"{slot} holds another build of {version}; "
                                "give the new build a new version")
        if slot.exists():  # an install that was cut off: start it again from nothing
            shutil.rmtree(slot)
        slot.mkdir(parents=True)
        names = manifest.files_for(arch)
        names += sorted(n for n in manifest.files if not n.startswith("wheels/"))
        extract_verified(artifact, manifest, names, slot)
        _copy_signed_manifest(artifact, slot)
        venv = slot / "venv"
        _run(version, "venv", [python or sys.executable, "-m", "venv", str(venv)], timeout, slot)
        wheels = slot / wheel_dir(arch)
        vpython = str(venv / "bin" / "python")
        _run(version, "pip install", [
            vpython, "-I", "-m", "pip", "install", "--no-index", "--no-cache-dir",
            "--find-links", str(wheels), manifest.requirement], timeout, slot)
        _run(version, "self-check", [str(venv / "bin" / "kassa"), "--help"], 300, slot)
        # the till's translations, compiled now while the slot is still writable
        _run(version, "translations", [vpython, "-I", "-m", "ui.i18n"], 300, slot)
        shutil.rmtree(slot / "wheels")  # installed; the SD card need not keep them twice
        with open(slot / COMPLETE, "w", encoding="ascii") as fh:
            fh.write(digest + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        _fsync_dir(slot)
        _fsync_dir(slot.parent)
    return slot


def _copy_signed_manifest(artifact: str | os.PathLike[str], slot: Path) -> None:
    """Keeps the signed manifest in the slot: what is installed can be re-checked later."""
    from provisioning.release.verify import members, open_artifact, read_member

    with open_artifact(artifact) as tar:
        found = members(tar, str(artifact))
        for name in (MANIFEST_NAME, SIGNATURE_NAME):
            (slot / name).write_bytes(read_member(tar, found[name], str(artifact), 4 << 20))


def _link_version(root: Path, name: str) -> str | None:
    try:
        target = os.readlink(root / name)
    except (FileNotFoundError, OSError):
        return None
    return Path(target).name


def current_version(root: Path = DEFAULT_ROOT) -> str | None:
    return _link_version(root, CURRENT)


def previous_version(root: Path = DEFAULT_ROOT) -> str | None:
    return _link_version(root, PREVIOUS)


def installed_manifest(root: Path, version: str) -> Manifest:
    """The signed manifest a complete slot was installed from (version, arches, files)."""
    slot = slot_path(root, version)
    if not is_complete(slot):
        raise NoSuchRelease(str(root), version, "not completely installed")
    return Manifest.from_bytes((slot / MANIFEST_NAME).read_bytes(), str(slot / MANIFEST_NAME))


def installed_versions(root: Path = DEFAULT_ROOT) -> list[str]:
    """Complete slots, oldest directory first."""
    releases = root / "releases"
    if not releases.is_dir():
        return []
    slots = [p for p in releases.iterdir() if VERSION_RE.match(p.name) and is_complete(p)]
    return [p.name for p in sorted(slots, key=lambda p: (p.stat().st_mtime, p.name))]


def _set_link(root: Path, name: str, version: str) -> None:
    tmp = root / f".{name}.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(f"releases/{version}", tmp)
    os.replace(tmp, root / name)


def switch_current(root: Path, version: str) -> str | None:
    """Points `current` at a complete slot, the old current becoming `previous`.
    Returns the version that was current (None on a first install)."""
    slot = slot_path(root, version)
    with _locked(root):
        if not is_complete(slot):
            raise NoSuchRelease(str(root), version, "not completely installed")
        old = current_version(root)
        if old == version:
            return old
        if old is not None:  # previous first: a cut here leaves current as it was
            _set_link(root, PREVIOUS, old)
        _set_link(root, CURRENT, version)
        _fsync_dir(root)
        return old


def rollback(root: Path = DEFAULT_ROOT) -> str:
    """Swaps `current` and `previous`; returns the version now current."""
    with _locked(root):
        back, now = previous_version(root), current_version(root)
        if back is None:
            raise NoSuchRelease(str(root), "", "no previous release to roll back to")
        if not is_complete(slot_path(root, back)):
            raise NoSuchRelease(str(root), back, "previous release is not completely installed")
        if now is not None and now != back:
            _set_link(root, PREVIOUS, now)
        _set_link(root, CURRENT, back)
        _fsync_dir(root)
        return back


def remove_release(root: Path, version: str) -> None:
    """Deletes a slot that is neither current nor previous (to free the SD card)."""
    slot = slot_path(root, version)
    with _locked(root):
        if version in (current_version(root), previous_version(root)):
            raise NoSuchRelease(str(root), version, "is current or previous; not removed")
        if not slot.exists():
            raise NoSuchRelease(str(root), version)
        (slot / COMPLETE).unlink(missing_ok=True)  # first: a cut mid-delete leaves it incomplete
        shutil.rmtree(slot)
