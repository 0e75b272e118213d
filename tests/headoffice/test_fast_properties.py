"""The ingest's quicker PUBLISH property decoding gives what paho's own gives, and refuses what
paho refuses (a hostile packet must still end up as a refused packet, never as a message)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from paho.mqtt import _packet
from paho.mqtt.client import MQTTv5
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from headoffice.ingest import fast_properties
from headoffice.ingest.fast_properties import FastProperties

TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufeff"),
               max_size=20)


def _both(buffer: bytes) -> tuple[object, object]:
    """(result or exception type) of paho's decoder and of ours on the same bytes."""
    out = []
    for cls in (Properties, FastProperties):
        try:
            props, used = cls(PacketTypes.PUBLISH).unpack(buffer)
            out.append((used, getattr(props, "UserProperty", None),
                        getattr(props, "MessageExpiryInterval", None),
                        getattr(props, "ContentType", None)))
        except Exception as exc:  # noqa: BLE001 - the kind of refusal is what is compared
            out.append(type(exc))
    return out[0], out[1]


@given(pairs=st.lists(st.tuples(TEXT, TEXT), max_size=4), expiry=st.none() | st.integers(0, 99),
       content=st.none() | TEXT)
@example(pairs=[("seq", "120x"), ("schema", "1")], expiry=None, content=None)
@example(pairs=[("seq", "3")], expiry=7, content="application/json")
@settings(max_examples=300, deadline=None)
def test_same_properties_as_paho(pairs: list[tuple[str, str]], expiry: int | None,
                                 content: str | None) -> None:
    props = Properties(PacketTypes.PUBLISH)
    if pairs:
        props.UserProperty = pairs
    if expiry is not None:
        props.MessageExpiryInterval = expiry
    if content is not None:
        props.ContentType = content
    packed = props.pack()
    theirs, ours = _both(packed + b"payload")
    assert ours == theirs
    assert ours[0] == len(packed)
    assert ours[1] == (pairs or None)


@given(st.binary(max_size=40))
@settings(max_examples=500, deadline=None)
def test_random_bytes_refused_or_read_alike(raw: bytes) -> None:
    theirs, ours = _both(raw)
    if isinstance(theirs, type):
        assert isinstance(ours, type), f"paho refused with {theirs}, ours read {ours}"
    else:
        assert ours == theirs


@pytest.mark.parametrize("bad", ["a\x00b", "\ufeffseq"])
def test_forbidden_characters_refused(bad: str) -> None:
    body = bad.encode()
    prop = bytes([38]) + struct.pack("!H", len(body)) + body + struct.pack("!H", 1) + b"1"
    with pytest.raises(Exception, match="MQTT-1.5.4"):
        FastProperties(PacketTypes.PUBLISH).unpack(bytes([len(prop)]) + prop)


def test_installed_decoder_reads_a_journal_publish() -> None:
    assert fast_properties.install()
    props = Properties(PacketTypes.PUBLISH)
    props.UserProperty = [("seq", "17"), ("schema", "1")]
    topic = b"kassa/v1/store1/till1/journal"
    packet = struct.pack("!H", len(topic)) + topic + struct.pack("!H", 5) + props.pack() + b"{}"
    result = _packet.decode_publish(0x32, packet, MQTTv5)
    assert isinstance(result.properties, FastProperties)
    assert result.properties.UserProperty == [("seq", "17"), ("schema", "1")]
    assert (result.topic, result.mid, result.payload) == (topic, 5, b"{}")
    assert "UserProperty" in str(result.properties)
