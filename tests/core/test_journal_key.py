"""The till's journal key through libsodium (contract/keys.py) is the same Ed25519 as
cryptography's: the same PEM file both ways, the same signatures byte for byte, each side
verifying the other's; and a till that sells and checks its chain never loads cryptography."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contract import chain
from contract.keys import JournalKey, JournalPublicKey, public_key_hex, verifies
from firmware.signing import SigningKeyError, load_or_create_key

ROOT = Path(__file__).resolve().parents[2]


def pkcs8(key, encryption=None) -> bytes:  # noqa: ANN001
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             encryption or serialization.NoEncryption())


@pytest.mark.parametrize("seed", [bytes(32), bytes(range(32)), os.urandom(32)])
def test_same_pem_same_signatures_as_cryptography(seed: bytes) -> None:
    theirs = Ed25519PrivateKey.from_private_bytes(seed)
    ours = JournalKey(seed)
    assert ours.to_pem() == pkcs8(theirs)
    assert JournalKey.from_pem(pkcs8(theirs)).private_bytes_raw() == seed
    loaded = serialization.load_pem_private_key(ours.to_pem(), password=None)
    assert loaded.private_bytes_raw() == seed
    for data in (b"", bytes(32), os.urandom(32), b"x" * 1000):
        assert ours.sign(data) == theirs.sign(data)  # deterministic Ed25519 (RFC 8032)
        theirs.public_key().verify(ours.sign(data), data)  # raises if not valid
        assert verifies(ours.public_key(), data, theirs.sign(data))
        assert verifies(theirs.public_key(), data, ours.sign(data))
    assert public_key_hex(ours) == public_key_hex(theirs) == public_key_hex(theirs.public_key())
    assert ours.public_key() == JournalPublicKey(theirs.public_key().public_bytes_raw())


def test_bad_signatures_are_refused_not_raised() -> None:
    key = JournalKey.generate()
    digest = os.urandom(32)
    signature = key.sign(digest)
    assert chain.signature_ok(key.public_key(), digest, signature)
    forged = bytes([signature[0] ^ 1]) + signature[1:]
    assert not chain.signature_ok(key.public_key(), digest, forged)
    assert not chain.signature_ok(key.public_key(), digest[:-1] + b"\0", signature)
    assert not chain.signature_ok(key.public_key(), digest, signature[:63])  # cut short
    assert not chain.signature_ok(JournalKey.generate().public_key(), digest, signature)
    with pytest.raises(ValueError, match="32 bytes, not 31"):
        JournalKey(bytes(31))
    with pytest.raises(ValueError, match="32 bytes, not 33"):
        JournalPublicKey(bytes(33))


def test_other_pem_forms_are_read_or_refused_by_name(tmp_path: Path) -> None:
    theirs = Ed25519PrivateKey.generate()
    seed = theirs.private_bytes_raw()
    # the same key with Windows line ends and the body split over short lines
    body = pkcs8(theirs).decode().splitlines()
    split = "\r\n".join([body[0], body[1][:20], body[1][20:], body[2]]) + "\r\n"
    assert JournalKey.from_pem(split.encode()).private_bytes_raw() == seed
    refused = {
        "encrypted": pkcs8(theirs, serialization.BestAvailableEncryption(b"secret")),
        "ec": pkcs8(ec.generate_private_key(ec.SECP256R1())),
        "garbage": b"-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n",
    }
    for name, pem in refused.items():
        path = tmp_path / f"{name}.pem"
        path.write_bytes(pem)
        with pytest.raises(SigningKeyError, match=re.escape(str(path))):
            load_or_create_key(path)
    with pytest.raises(ValueError, match="not an Ed25519 private key"):
        JournalKey.from_pem(refused["ec"])


def test_dev_key_is_made_once_mode_0600_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "journal.pem"
    key = load_or_create_key(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert serialization.load_pem_private_key(path.read_bytes(), None).private_bytes_raw() == \
        key.private_bytes_raw()
    assert load_or_create_key(path).private_bytes_raw() == key.private_bytes_raw()


CHILD = """
import sys
from pathlib import Path
from cli.assemble import build_till
from firmware.sim import ensure_demo_data
from tests.fixtures_till import make_config
tmp = Path(sys.argv[1])
till = build_till(make_config(tmp))
ensure_demo_data(till, products=5)
till.login("1111")
till.add_plu("1")
till.pay_cash(10000)
assert till.journal.verify().ok
till.db.close()
again = build_till(make_config(tmp))  # a restart checks the chain and signatures
assert again.journal.verify().ok and again.journal.head()[0] > 3
print("loaded:", sorted(m for m in sys.modules if m.split(".")[0] == "cryptography"))
"""


def test_a_till_signs_and_verifies_without_loading_cryptography(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "loaded: []" in proc.stdout, proc.stdout
