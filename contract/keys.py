"""Ed25519 keys: the terminal's journal key, and public keys in the form head office's
registry and the accountant's export use.

The till signs every entry and checks its chain at start through libsodium (PyNaCl): the
same Ed25519, byte for byte (RFC 8032 signatures are deterministic), at under 1 MB resident
where cryptography's Rust library costs the till ~8 MB. cryptography stays the tool of head
office and provisioning (certificates, PEM in every form); its key objects are accepted
wherever a key is asked for here, and it is imported only when one of them is used.
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Protocol

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

# PKCS#8 v1 of an Ed25519 private key is this DER prefix and the 32-byte seed (RFC 8410);
# `openssl genpkey -algorithm ed25519` and cryptography both write exactly this.
PKCS8_ED25519_PREFIX = bytes.fromhex("302e020100300506032b657004220420")
PEM_HEADER, PEM_FOOTER = b"-----BEGIN PRIVATE KEY-----", b"-----END PRIVATE KEY-----"


class PublicKey(Protocol):
    """An Ed25519 public key: ours (JournalPublicKey) or cryptography's Ed25519PublicKey."""

    def public_bytes_raw(self) -> bytes: ...


class PrivateKey(Protocol):
    """An Ed25519 private key: ours (JournalKey) or cryptography's Ed25519PrivateKey."""

    def sign(self, data: bytes) -> bytes: ...

    def public_key(self) -> PublicKey: ...

    def private_bytes_raw(self) -> bytes: ...


class JournalPublicKey:
    """A raw Ed25519 public key (32 bytes)."""

    def __init__(self, raw: bytes) -> None:
        if len(raw) != 32:
            raise ValueError(f"an Ed25519 public key is 32 bytes, not {len(raw)}")
        self._raw = bytes(raw)

    def public_bytes_raw(self) -> bytes:
        return self._raw

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JournalPublicKey) and other.public_bytes_raw() == self._raw

    def __hash__(self) -> int:
        return hash(self._raw)


class JournalKey:
    """An Ed25519 private key from its 32-byte seed; signs with libsodium."""

    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise ValueError(f"an Ed25519 private key seed is 32 bytes, not {len(seed)}")
        self._signing = SigningKey(bytes(seed))

    @classmethod
    def generate(cls) -> JournalKey:
        return cls(bytes(SigningKey.generate()))

    def private_bytes_raw(self) -> bytes:
        return bytes(self._signing)

    def sign(self, data: bytes) -> bytes:
        return self._signing.sign(data).signature

    def public_key(self) -> JournalPublicKey:
        return JournalPublicKey(bytes(self._signing.verify_key))

    def to_pem(self) -> bytes:
        """PKCS#8 PEM, unencrypted: what cryptography writes for the same key."""
        body = base64.b64encode(PKCS8_ED25519_PREFIX + self.private_bytes_raw())
        return PEM_HEADER + b"\n" + body + b"\n" + PEM_FOOTER + b"\n"

    @classmethod
    def from_pem(cls, pem: bytes) -> JournalKey:
        """Reads a PKCS#8 Ed25519 private key; a PEM in another form (an encrypted one, or
        one carrying its public key too) is read with cryptography. ValueError when the
        file holds no unencrypted Ed25519 private key."""
        lines = pem.strip().splitlines()
        if len(lines) >= 3 and lines[0].strip() == PEM_HEADER and lines[-1].strip() == PEM_FOOTER:
            try:
                der = base64.b64decode(b"".join(line.strip() for line in lines[1:-1]),
                                       validate=True)
            except ValueError:
                der = b""
            if len(der) == 48 and der.startswith(PKCS8_ED25519_PREFIX):
                return cls(der[len(PKCS8_ED25519_PREFIX):])
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"not an unencrypted PEM private key: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("not an Ed25519 private key")
        return cls(key.private_bytes_raw())


# SubjectPublicKeyInfo of an Ed25519 public key is this DER prefix and the 32 raw bytes
# (RFC 8410): what `openssl pkey -pubout` and cryptography write.
SPKI_ED25519_PREFIX = bytes.fromhex("302a300506032b6570032100")
PUBLIC_HEADER, PUBLIC_FOOTER = b"-----BEGIN PUBLIC KEY-----", b"-----END PUBLIC KEY-----"


def public_key_from_pem(pem: bytes) -> JournalPublicKey:
    """An Ed25519 public key from its PEM (SubjectPublicKeyInfo) form, the file a terminal
    pins head office's key in. ValueError naming what is wrong otherwise."""
    lines = pem.strip().splitlines()
    if len(lines) < 3 or lines[0].strip() != PUBLIC_HEADER or lines[-1].strip() != PUBLIC_FOOTER:
        raise ValueError("not a PEM public key (no BEGIN/END PUBLIC KEY lines)")
    try:
        der = base64.b64decode(b"".join(line.strip() for line in lines[1:-1]), validate=True)
    except ValueError:
        raise ValueError("the PEM body is not base64") from None
    if len(der) != 44 or not der.startswith(SPKI_ED25519_PREFIX):
        raise ValueError("not an Ed25519 public key")
    return JournalPublicKey(der[len(SPKI_ED25519_PREFIX):])


def public_key_pem(key: PrivateKey | PublicKey) -> bytes:
    """The PEM (SubjectPublicKeyInfo) form of a key's public half."""
    public = key.public_key() if hasattr(key, "public_key") else key
    body = base64.b64encode(SPKI_ED25519_PREFIX + public.public_bytes_raw())  # type: ignore[union-attr]
    return PUBLIC_HEADER + b"\n" + body + b"\n" + PUBLIC_FOOTER + b"\n"


def key_fingerprint(public_key: PublicKey) -> str:
    """SHA-256 of the raw 32-byte key, hex in groups of four: what people read aloud to
    compare a pinned key with head office's (`kassa office public-key` prints the same)."""
    digest = hashlib.sha256(public_key.public_bytes_raw()).hexdigest()
    return " ".join(digest[i:i + 4] for i in range(0, len(digest), 4))


def verifies(public_key: PublicKey, data: bytes, signature: bytes) -> bool:
    """Whether `signature` is the key's Ed25519 signature of `data` (libsodium)."""
    try:
        VerifyKey(public_key.public_bytes_raw()).verify(data, signature)
    except (BadSignatureError, ValueError):
        return False
    return True


def public_key_hex(key: PrivateKey | PublicKey) -> str:
    """The raw 32-byte public key as hex, the form head office's registry stores."""
    public = key.public_key() if hasattr(key, "public_key") else key
    return public.public_bytes_raw().hex()  # type: ignore[union-attr]


def public_key_from_hex(text: str) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))
