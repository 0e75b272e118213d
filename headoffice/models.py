"""Head-office tables: terminal registry, journal entries, per-terminal state, dead letters."""

from __future__ import annotations

import peewee

from headoffice.orm import OfficeModel

GENESIS_HEX = "0" * 64


class RegisteredTerminal(OfficeModel):
    """A terminal in head office's registry: who may send, for which store, with which
    Ed25519 key (raw 32 bytes as hex)."""

    terminal_id = peewee.CharField(primary_key=True, max_length=64)
    store = peewee.CharField(max_length=64, index=True)
    public_key = peewee.CharField(max_length=64)
    status = peewee.CharField(max_length=16, default="active")  # active | revoked
    enrolled = peewee.CharField()
    revoked = peewee.CharField(null=True)

    class Meta:
        table_name = "terminal"


class OfficeEntry(OfficeModel):
    """One terminal journal entry as received and verified; stored once per (terminal, seq)."""

    terminal = peewee.CharField(max_length=64)
    seq = peewee.BigIntegerField()
    store = peewee.CharField(max_length=64, index=True)
    type = peewee.CharField(max_length=32, index=True)
    ts = peewee.CharField(max_length=40)
    body = peewee.TextField()
    hash = peewee.CharField(max_length=64)
    prev = peewee.CharField(max_length=64)
    sig = peewee.CharField(max_length=128)
    received = peewee.CharField(max_length=40)

    class Meta:
        table_name = "journal_entry"
        # ts and (store, ts): the report drill-down reads a few shop days newest first
        indexes = ((("terminal", "seq"), True), (("ts",), False), (("store", "ts"), False))


class TerminalState(OfficeModel):
    """What head office knows of a terminal's link: contiguous seq, gaps, online, backlog."""

    terminal = peewee.CharField(primary_key=True, max_length=64)
    store = peewee.CharField(max_length=64)
    contiguous_seq = peewee.BigIntegerField(default=0)
    head_hash = peewee.CharField(max_length=64, default=GENESIS_HEX)
    max_seen_seq = peewee.BigIntegerField(default=0)
    gap_since = peewee.DoubleField(null=True)  # epoch seconds, a time
    replay_requested = peewee.DoubleField(null=True)
    online = peewee.BooleanField(default=False)
    backlog = peewee.BigIntegerField(null=True)
    till_acked = peewee.BigIntegerField(null=True)
    status = peewee.TextField(default="")
    last_seen = peewee.CharField(max_length=40, default="")
    problem = peewee.TextField(default="")


class DeadLetter(OfficeModel):
    """A message that was not stored, with the reason. Never fatal, always kept for review."""

    received = peewee.CharField(max_length=40)
    topic = peewee.TextField()
    terminal = peewee.CharField(max_length=64, null=True, index=True)
    seq = peewee.BigIntegerField(null=True)
    reason = peewee.CharField(max_length=32, index=True)
    detail = peewee.TextField()
    payload = peewee.BlobField()  # first 4 kB


class DeadLetterCount(OfficeModel):
    reason = peewee.CharField(primary_key=True, max_length=32)
    count = peewee.BigIntegerField(default=0)


class DeadLetterTerminal(OfficeModel):
    """Dead letters per terminal ("" for messages that named none): `count` is exact even
    when the rows themselves are capped (headoffice/ingest/deadletter.py); `unkept` says how
    many were only counted, `alerted` the count at the last flood alert."""

    terminal = peewee.CharField(primary_key=True, max_length=64)
    count = peewee.BigIntegerField(default=0)
    unkept = peewee.BigIntegerField(default=0)
    last_reason = peewee.CharField(max_length=32, default="")
    last_received = peewee.CharField(max_length=40, default="")
    alerted = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "dead_letter_by_terminal"


ALL_MODELS: list[type[OfficeModel]] = [RegisteredTerminal, OfficeEntry, TerminalState, DeadLetter,
                                     DeadLetterCount, DeadLetterTerminal]
