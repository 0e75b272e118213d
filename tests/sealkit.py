"""Head office's signing key for tests: a private key file (what `KASSA_OFFICE_KEY` names)
and its public half as the PEM a terminal pins, and sealed downstream payloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contract.keys import public_key_pem
from headoffice.downstream_send import sealed_payload
from headoffice.signing import KEY_ENV, office_key


class OfficeKeys:
    """Head office's key in `directory`: `private` (PKCS8 PEM), `public` (the pinned PEM)."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.private = directory / "office_ed25519.pem"
        self.key: Ed25519PrivateKey = office_key(self.private)
        self.public = directory / "office_ed25519.pub"
        self.public.write_bytes(public_key_pem(self.key))

    def mqtt_line(self) -> str:
        """The [mqtt] key that pins it in a terminal's config."""
        return f'office_public_key = "{self.public}"\n'

    def seal(self, kind: str, store: str, body: dict[str, Any]) -> bytes:
        return sealed_payload(kind, store, body, self.key)


def office_keys(tmp_path: Path, monkeypatch: Any) -> OfficeKeys:
    """A key for this test, also head office's default one (subprocesses inherit it)."""
    keys = OfficeKeys(tmp_path / "office-key")
    monkeypatch.setenv(KEY_ENV, str(keys.private))
    return keys
