"""The journal as outbox: what head office has confirmed, and what is still to be sent.

An entry counts as delivered only when head office's `ack` covers it, never on a broker
PUBACK; the confirmed seq is kept in `Delivery`, which only the uplink writes. So is the
`link` row: connected (acked_seq 1) or not (0) and when that was last confirmed, which the
till's status bar reads instead of guessing from the ack's age.
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee

from contract import chain, wire
from contract.shop_time import shop_stamp
from firmware.models import Delivery

LINK_KEY = "link"


@dataclass(frozen=True)
class Outgoing:
    seq: int
    payload: bytes


class Outbox:
    """Reads unsent entries and records head office's confirmations in the till database."""

    def __init__(self, db: peewee.SqliteDatabase) -> None:
        self.db = db

    def acked(self) -> int:
        row = Delivery.get_or_none(Delivery.key == "ack")
        return row.acked_seq if row else 0

    def record_ack(self, seq: int) -> int:
        """Stores a higher confirmed seq (never lowers it); returns the stored value."""
        with self.db.atomic("IMMEDIATE"):
            current = self.acked()
            if seq <= current:
                return current
            now = shop_stamp("milliseconds")
            Delivery.insert(key="ack", acked_seq=seq, updated=now).on_conflict_replace().execute()
        return seq

    def record_link(self, connected: bool) -> None:
        """The broker connection as the uplink sees it, with the time (a heartbeat while up)."""
        now = shop_stamp("milliseconds")
        Delivery.insert(key=LINK_KEY, acked_seq=int(connected), updated=now
                        ).on_conflict_replace().execute()

    def head(self) -> int:
        row = self.db.execute_sql("SELECT MAX(seq) FROM journal").fetchone()
        return row[0] or 0

    def read(self, from_seq: int, limit: int) -> list[Outgoing]:
        """Up to `limit` entries from `from_seq` on, encoded for the wire with their prev hash."""
        cursor = self.db.execute_sql(
            "SELECT seq, body, hash, sig FROM journal WHERE seq >= ? ORDER BY seq LIMIT ?",
            (from_seq - 1, limit + 1),
        )
        out: list[Outgoing] = []
        prev = chain.GENESIS.hex()
        for seq, body, hash_hex, sig_hex in cursor:
            if seq >= from_seq:
                out.append(Outgoing(seq, wire.encode_journal(body, hash_hex, sig_hex, prev)))
            prev = hash_hex
        return out[:limit]
