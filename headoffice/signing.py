"""Head office's own Ed25519 key, and the fingerprints people compare keys by.

Head office signs what it hands downstream of itself (today: the manifest of a journal
export, so an accountant can tell a complete export from a trimmed one). The key is one file,
PKCS8 PEM, created with mode 0600 the first time it is needed; its place is
$KASSA_OFFICE_KEY, else `var/office_ed25519.pem` beside the development database. Back it up
with the database: a new key still verifies, but its fingerprint differs from the one the
accountant was given.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_ENV = "KASSA_OFFICE_KEY"
DEV_KEY_PATH = Path(__file__).resolve().parent.parent / "var" / "office_ed25519.pem"


class OfficeKeyError(ValueError):
    """The office key file exists but cannot be used; carries the path and the reason."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"office key {path}: {reason}")
        self.path = path
        self.reason = reason


def key_path(path: str | os.PathLike[str] | None = None) -> Path:
    return Path(path or os.environ.get(KEY_ENV) or DEV_KEY_PATH)


def office_key(path: str | os.PathLike[str] | None = None) -> Ed25519PrivateKey:
    """The office signing key, created (0600, parents 0700) when the file does not exist yet."""
    where = key_path(path)
    if where.exists():
        try:
            key = serialization.load_pem_private_key(where.read_bytes(), password=None)
        except (ValueError, TypeError) as exc:
            raise OfficeKeyError(where, f"not a PEM private key ({exc})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise OfficeKeyError(where, "not an Ed25519 key")
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    where.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # O_EXCL: two processes creating it at once keep one key, the loser reads the winner's
    try:
        fd = os.open(where, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return office_key(where)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key


def raw_public(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public_key_hex: str) -> str:
    """SHA-256 of the raw 32-byte key, hex in groups of four: what one reads aloud to compare."""
    digest = hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest()
    return " ".join(digest[i:i + 4] for i in range(0, len(digest), 4))
