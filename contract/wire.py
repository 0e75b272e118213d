"""The wire format between terminals and head office (DESIGN.md, "Head office link").

Journal payload (`kassa/v1/{store}/{terminal}/journal`, QoS 1, MQTT 5 user properties
`seq` and `schema`) is UTF-8 JSON: {"body": canonical body text, "hash": hex, "sig": hex,
"prev": hex of the previous entry's hash}. Carrying `prev` lets head office verify hash and
signature of an entry that arrives before its predecessor; the link itself is checked once
the predecessor is stored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

ROOT = "kassa/v1"
SCHEMA = "1"
FLEET = "fleet"
MAX_PAYLOAD = 256 * 1024  # a journal entry is a few kB; anything bigger is hostile


def terminal_topic(store: str, terminal: str, leaf: str) -> str:
    return f"{ROOT}/{store}/{terminal}/{leaf}"


def store_topic(store: str, leaf: str) -> str:
    return f"{ROOT}/{store}/{leaf}"


FLEET_CONFIG_TOPIC = f"{ROOT}/{FLEET}/config"
FLEET_RELEASE_TOPIC = f"{ROOT}/{FLEET}/release"
SHARED_JOURNAL_SUBSCRIPTION = f"$share/ingest/{ROOT}/+/+/journal"
# customers' sign-ups at a till (contract/signup.py): outside the journal, erasable
SHARED_SIGNUP_SUBSCRIPTION = f"$share/ingest/{ROOT}/+/+/signup"
ALL_STATUS = f"{ROOT}/+/+/status"


class ProtocolError(ValueError):
    """A message that does not follow the wire format; the text says what is wrong."""


def split_terminal_topic(topic: str, leaf: str) -> tuple[str, str]:
    """(store, terminal) of `kassa/v1/{store}/{terminal}/{leaf}`, else ProtocolError."""
    parts = topic.split("/")
    if len(parts) != 5 or "/".join(parts[:2]) != ROOT or parts[4] != leaf:
        raise ProtocolError(f"topic {topic!r} is not {ROOT}/<store>/<terminal>/{leaf}")
    store, terminal = parts[2], parts[3]
    if not valid_id(store) or not valid_id(terminal):
        raise ProtocolError(f"topic {topic!r} names an invalid store or terminal")
    return store, terminal


def valid_id(value: object) -> bool:
    return (isinstance(value, str) and 0 < len(value) <= 64
            and all(c.isascii() and (c.isalnum() or c in "-_") for c in value))


# Words of the topic tree: a store or terminal named so would make its topics another's
# (a terminal `catalogue` of store s publishes under kassa/v1/s/catalogue/#, which matches
# the store's catalogue topic itself). `+`, `#` and `/` are refused by valid_id already.
RESERVED_IDS = frozenset({"journal", "status", "ack", "cmd", "catalogue", "prices", "offers",
                          "promotions", "config", FLEET, "release", "signup", "signup_ack"})


@dataclass(frozen=True)
class JournalMessage:
    body: str
    hash: str
    sig: str
    prev: str


def encode_journal(body: str, hash_hex: str, sig_hex: str, prev_hex: str) -> bytes:
    return json.dumps({"body": body, "hash": hash_hex, "sig": sig_hex, "prev": prev_hex},
                      separators=(",", ":"), ensure_ascii=False).encode()


def decode_journal(payload: bytes) -> JournalMessage:
    if len(payload) > MAX_PAYLOAD:
        raise ProtocolError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    data = json_object(payload)
    fields = {}
    for name in ("body", "hash", "sig", "prev"):
        value = data.get(name)
        if not isinstance(value, str) or not value:
            raise ProtocolError(f"field {name!r} is missing or not a string")
        fields[name] = value
    for name in ("hash", "prev"):
        if len(fields[name]) != 64 or not _is_hex(fields[name]):
            raise ProtocolError(f"field {name!r} is not 32 bytes of hex")
    if len(fields["sig"]) != 128 or not _is_hex(fields["sig"]):
        raise ProtocolError("field 'sig' is not 64 bytes of hex")
    return JournalMessage(**fields)


def encode_ack(seq: int, hash_hex: str) -> bytes:
    return json.dumps({"seq": seq, "hash": hash_hex}, separators=(",", ":")).encode()


def decode_ack(payload: bytes) -> int:
    data = json_object(payload)
    seq = data.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ProtocolError("ack 'seq' is not a non-negative integer")
    return seq


def encode_replay(from_seq: int) -> bytes:
    return json.dumps({"cmd": "replay", "from_seq": from_seq}, separators=(",", ":")).encode()


def decode_cmd(payload: bytes) -> dict[str, Any]:
    data = json_object(payload)
    if not isinstance(data.get("cmd"), str):
        raise ProtocolError("command has no 'cmd' name")
    if data["cmd"] == "replay":
        seq = data.get("from_seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise ProtocolError("replay 'from_seq' is not a positive integer")
    return data


def encode_status(status: dict[str, Any]) -> bytes:
    return json.dumps(status, sort_keys=True, separators=(",", ":")).encode()


def decode_status(payload: bytes) -> dict[str, Any]:
    data = json_object(payload)
    if data.get("state") not in ("online", "offline"):
        raise ProtocolError("status 'state' is not online or offline")
    return data


def json_object(payload: bytes) -> dict[str, Any]:
    """The payload as a JSON object, else ProtocolError saying what it is instead."""
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"not UTF-8 JSON: {exc}") from None
    except RecursionError:
        raise ProtocolError("JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise ProtocolError("not a JSON object")
    return data


_HEX = re.compile(r"[0-9a-f]*")


def _is_hex(text: str) -> bool:
    return _HEX.fullmatch(text) is not None
