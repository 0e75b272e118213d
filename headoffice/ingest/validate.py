"""Checks one journal message on its own: wire format, topic, registry, hash, signature, and
the body against its entry type's schema in the contract (contract.entries).

What needs the database (duplicates, the link to the stored predecessor) is left to `store`.
Every refusal carries a short reason code (counted) and a detail text (kept).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import peewee
from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import VerifyKey

from contract import chain, wire
from contract.entries import MAX_SEQ, EntrySchemaError
from headoffice.models import RegisteredTerminal
from headoffice.received import Received, read

KEY_REFRESH_SECONDS = 5.0
TYPE_CHARS, TS_CHARS = 32, 40  # the widths of their journal_entry columns


def _short(value: object) -> str:
    """A hostile value, cut for a log or a detail (repr of a huge int is refused by Python)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"<integer of {value.bit_length()} bits>"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class Candidate:
    terminal: str
    store: str
    seq: int
    type: str
    ts: str
    body: str
    hash: str
    prev: str
    sig: str
    received: Received  # the body read through the contract, for aggregates and alerts


@dataclass(frozen=True)
class Refusal:
    reason: str  # malformed | topic | unknown_terminal | revoked | bad_hash | bad_signature |
    # schema (a signed body that does not fit its entry type's schema) ...
    detail: str
    terminal: str | None = None
    seq: int | None = None


class KeyCache:
    """The registry's keys in memory, reloaded every few seconds and on an unknown id."""

    def __init__(self) -> None:
        self._keys: dict[str, tuple[str, str, VerifyKey | None]] = {}
        self._loaded = 0.0

    def reload(self) -> None:
        keys = {}
        for row in RegisteredTerminal.select():
            try:
                key = VerifyKey(bytes.fromhex(row.public_key))
            except (ValueError, TypeError, CryptoError):
                key = None
            keys[row.terminal_id] = (row.store, row.status, key)
        self._keys, self._loaded = keys, time.monotonic()

    def get(self, terminal: str) -> tuple[str, str, VerifyKey | None] | None:
        age = time.monotonic() - self._loaded
        if age > KEY_REFRESH_SECONDS or (terminal not in self._keys and age > 1.0):
            try:
                self.reload()
            except peewee.PeeweeException:
                if not self._keys:
                    raise
        return self._keys.get(terminal)


def check_message(topic: str, payload: bytes, seq_property: str | None,
                  keys: KeyCache) -> Candidate | Refusal:
    try:
        store, terminal = wire.split_terminal_topic(topic, "journal")
    except wire.ProtocolError as exc:
        return Refusal("topic", str(exc))
    try:
        msg = wire.decode_journal(payload)
    except wire.ProtocolError as exc:
        return Refusal("malformed", str(exc), terminal)
    try:
        body: Any = json.loads(msg.body)
    except ValueError:
        return Refusal("malformed", "body is not JSON", terminal)
    except RecursionError:  # json recurses once per level: a few thousand '[' end here
        return Refusal("malformed", "body is nested too deeply", terminal)
    if not isinstance(body, dict):
        return Refusal("malformed", "body is not a JSON object", terminal)
    seq = body.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq <= MAX_SEQ:
        # the value itself goes to the detail only: no column could hold every integer
        return Refusal("malformed", f"body seq {_short(seq)} is not an integer in 1..{MAX_SEQ}",
                       terminal)
    if seq_property != str(seq):
        return Refusal("malformed", f"user property seq {_short(seq_property)} differs from body"
                       f" seq {seq}", terminal, seq)
    if body.get("terminal") != terminal or body.get("store") != store:
        return Refusal("topic_mismatch", f"body claims {body.get('store')!r}/"
                       f"{body.get('terminal')!r} on topic of {store}/{terminal}", terminal, seq)
    for name, longest in (("type", TYPE_CHARS), ("ts", TS_CHARS)):
        if not isinstance(body.get(name), str) or not 0 < len(body[name]) <= longest:
            return Refusal("malformed", f"body has no valid {name!r}", terminal, seq)
    enrolled = keys.get(terminal)
    if enrolled is None:
        return Refusal("unknown_terminal", f"terminal {terminal!r} is not enrolled", terminal, seq)
    enrolled_store, status, key = enrolled
    if status != "active" or key is None:
        return Refusal("revoked", f"terminal {terminal!r} is {status}", terminal, seq)
    if enrolled_store != store:
        return Refusal("topic_mismatch", f"terminal {terminal!r} is enrolled for store"
                       f" {enrolled_store!r}, not {store!r}", terminal, seq)
    if seq == 1 and msg.prev != chain.GENESIS.hex():
        return Refusal("chain_break", "entry 1 does not start from the genesis hash",
                       terminal, seq)
    problem = chain.check_entry(bytes.fromhex(msg.prev), msg.body, msg.hash, msg.sig, None,
                                expected_seq=seq)
    if problem:
        return Refusal("bad_hash", problem, terminal, seq)
    try:  # libsodium: twice as fast as OpenSSL's Ed25519 here, and this is the hot path
        key.verify(bytes.fromhex(msg.hash), bytes.fromhex(msg.sig))
    except BadSignatureError:
        return Refusal("bad_signature", "signature does not match the enrolled key",
                       terminal, seq)
    try:
        received = read(body)
    except EntrySchemaError as exc:
        return Refusal("schema", str(exc), terminal, seq)
    return Candidate(terminal, store, seq, body["type"], body["ts"], msg.body, msg.hash,
                     msg.prev, msg.sig, received)
