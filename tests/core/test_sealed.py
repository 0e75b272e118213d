"""Head office's seal on a downstream message (contract/sealed.py): what verifies, and the
typed reason for each way a message can fail it. Fuzzed: any bytes give a result or a
SealError, never another exception."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contract import downstream as bounds
from contract.keys import JournalKey
from contract.sealed import FLEET, SealError, body_bytes, seal, unseal
from headoffice.downstream_send import downstream_topic, sealed_payload
from tests.fuzz.budget import budget

KEY, OTHER = JournalKey.generate(), JournalKey.generate()
PUBLIC = KEY.public_key()
BODY = {"version": 7, "mode": "full", "products": [{"plu": "1", "name": "Brood",
                                                    "price_cents": 250, "vat_code": "low"}]}


def sealed(body=BODY, kind="catalogue", store="s1", key=KEY, version=None) -> bytes:
    data = body_bytes(body)
    return seal(key, kind, store, body["version"] if version is None else version, data)


def reason(payload: bytes, kind: str = "catalogue", store: str = "s1") -> str:
    with pytest.raises(SealError) as caught:
        unseal(payload, PUBLIC, kind, store)
    return f"{caught.value.reason}: {caught.value.detail}"


def test_a_sealed_message_unseals_to_its_body_unchanged():
    payload = sealed()
    message = unseal(payload, PUBLIC, "catalogue", "s1")
    assert (message.kind, message.store, message.version) == ("catalogue", "s1", 7)
    assert json.loads(message.body) == BODY
    assert message.body == payload.split(b"\n", 1)[1]
    assert message.body.startswith(b'{"version":7,')  # the version first, for big bodies
    fleet = sealed({"version": 2, "toml": "[cash]\nround_to_5_cents = false\n"}, "config", FLEET)
    assert unseal(fleet, PUBLIC, "config", FLEET).version == 2


def test_each_failure_has_its_reason():
    body = body_bytes(BODY)
    assert reason(body).startswith("unsigned: no seal header line")
    assert reason(json.dumps(BODY, indent=1).encode()).startswith("unsigned: no seal header")
    assert reason(b'{"version": 7,\n "mode": "full"}').startswith("unsigned: the first line")
    assert reason(b'{"kind":"catalogue"}\n' + body).startswith("unsigned: header has no signature")
    header, _ = sealed().split(b"\n", 1)
    fields = json.loads(header)
    assert reason(json.dumps({**fields, "extra": 1}).encode() + b"\n" + body).startswith(
        "malformed: header keys")
    assert reason(json.dumps({**fields, "v": 2}).encode() + b"\n" + body).startswith(
        "malformed: seal version 2")
    assert reason(json.dumps({**fields, "sig": "zz"}).encode() + b"\n" + body) == (
        "malformed: sig is not hex")
    assert reason(sealed(key=OTHER)).startswith("forged: signature does not verify")
    assert reason(json.dumps({**fields, "version": 8}).encode() + b"\n" + body).startswith(
        "forged: signature")  # the version is signed: it cannot be raised
    assert reason(sealed().replace(b'"price_cents":250', b'"price_cents":1')).startswith(
        "forged: body does not match")
    assert reason(sealed(kind="prices")) == (
        "foreign: signed for kind 'prices', received as 'catalogue'")
    assert reason(sealed(store="s2")) == "foreign: signed for store 's2', this is 's1'"
    assert reason(sealed(store=FLEET)) == "foreign: signed for store '*', this is 's1'"
    assert reason(sealed(version=8)) == "mismatch: body version 7, sealed version 8"


def test_a_large_body_is_checked_by_its_leading_version():
    products = [{"plu": str(i), "name": f"Product {i}", "price_cents": i, "vat_code": "low"}
                for i in range(1, 400)]
    big = {"version": 9, "mode": "full", "products": products}
    assert len(body_bytes(big)) > 4096
    assert unseal(sealed(big), PUBLIC, "catalogue", "s1").version == 9
    assert reason(sealed(big, version=10)) == "mismatch: body version 9, sealed version 10"


def test_head_office_seals_only_kinds_the_tills_take():
    with pytest.raises(bounds.DownstreamError, match="unknown message kind"):
        sealed_payload("stock", "s1", {"version": 1}, KEY)
    with pytest.raises(bounds.DownstreamError, match="whole fleet"):
        sealed_payload("release", "s1", {"version": 1}, KEY)
    assert unseal(sealed_payload("release", FLEET, {"version": 2}, KEY), PUBLIC, "release",
                  FLEET).version == 2
    assert downstream_topic("promotions", "s1") == "kassa/v1/s1/promotions"
    assert downstream_topic("config", FLEET) == "kassa/v1/fleet/config"
    assert unseal(sealed_payload("promotions", "s1", {"version": 1}, KEY), PUBLIC,
                  "promotions", "s1").version == 1


@budget(300)
@given(st.binary(max_size=2000) | st.builds(lambda b, cut: sealed()[:cut] + b,
                                            st.binary(max_size=50), st.integers(0, 400)))
def test_any_bytes_unseal_or_raise_a_seal_error(payload: bytes):
    try:
        message = unseal(payload, PUBLIC, "catalogue", "s1")
    except SealError as exc:
        assert exc.reason in SealError.REASONS
    else:
        assert message.kind == "catalogue" and message.store == "s1"
