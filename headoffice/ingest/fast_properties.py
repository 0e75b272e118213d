"""Quicker decoding of received MQTT 5 PUBLISH properties for the ingest workers.

paho-mqtt (2.x) builds its property tables anew for every received packet and matches each
property name by rewriting all names, which cost ~80 us per journal message here: a third of
an ingest worker's CPU, more than the Ed25519 check (profiled, see docs/BENCHMARKS.md). The
tills send user properties only (`seq`, `schema`), so those are decoded here directly, with
paho's own string check (readUTF: UTF-8, no NUL, no surrogates). Anything else, and every
other packet type, goes through paho's own decoder unchanged, so a hostile packet is refused
exactly as before.
"""

from __future__ import annotations

import logging
from typing import Any

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties, VariableByteIntegers, readUTF

log = logging.getLogger("kassa.office.ingest")

_USER_PROPERTY = 38  # the identifier of "User Property" (MQTT 5, 2.2.2.2)
_TEMPLATE = Properties(PacketTypes.PUBLISH)


class FastProperties(Properties):
    """paho's Properties with its tables built once (shared, read only) instead of per packet."""

    types = _TEMPLATE.types
    names = _TEMPLATE.names
    properties = _TEMPLATE.properties

    def __init__(self, packetType: int) -> None:  # noqa: N803 - paho's signature
        object.__setattr__(self, "packetType", packetType)

    def unpack(self, buffer: Any) -> tuple[Properties, int]:
        if self.packetType != PacketTypes.PUBLISH:
            return super().unpack(buffer)
        propslen, vbi_len = VariableByteIntegers.decode(buffer)
        end = vbi_len + propslen
        pos, pairs = vbi_len, []
        while pos < end:
            if buffer[pos] != _USER_PROPERTY:  # another property: paho decodes the lot
                return super().unpack(buffer)
            pos += 1
            name, used = readUTF(buffer[pos:], end - pos)
            pos += used
            value, used = readUTF(buffer[pos:], end - pos)
            pos += used
            pairs.append((name, value))
        if pairs:
            object.__setattr__(self, "UserProperty", pairs)
        return self, end


def install() -> bool:
    """Makes paho decode received packets with FastProperties (the whole process: the ingest
    worker's). Does nothing, and says so, if paho's internals are not the ones this was
    written against; the ingest then works as before, only slower."""
    try:
        from paho.mqtt import _packet
    except ImportError:
        _packet = None
    current = getattr(_packet, "Properties", None)
    if current is FastProperties:
        return True
    if current is not Properties:
        log.info("paho-mqtt without the expected decoder: property decoding left as it is")
        return False
    _packet.Properties = FastProperties
    return True
