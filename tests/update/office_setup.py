"""Head office set up for the rollout tests: its sealing key, and registered terminals."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from headoffice.registry import add_terminal
from headoffice.releases import rollout


def office_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Ed25519PublicKey:
    """A head-office key of this test (KASSA_OFFICE_KEY); returns its public half."""
    key = Ed25519PrivateKey.generate()
    pem = tmp_path / "office.pem"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    monkeypatch.setenv("KASSA_OFFICE_KEY", str(pem))
    return key.public_key()


def register(terminals: tuple[str, ...], pilots: tuple[str, ...], store: str = "shop") -> None:
    for terminal in terminals:
        add_terminal(terminal, store, Ed25519PrivateKey.generate().public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex())
    for terminal in pilots:
        rollout.set_ring(terminal, "pilot")
