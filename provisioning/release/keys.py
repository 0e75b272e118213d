"""The fleet release key: Ed25519, kept beside the fleet CA, made by `kassa provision init`.

    <fleet>/release/release.key   PKCS#8 PEM, 0600: signs manifests (`kassa release build`)
    <fleet>/release/release.pub   hex of the raw public key: pinned on every terminal
"""

from __future__ import annotations

from pathlib import Path

from contract.keys import JournalKey, JournalPublicKey
from provisioning.release.errors import ReleaseError
from provisioning.secure import private_dir, write_file, write_new_file


def release_key_path(fleet_root: Path) -> Path:
    return fleet_root / "release" / "release.key"


def release_pub_path(fleet_root: Path) -> Path:
    return fleet_root / "release" / "release.pub"


def create_release_key(fleet_root: Path) -> Path:
    """Makes the key pair; refuses to replace an existing key (terminals pin its public half)."""
    private_dir(fleet_root / "release")
    key = JournalKey.generate()
    write_new_file(release_key_path(fleet_root), key.to_pem())
    write_file(release_pub_path(fleet_root), public_text(key.public_key()), 0o644)
    return release_key_path(fleet_root)


def public_text(public: JournalPublicKey) -> str:
    return public.public_bytes_raw().hex() + "\n"


def load_release_key(fleet_root: Path) -> JournalKey:
    path = release_key_path(fleet_root)
    try:
        return JournalKey.from_pem(path.read_bytes())
    except FileNotFoundError:
        raise ReleaseError(f"{path}: no release key; `kassa release key --create` makes one "
                           "for a fleet made before releases existed") from None
    except ValueError as exc:
        raise ReleaseError(f"{path}: not an Ed25519 private key: {exc}") from None


def read_public_key(path: Path) -> JournalPublicKey:
    """A pinned release public key: 64 hex digits (release.pub)."""
    try:
        text = path.read_text(encoding="ascii").strip()
        return JournalPublicKey(bytes.fromhex(text))
    except FileNotFoundError:
        raise ReleaseError(f"{path}: no release public key") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReleaseError(f"{path}: not a release public key (64 hex digits): {exc}") from None
