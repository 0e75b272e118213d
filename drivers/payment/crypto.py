"""Adyen's shared-key message protection for local Terminal API traffic.

The shop types the same key (identifier, passphrase, version) into the terminal and into
Kassa. Both derive 80 bytes with PBKDF2-HMAC-SHA1 (salt "AdyenNexoV1Salt", 4000 rounds):
HMAC key, AES-256 key and IV. Each message is AES-256-CBC encrypted with that IV XOR a fresh
16-byte nonce, and HMAC-SHA256 over the plaintext goes in the SecurityTrailer, so a tampered
or foreign message is refused before it is read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SALT = b"AdyenNexoV1Salt"
ROUNDS = 4000
CRYPTO_VERSION = 1


class ProtectionError(Exception):
    """A protected message that cannot be opened (params: reason)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the terminal message cannot be opened: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class SharedKey:
    """The key as configured on both sides; derives its material once."""

    identifier: str
    passphrase: str
    version: int

    def __post_init__(self) -> None:
        material = hashlib.pbkdf2_hmac("sha1", self.passphrase.encode(), SALT, ROUNDS, 80)
        object.__setattr__(self, "_material", material)

    @property
    def hmac_key(self) -> bytes:
        return self._material[:32]  # type: ignore[attr-defined,no-any-return]

    @property
    def cipher_key(self) -> bytes:
        return self._material[32:64]  # type: ignore[attr-defined,no-any-return]

    @property
    def iv(self) -> bytes:
        return self._material[64:80]  # type: ignore[attr-defined,no-any-return]


def _cipher(key: SharedKey, nonce: bytes) -> Cipher[modes.CBC]:
    iv = bytes(a ^ b for a, b in zip(key.iv, nonce, strict=True))
    return Cipher(algorithms.AES(key.cipher_key), modes.CBC(iv))


def protect(message: dict[str, Any], key: SharedKey) -> dict[str, Any]:
    """{"SaleToPOIRequest"|"SaleToPOIResponse": {...}} -> the same envelope with the
    MessageHeader in clear, the body in NexoBlob and the SecurityTrailer."""
    (outer, inner), = message.items()
    plain = json.dumps(message, separators=(",", ":")).encode()
    nonce = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    encryptor = _cipher(key, nonce).encryptor()
    blob = encryptor.update(padder.update(plain) + padder.finalize()) + encryptor.finalize()
    mac = hmac.new(key.hmac_key, plain, hashlib.sha256).digest()
    return {outer: {
        "MessageHeader": inner["MessageHeader"],
        "NexoBlob": base64.b64encode(blob).decode(),
        "SecurityTrailer": {"AdyenCryptoVersion": CRYPTO_VERSION, "KeyIdentifier": key.identifier,
                            "KeyVersion": key.version, "Nonce": base64.b64encode(nonce).decode(),
                            "Hmac": base64.b64encode(mac).decode()}}}


def unprotect(message: Any, key: SharedKey) -> dict[str, Any]:
    """Opens a protected envelope; raises ProtectionError naming what was wrong."""
    if not isinstance(message, dict) or len(message) != 1:
        raise ProtectionError("not one SaleToPOI envelope")
    (outer, inner), = message.items()
    if not isinstance(inner, dict):
        raise ProtectionError(f"{outer} is not an object")
    trailer = inner.get("SecurityTrailer")
    if not isinstance(trailer, dict):
        raise ProtectionError("no SecurityTrailer")
    if trailer.get("KeyIdentifier") != key.identifier or trailer.get("KeyVersion") != key.version:
        raise ProtectionError(f"key {trailer.get('KeyIdentifier')!r} version "
                              f"{trailer.get('KeyVersion')!r} is not the configured key")
    try:
        nonce = base64.b64decode(trailer["Nonce"], validate=True)
        blob = base64.b64decode(inner["NexoBlob"], validate=True)
        mac = base64.b64decode(trailer["Hmac"], validate=True)
        decryptor = _cipher(key, nonce).decryptor()
        padded = decryptor.update(blob) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        plain = unpadder.update(padded) + unpadder.finalize()
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtectionError(f"malformed blob, nonce or padding ({exc})") from None
    if not hmac.compare_digest(mac, hmac.new(key.hmac_key, plain, hashlib.sha256).digest()):
        raise ProtectionError("HMAC does not match: wrong passphrase or altered message")
    try:
        opened = json.loads(plain)
    except ValueError:
        raise ProtectionError("the decrypted body is not JSON") from None
    if not isinstance(opened, dict) or outer not in opened:
        raise ProtectionError(f"the decrypted body is not a {outer}")
    return opened  # type: ignore[no-any-return]
