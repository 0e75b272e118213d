"""Login throttling per user name and per address: after a few failures each next attempt
waits twice as long, and a user name with too many failures is locked until an owner lifts
it (`kassa office user unlock` or the users page)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import peewee

from headoffice.orm import OfficeModel, write_transaction

FREE_FAILURES = 3          # failures of one user name before any waiting
ADDRESS_FREE = 10          # failures from one address (an office behind one NAT) before waiting
MAX_WAIT = 15 * 60         # the backoff's ceiling, seconds
LOCK_AFTER = 10            # failures of one user name in a row: locked until unlocked


class LoginFailure(OfficeModel):
    subject = peewee.CharField(max_length=140, unique=True)  # "user:NAME" or "addr:IP"
    failures = peewee.IntegerField(default=0)
    last = peewee.DoubleField(default=0)
    locked = peewee.BooleanField(default=False)

    class Meta:
        table_name = "office_login_failure"


THROTTLE_MODELS = [LoginFailure]


@dataclass(frozen=True)
class Refusal:
    """Why a login attempt is not even checked: `locked`, or wait `seconds` more."""

    locked: bool
    seconds: int


def wait_for(failures: int, free: int = FREE_FAILURES) -> int:
    """Seconds to wait after `failures` failures in a row: 0 for the first `free`, then 1, 2,
    4, ... up to MAX_WAIT."""
    if failures < free:
        return 0
    return min(2 ** min(failures - free, 20), MAX_WAIT)


def _subjects(user: str, address: str) -> list[str]:
    return [f"user:{user.strip()[:64]}", f"addr:{address[:64]}"]


def refused(user: str, address: str, now: float | None = None) -> Refusal | None:
    """A refusal when the user is locked or either subject is still waiting; else None."""
    now = time.time() if now is None else now
    rows = LoginFailure.select().where(LoginFailure.subject.in_(_subjects(user, address)))
    waits = []
    for row in rows:
        if row.locked:
            return Refusal(True, 0)
        free = FREE_FAILURES if row.subject.startswith("user:") else ADDRESS_FREE
        left = row.last + wait_for(row.failures, free) - now
        if left > 0:
            waits.append(left)
    return Refusal(False, int(max(waits)) + 1) if waits else None


def failed(user: str, address: str) -> bool:
    """Counts a failure for both subjects; True when the user name is now locked."""
    now, locked = time.time(), False
    with write_transaction():
        for subject in _subjects(user, address):
            row, _ = LoginFailure.get_or_create(subject=subject)
            row.failures += 1
            row.last = now
            if subject.startswith("user:") and row.failures >= LOCK_AFTER:
                row.locked = locked = True
            row.save()
    return locked


def succeeded(user: str, address: str) -> None:
    LoginFailure.delete().where(LoginFailure.subject.in_(_subjects(user, address))).execute()


def unlock(user: str) -> bool:
    """Lifts a user's lockout and backoff, and every address's backoff (the owner's word that
    the failures are dealt with); True when the user had failures."""
    with write_transaction():
        had = LoginFailure.delete().where(LoginFailure.subject == f"user:{user}").execute()
        LoginFailure.delete().where(LoginFailure.subject.startswith("addr:")).execute()
    return bool(had)


def locked_users() -> set[str]:
    return {row.subject[5:] for row in LoginFailure.select().where(
        LoginFailure.locked & LoginFailure.subject.startswith("user:"))}
