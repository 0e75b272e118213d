"""Journal messages at head office's ingest, fuzzed: check_message (wire format, topic,
registry, chain, signature, entry schema; no database) gives a Candidate or a Refusal for
every payload, never an exception, and what it gives can be stored as it is."""

from __future__ import annotations

import copy
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import example, given
from hypothesis import strategies as st
from nacl.signing import VerifyKey

from contract import chain, wire
from contract.entries import ENTRY_TYPES
from contract.keys import public_key_hex
from headoffice.ingest.validate import Candidate, KeyCache, Refusal, check_message
from tests.fuzz.budget import DEEP, INTS, JSON, TEXT, Deep, budget, deep

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
TOPIC = "kassa/v1/s1/t1/journal"
BIGINT = 2**63 - 1  # what a database column holds
# A sale as the till journals it (taken from `kassa sim`): the seed the mutations start from.
SALE = json.loads("""{"cashier": "Sanne", "data": {"change": 0, "customer_id": null,
 "discount_total": 0, "lines": [{"amount": 7611, "code": "08700000000056", "discount": 0,
 "discount_by": null, "embedded_price": null, "gross": 7611, "line_no": 1, "name": "Pasta 5",
 "original_unit_price": null, "override_by": null, "product_id": 5, "quantity": 3,
 "rate_bp": 2100, "removed": false, "sku": "08700000000056", "stock_tracked": true,
 "stock_units": 3, "ticket_discount": 0, "unit_price": 2537, "vat_code": "high",
 "weight_g": null}], "rounding": 0, "tenders": [{"amount": 7611, "change": 0, "given": 0,
 "kind": "card", "reference": "SIM735017"}], "ticket_discount": 0, "total": 7611,
 "total_paid": 7611, "vat": [{"code": "high", "gross": 7611, "net": 6290, "rate_bp": 2100,
 "vat": 1321}]}, "seq": 1, "store": "s1", "terminal": "t1", "training": false,
 "ts": "2026-12-03T14:10:19.325+00:00", "type": "sale", "v": 2}""")


class Registry(KeyCache):
    """The registry's keys without a database: t1 of s1 active, t2 revoked."""

    def __init__(self) -> None:
        super().__init__()
        verify = VerifyKey(bytes.fromhex(public_key_hex(KEY)))
        self.known = {"t1": ("s1", "active", verify), "t2": ("s1", "revoked", None)}

    def get(self, terminal: str) -> tuple[str, str, VerifyKey | None] | None:
        return self.known.get(terminal)


REGISTRY = Registry()


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += _paths(child, (*path, index))
    return out


SALE_PATHS = _paths(SALE)[1:]


@st.composite
def mutated_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """The seed sale with a few values replaced, keys dropped or added."""
    body = copy.deepcopy(SALE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(SALE_PATHS))
        parent = body
        try:
            for step in path[:-1]:
                parent = parent[step]
            action = draw(st.sampled_from(["replace", "replace", "drop", "add"]))
            if action == "replace":
                parent[path[-1]] = draw(JSON)
            elif action == "drop" and isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif isinstance(parent, dict):
                parent[draw(TEXT)] = draw(JSON)
        except (KeyError, IndexError, TypeError):  # an earlier mutation changed the shape
            continue
    return body


@st.composite
def generated_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A body of any entry type with hostile values where the till writes its own."""
    return {"v": draw(st.sampled_from([2, 1, 3]) | INTS), "seq": draw(INTS),
            "type": draw(st.sampled_from(sorted(ENTRY_TYPES)) | TEXT),
            "ts": draw(st.sampled_from(["2026-12-03T14:10:19.325+00:00"]) | TEXT),
            "store": "s1", "terminal": draw(st.sampled_from(["t1", "t2", "t3"])),
            "cashier": draw(st.none() | TEXT), "training": draw(st.booleans() | JSON),
            "data": draw(st.dictionaries(TEXT, JSON, max_size=6) | JSON)}


def _signed(body: dict[str, Any], prev: bytes) -> tuple[bytes, str]:
    """The message a terminal holding the key would send (signed whatever the body says)."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = chain.entry_hash(prev, text.encode())
    return wire.encode_journal(text, digest.hex(), KEY.sign(digest).hex(), prev.hex()), \
        str(body.get("seq"))


def _check(topic: str, payload: bytes, seq_property: str | None) -> Candidate | Refusal:
    result = check_message(topic, payload, seq_property, REGISTRY)
    assert isinstance(result, (Candidate, Refusal))
    if isinstance(result, Candidate):  # what is accepted fits the columns it goes to
        assert 1 <= result.seq <= BIGINT and result.terminal == "t1" and result.store == "s1"
        body = json.loads(result.body)
        assert body["seq"] == result.seq and body["terminal"] == result.terminal
    else:  # what is refused can be dead-lettered: its reason short, its seq storable
        assert result.reason and isinstance(result.detail, str)
        assert result.seq is None or -BIGINT <= result.seq <= BIGINT, result
    return result


def test_the_seed_sale_is_accepted() -> None:
    payload, seq = _signed(SALE, chain.GENESIS)
    assert isinstance(_check(TOPIC, payload, seq), Candidate)


@budget(150)
@given(body=mutated_bodies() | generated_bodies(), genesis=st.booleans(),
       seq_property=st.none() | TEXT, use_body_seq=st.booleans())
@example(body={**SALE, "seq": 100000000000000000000}, genesis=True, seq_property=None,
         use_body_seq=True)  # the poison message
def test_signed_bodies(body: dict[str, Any], genesis: bool, seq_property: str | None,
                       use_body_seq: bool) -> None:
    prev = chain.GENESIS if genesis else bytes(range(32))
    payload, body_seq = _signed(body, prev)
    _check(TOPIC, payload, body_seq if use_body_seq else seq_property)


@budget(150)
@given(payload=st.binary(max_size=300) | JSON.map(lambda v: json.dumps(v).encode())
       | st.fixed_dictionaries({"body": TEXT | DEEP, "hash": TEXT, "sig": TEXT, "prev": TEXT})
       .map(lambda v: json.dumps(v).encode()) | DEEP,
       topic=st.sampled_from([TOPIC, "kassa/v1/s1/t2/journal", "kassa/v1/s1/+/journal",
                              "kassa/v1/s1/t1/status", ""]) | TEXT,
       seq_property=st.none() | TEXT)
@example(payload=deep(100_000, 1), topic=TOPIC, seq_property="1")
@example(payload=Deep(json.dumps({"body": deep(100_000, 0), "hash": "0" * 64, "sig": "0" * 128,
                                  "prev": "0" * 64})), topic=TOPIC, seq_property="1")
def test_raw_payloads(payload: bytes | str, topic: str, seq_property: str | None) -> None:
    _check(topic, payload.encode() if isinstance(payload, str) else payload, seq_property)
