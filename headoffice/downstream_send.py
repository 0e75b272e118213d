"""The one way head office publishes a downstream message: sealed with its key, retained.

Catalogue, prices, promotions, offers and config all leave head office through
`send_downstream`, so every one of them carries head office's signature (contract/sealed.py)
and none can be published unsigned by a forgotten code path.
"""

from __future__ import annotations

from typing import Any

from contract import sealed, wire
from contract.keys import PrivateKey
from headoffice.broker import Publish
from headoffice.signing import office_key


def downstream_topic(kind: str, store: str) -> str:
    """`kassa/v1/{store}/{kind}`, or `kassa/v1/fleet/{kind}` for store `sealed.FLEET`."""
    return f"{wire.ROOT}/{wire.FLEET}/{kind}" if store == sealed.FLEET else wire.store_topic(store, kind)


def sealed_payload(kind: str, store: str, body: dict[str, Any],
                   key: PrivateKey | None = None) -> bytes:
    """The bytes `send_downstream` publishes: `body` (which must carry its `version`) sealed
    for `kind` and `store` with head office's key (or `key`)."""
    return sealed.seal(key or office_key(), kind, store, int(body["version"]),
                       sealed.body_bytes(body))


def send_downstream(send: Publish, kind: str, store: str, body: dict[str, Any],
                    key: PrivateKey | None = None) -> bytes:
    """Seals `body` and publishes it retained on its topic; returns the payload sent."""
    payload = sealed_payload(kind, store, body, key)
    send(downstream_topic(kind, store), payload, True)
    return payload
