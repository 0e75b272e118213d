"""The one way head office publishes a downstream message: sealed with its key, retained.

Catalogue, prices, promotions, offers and config all leave head office through
`send_downstream`, so every one of them carries head office's signature (contract/sealed.py)
and none can be published unsigned by a forgotten code path. When head office's database is
open, the version published is recorded (headoffice/downstream_models.py): the terminals
page compares each till's applied versions with it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from contract import downstream as bounds
from contract import release_notice, sealed, wire
from contract.keys import PrivateKey
from headoffice.broker import Publish
from headoffice.downstream_models import SEQUENCE_OF, DownstreamPublished
from headoffice.orm import database_proxy, write_transaction
from headoffice.signing import office_key

# what the uplink applies, and the fleet's release notice the updater reads
SEALED_KINDS = (*bounds.KINDS, release_notice.KIND)


def downstream_topic(kind: str, store: str) -> str:
    """`kassa/v1/{store}/{kind}`, or `kassa/v1/fleet/{kind}` for store `sealed.FLEET`."""
    return f"{wire.ROOT}/{wire.FLEET}/{kind}" if store == sealed.FLEET else wire.store_topic(store, kind)


def sealed_payload(kind: str, store: str, body: dict[str, Any],
                   key: PrivateKey | None = None) -> bytes:
    """The bytes `send_downstream` publishes: `body` (which must carry its `version`) sealed
    for `kind` and `store` with head office's key (or `key`). DownstreamError for a kind the
    tills do not take."""
    if kind not in SEALED_KINDS:
        raise bounds.DownstreamError(kind, f"unknown message kind (one of {', '.join(SEALED_KINDS)})")
    if kind == release_notice.KIND and store != sealed.FLEET:
        raise bounds.DownstreamError(kind, "a release notice goes to the whole fleet, not one store")
    return sealed.seal(key or office_key(), kind, store, int(body["version"]),
                       sealed.body_bytes(body))


def send_downstream(send: Publish, kind: str, store: str, body: dict[str, Any],
                    key: PrivateKey | None = None) -> bytes:
    """Seals `body` and publishes it retained on its topic; returns the payload sent."""
    payload = sealed_payload(kind, store, body, key)
    send(downstream_topic(kind, store), payload, True)
    record_published(kind, store, int(body["version"]))
    return payload


def record_published(kind: str, store: str, version: int) -> None:
    """The newest version published for the store's sequence, when the office database is
    open (a publisher run without it, such as a test's, records nothing)."""
    if database_proxy.obj is None:
        return
    sequence = SEQUENCE_OF[kind]
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with write_transaction():
        row = DownstreamPublished.get_or_none(store=store, sequence=sequence)
        if row is None:
            DownstreamPublished.create(store=store, sequence=sequence, version=version,
                                       published_at=now)
        elif version > row.version:
            DownstreamPublished.update(version=version, published_at=now).where(
                (DownstreamPublished.store == store)
                & (DownstreamPublished.sequence == sequence)).execute()
