"""The rollout tables: releases, the notices sent, ring membership, each terminal's report."""

from __future__ import annotations

import peewee

from headoffice.orm import OfficeModel


class Release(OfficeModel):
    """A published release and its rollout's state."""

    version = peewee.CharField(primary_key=True, max_length=64)
    artifact = peewee.CharField(max_length=255)  # file name on the release server
    sha256 = peewee.CharField(max_length=64)
    size = peewee.BigIntegerField()
    ring = peewee.CharField(max_length=16)  # pilot, stores, all
    percent = peewee.IntegerField(default=100)
    state = peewee.CharField(max_length=16, default="active")  # active paused halted rolled_back
    reason = peewee.CharField(max_length=16, default="rollout")
    force = peewee.BooleanField(default=False)
    targets = peewee.TextField(default="[]")  # JSON list of terminal ids
    previous = peewee.CharField(max_length=64, default="")  # what the fleet ran before
    max_failures = peewee.IntegerField(default=1)  # this many failed terminals halt the ring
    halted_why = peewee.TextField(default="")
    published_at = peewee.CharField(max_length=40)


class NoticeSent(OfficeModel):
    """Every notice published, in order: its version is the notice sequence."""

    version = peewee.BigIntegerField(primary_key=True)
    release = peewee.CharField(max_length=64)
    body = peewee.TextField()
    sent_at = peewee.CharField(max_length=40)


class RingMember(OfficeModel):
    """A terminal of the pilot ring (every other terminal is in `stores`)."""

    terminal = peewee.CharField(primary_key=True, max_length=64)
    ring = peewee.CharField(max_length=16)


class TerminalRelease(OfficeModel):
    """A terminal's last report of an update: which release, what step, what came of it."""

    terminal = peewee.CharField(primary_key=True, max_length=64)
    release = peewee.CharField(max_length=64, default="")
    running = peewee.CharField(max_length=64, default="")
    phase = peewee.CharField(max_length=16, default="")
    outcome = peewee.CharField(max_length=16, default="")
    detail = peewee.TextField(default="")
    updated = peewee.CharField(max_length=40, default="")


RELEASE_MODELS = [Release, NoticeSent, RingMember, TerminalRelease]
