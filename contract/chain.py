"""The hash chain and signatures of the journal, as pure functions shared by till and office.

hash = sha256(prev_hash_bytes + canonical_body); the first entry's prev is 32 zero bytes;
sig = Ed25519(hash). Canonical body: JSON, sorted keys, separators ',' ':', UTF-8, no floats.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from contract.keys import PrivateKey, PublicKey, verifies

GENESIS = bytes(32)
SCHEMA = 2  # the body's `v`; what each version means: contract/entries.py


class CanonicalError(ValueError):
    """A body that cannot be canonical (a float, a non-string key, NaN...)."""


def _reject_floats(value: Any) -> None:
    """Walks the body once (iteratively: it runs on every sale) and refuses floats and odd keys."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            for key, child in item.items():
                if type(key) is not str:
                    raise CanonicalError(f"key {key!r} is not a string")
                if type(child) in (dict, list, tuple, float):
                    stack.append(child)
        elif kind is list or kind is tuple:
            stack.extend(child for child in item if type(child) in (dict, list, tuple, float))
        elif kind is float:
            raise CanonicalError(f"floats are not allowed in the journal (use cents): {item!r}")


def canonical(body: dict[str, Any]) -> bytes:
    """The one byte form of a body that is hashed and signed."""
    _reject_floats(body)
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(prev_hash: bytes, canonical_body: bytes) -> bytes:
    return hashlib.sha256(prev_hash + canonical_body).digest()


def sign(key: PrivateKey, digest: bytes) -> bytes:
    return key.sign(digest)


def signature_ok(public_key: PublicKey, digest: bytes, signature: bytes) -> bool:
    return verifies(public_key, digest, signature)


def check_entry(
    prev_hash: bytes,
    body_text: str,
    hash_hex: str,
    sig_hex: str,
    public_key: PublicKey | None,
    expected_seq: int | None = None,
) -> str | None:
    """Checks one entry against its predecessor; returns the problem, or None when sound."""
    try:
        body = json.loads(body_text)
    except ValueError:
        return "body is not JSON"
    if not isinstance(body, dict):
        return "body is not a JSON object"
    try:
        if canonical(body) != body_text.encode():
            return "body is not in canonical form (edited)"
    except CanonicalError as exc:
        return f"body is not canonical: {exc}"
    if expected_seq is not None and body.get("seq") != expected_seq:
        return f"body claims seq {body.get('seq')!r} where {expected_seq} belongs (inserted or reordered)"
    try:
        stored_hash = bytes.fromhex(hash_hex)
        signature = bytes.fromhex(sig_hex)
    except ValueError:
        return "hash or signature is not hex"
    if entry_hash(prev_hash, body_text.encode()) != stored_hash:
        return "hash does not match body and previous entry (edited, deleted or reordered)"
    if public_key is not None and not signature_ok(public_key, stored_hash, signature):
        return "signature does not match (forged or signed by another key)"
    return None
