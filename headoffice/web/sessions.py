"""Dashboard sessions kept on the server: the cookie holds only a random token, the table its
hash, so logout, a removed user, a new password or an idle timeout ends a session at once."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from dataclasses import dataclass

import peewee

from headoffice.orm import OfficeModel

IDLE_SECONDS = 30 * 60
TOUCH_EVERY = 60  # the live page polls each second: write last_seen at most once a minute


@dataclass(frozen=True)
class SessionInfo:
    key: str
    created: str
    last_seen: str
    address: str
    agent: str


class OfficeSession(OfficeModel):
    """Times are epoch seconds in DOUBLE PRECISION (a REAL would round them to minutes)."""

    key = peewee.CharField(max_length=64, unique=True)  # sha256 of the cookie's token
    user = peewee.CharField(max_length=64, index=True)
    created = peewee.DoubleField()
    last_seen = peewee.DoubleField()
    address = peewee.CharField(max_length=64, default="")
    agent = peewee.CharField(max_length=200, default="")

    class Meta:
        table_name = "office_session"


SESSION_MODELS = [OfficeSession]


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _local(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch).astimezone().strftime("%d-%m-%Y %H:%M:%S")


def start(user: str, address: str = "", agent: str = "") -> str:
    """A new session for `user`; returns the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    OfficeSession.create(key=_key(token), user=user, created=now, last_seen=now,
                         address=address[:64], agent=agent[:200])
    return token


def user_of(token: str, idle: float = IDLE_SECONDS) -> str | None:
    """The session's user, or None when there is no such session or it has been idle too long
    (then it is ended)."""
    if not token:
        return None
    row = OfficeSession.get_or_none(OfficeSession.key == _key(token))
    if row is None:
        return None
    now = time.time()
    if now - row.last_seen > idle:
        row.delete_instance()
        return None
    if now - row.last_seen > min(TOUCH_EVERY, idle / 4):
        OfficeSession.update(last_seen=now).where(OfficeSession.id == row.id).execute()
    return str(row.user)


def end(token: str) -> None:
    OfficeSession.delete().where(OfficeSession.key == _key(token)).execute()


def end_all(user: str) -> int:
    """Ends every session of `user` (logout everywhere, a removed user, a new password)."""
    return OfficeSession.delete().where(OfficeSession.user == user).execute()


def active(user: str, idle: float = IDLE_SECONDS) -> list[SessionInfo]:
    """The user's sessions that have not timed out, newest first."""
    cutoff = time.time() - idle
    rows = (OfficeSession.select().where((OfficeSession.user == user)
                                         & (OfficeSession.last_seen >= cutoff))
            .order_by(OfficeSession.created.desc()))
    return [SessionInfo(r.key[:12], _local(r.created), _local(r.last_seen), r.address, r.agent)
            for r in rows]
