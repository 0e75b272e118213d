"""The terminal's Ed25519 journal key: loaded from provisioning, or a dev key made once.

Read and signed through libsodium (contract/keys.py JournalKey), so the till does not load
cryptography's 8 MB Rust library; the PEM is the same PKCS#8 file provisioning writes.
"""

from __future__ import annotations

import os
from pathlib import Path

from contract.keys import JournalKey


def load_or_create_key(path: str | os.PathLike[str]) -> JournalKey:
    """Loads the PEM private key at path; creates a dev key (mode 0600) if there is none."""
    path = Path(path)
    if path.exists():
        try:
            return JournalKey.from_pem(path.read_bytes())
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
    key = JournalKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.to_pem())
        fh.flush()
        os.fsync(fh.fileno())
    return key
