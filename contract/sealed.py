"""Head office's signature on a downstream message: the seal a till checks before it applies.

A sealed message is a small header line, then the body exactly as head office wrote it:

    {"kind":"catalogue","sha256":"<hex of body>","sig":"<hex>","store":"s1","v":1,"version":7}\\n
    <body bytes: the JSON of contract/downstream.py>

`sig` is Ed25519 over the canonical header without `sig`, made with head office's key, whose
public half the terminal's bundle pins. The header names the kind, the store (`FLEET` for
the fleet-wide topics) and the version, so a message signed for one store, kind or version
cannot be replayed as another; the body's own `version` must equal the header's (checked by
`unseal`). The signature covers a hash of the body rather than a re-serialised body, so a
60 MB catalogue is hashed once and never canonicalised again at the till.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from contract.chain import canonical
from contract.keys import PrivateKey, PublicKey, verifies

SEAL_VERSION = 1
FLEET = "*"  # the store named in the seal of a fleet-wide message
MAX_HEADER = 1024  # bytes of the header line


class SealError(ValueError):
    """A downstream message whose seal is missing, malformed, forged or for somewhere else.
    `reason` is one of the REASONS keys; `detail` says what exactly."""

    REASONS = ("unsigned", "malformed", "forged", "foreign", "mismatch")

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class Unsealed:
    """A message whose seal checked out: what it says it is, and its body (not yet parsed)."""

    kind: str
    store: str
    version: int
    body: bytes
    sha256: str = ""  # hex of the body, as signed: what a till remembers of what it applied


def seal(key: PrivateKey, kind: str, store: str, version: int, body: bytes) -> bytes:
    """The payload to publish: the signed header line, then `body` unchanged."""
    header: dict[str, Any] = {"v": SEAL_VERSION, "kind": kind, "store": store,
                              "version": version, "sha256": hashlib.sha256(body).hexdigest()}
    header["sig"] = key.sign(canonical(header)).hex()
    return canonical(header) + b"\n" + body


def unseal(payload: bytes, public_key: PublicKey, kind: str, store: str) -> Unsealed:
    """Checks the seal of a message received on `kind`'s topic for `store` (or FLEET).

    Raises SealError: `unsigned` (no header line, or a first line that is no signed JSON
    object), `malformed` (a signed header of the wrong shape), `forged` (signature or
    body hash wrong), `foreign` (signed for another kind or store), `mismatch` (the body's
    version is not the header's)."""
    newline = payload.find(b"\n", 0, MAX_HEADER + 1)
    if not payload.startswith(b"{\"") or newline < 0:
        raise SealError("unsigned", "no seal header line")
    try:
        header = json.loads(payload[:newline])
    except ValueError:  # a bare JSON body written over several lines, say
        raise SealError("unsigned", "the first line is not a seal header") from None
    if not isinstance(header, dict) or "sig" not in header:
        raise SealError("unsigned", "header has no signature")
    _check_header_shape(header)
    body = payload[newline + 1:]
    signed = {k: v for k, v in header.items() if k != "sig"}
    try:
        signature = bytes.fromhex(header["sig"])
    except ValueError:
        raise SealError("malformed", "sig is not hex") from None
    if not verifies(public_key, canonical(signed), signature):
        raise SealError("forged", "signature does not verify with head office's key")
    if hashlib.sha256(body).hexdigest() != header["sha256"]:
        raise SealError("forged", "body does not match the signed hash")
    if header["kind"] != kind:
        raise SealError("foreign", f"signed for kind {header['kind']!r}, received as {kind!r}")
    if header["store"] != store:
        raise SealError("foreign", f"signed for store {header['store']!r}, this is {store!r}")
    _check_body_version(body, header["version"])
    return Unsealed(header["kind"], header["store"], header["version"], body, header["sha256"])


def _check_header_shape(header: dict[str, Any]) -> None:
    expected = {"v": int, "kind": str, "store": str, "version": int, "sha256": str, "sig": str}
    if set(header) != set(expected):
        raise SealError("malformed", f"header keys {sorted(header)}")
    for name, kind in expected.items():
        value = header[name]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise SealError("malformed", f"header {name}: not a {kind.__name__}")
    if header["v"] != SEAL_VERSION:
        raise SealError("malformed", f"seal version {header['v']} (this till reads {SEAL_VERSION})")


def _check_body_version(body: bytes, version: int) -> None:
    """The body's top-level `version` equals the sealed one. Read without parsing the whole
    body: the downstream parser does that next, once."""
    try:
        head = json.loads(body) if len(body) < 4096 else None
    except ValueError:
        head = None
    if head is not None:
        found = head.get("version") if isinstance(head, dict) else None
    else:
        found = _leading_version(body)
    if found != version:
        raise SealError("mismatch", f"body version {found!r}, sealed version {version}")


def _leading_version(body: bytes) -> int | None:
    """`version` of a large body, which head office writes as the first key (sorted JSON:
    see `body_bytes`)."""
    prefix = b'{"version":'
    if not body.startswith(prefix):
        return None
    end = prefix_end = len(prefix)
    while end < len(body) and end - prefix_end < 20 and body[end:end + 1].isdigit():
        end += 1
    digits = body[prefix_end:end]
    return int(digits) if digits and body[end:end + 1] in (b",", b"}") else None


def body_bytes(body: dict[str, Any]) -> bytes:
    """How head office writes a downstream body: `version` first, then the rest in sorted
    order, compact, so a till can read the version of a large body from its first bytes."""
    rest = {k: v for k, v in body.items() if k != "version"}
    head = b'{"version":' + str(int(body["version"])).encode()
    if not rest:
        return head + b"}"
    return head + b"," + json.dumps(rest, sort_keys=True, separators=(",", ":"),
                                    ensure_ascii=False).encode()[1:]
