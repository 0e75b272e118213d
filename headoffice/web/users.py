"""Dashboard users with scrypt password hashes, each with a role and, for a shop manager, the
shops they may see (`kassa office user add|list|role|remove|unlock`).

The role lives in its own table (`office_user_role`) so an existing database gains it without a
migration; a user made before roles existed has no row and counts as an owner, which is what
every user was then.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
from dataclasses import dataclass

import peewee

from headoffice.orm import OfficeModel, write_transaction
from headoffice.web.passwords import check_strength
from headoffice.web.roles import NEEDS_SHOPS, Access, Role

N, R, P = 2**14, 8, 1


class UserError(ValueError):
    """A refused user change; the message says why."""


class OfficeUser(OfficeModel):
    name = peewee.CharField(max_length=64, unique=True)
    password_hash = peewee.CharField(max_length=200)
    created = peewee.CharField(max_length=40)

    class Meta:
        table_name = "office_user"


class OfficeUserRole(OfficeModel):
    """A user's role, assigned shops (comma-separated) and optional TOTP secret."""

    user = peewee.CharField(max_length=64, unique=True)
    role = peewee.CharField(max_length=16)
    shops = peewee.TextField(default="")
    totp_secret = peewee.CharField(max_length=64, default="")

    class Meta:
        table_name = "office_user_role"


USER_MODELS = [OfficeUser, OfficeUserRole]


@dataclass(frozen=True)
class UserInfo:
    name: str
    role: Role
    shops: tuple[str, ...]
    created: str
    totp: bool


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    return f"scrypt${N}${R}${P}${salt.hex()}${digest.hex()}"


def check_password(stored: str, password: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                                   p=int(p), dklen=32)
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), digest)


def _shops_text(role: Role, shops: tuple[str, ...] | list[str]) -> str:
    clean = sorted({s.strip() for s in shops if s.strip()})
    if role in NEEDS_SHOPS and not clean:
        raise UserError(f"a {role.value} needs at least one shop (--shop)")
    if role not in NEEDS_SHOPS and clean:
        raise UserError(f"a {role.value} sees every shop; give --shop only to a manager")
    return ",".join(clean)


def add_user(name: str, password: str, replace: bool = False, role: Role = Role.OWNER,
             shops: tuple[str, ...] | list[str] = ()) -> OfficeUser:
    """Adds a user (an owner unless told otherwise). With `replace`, an existing user gets the
    new password and role, and every session of theirs ends."""
    from headoffice.web import sessions

    name = name.strip()
    if not name or len(name) > 64:
        raise UserError("a user name has 1 to 64 characters")
    problem = check_strength(password, name)
    if problem:
        raise UserError(problem)
    shops_text = _shops_text(role, shops)
    with write_transaction():
        existing = OfficeUser.get_or_none(OfficeUser.name == name)
        if existing and not replace:
            raise UserError(f"user {name!r} exists (use --replace to set a new password)")
        if existing:
            existing.password_hash = hash_password(password)
            existing.save()
            user = existing
            sessions.end_all(name)
        else:
            user = OfficeUser.create(name=name, password_hash=hash_password(password),
                                     created=_now())
        (OfficeUserRole.insert(user=name, role=role.value, shops=shops_text)
         .on_conflict(conflict_target=[OfficeUserRole.user],
                      update={OfficeUserRole.role: role.value, OfficeUserRole.shops: shops_text})
         .execute())
    return user


def set_password(name: str, password: str) -> None:
    """A new password ends every session of the user at once."""
    from headoffice.web import sessions

    problem = check_strength(password, name)
    if problem:
        raise UserError(problem)
    with write_transaction():
        if not OfficeUser.update(password_hash=hash_password(password)).where(
                OfficeUser.name == name).execute():
            raise UserError(f"no user {name!r}")
        sessions.end_all(name)


def set_role(name: str, role: Role, shops: tuple[str, ...] | list[str] = ()) -> None:
    """A changed role ends the user's sessions: the next login carries the new reach."""
    from headoffice.web import sessions

    shops_text = _shops_text(role, shops)
    with write_transaction():
        if OfficeUser.get_or_none(OfficeUser.name == name) is None:
            raise UserError(f"no user {name!r}")
        (OfficeUserRole.insert(user=name, role=role.value, shops=shops_text)
         .on_conflict(conflict_target=[OfficeUserRole.user],
                      update={OfficeUserRole.role: role.value, OfficeUserRole.shops: shops_text})
         .execute())
        sessions.end_all(name)


def remove_user(name: str) -> None:
    """Removes the user and ends every session of theirs at once."""
    from headoffice.web import sessions

    with write_transaction():
        if not OfficeUser.delete().where(OfficeUser.name == name).execute():
            raise UserError(f"no user {name!r}")
        OfficeUserRole.delete().where(OfficeUserRole.user == name).execute()
        sessions.end_all(name)


def set_totp(name: str, secret: str) -> None:
    """Stores (or with "" clears) the user's TOTP secret; only owners and accountants use one."""
    info = user_info(name)
    if info is None:
        raise UserError(f"no user {name!r}")
    if secret and info.role not in (Role.OWNER, Role.ACCOUNTANT):
        raise UserError("a second factor is for owners and accountants")
    OfficeUserRole.update(totp_secret=secret).where(OfficeUserRole.user == name).execute()


def totp_secret(name: str) -> str:
    row = OfficeUserRole.get_or_none(OfficeUserRole.user == name)
    return row.totp_secret if row else ""


def access_of(name: str) -> Access | None:
    """The user's reach, or None when the user no longer exists."""
    info = user_info(name)
    return None if info is None else Access.of(info.name, info.role, info.shops)


def user_info(name: str) -> UserInfo | None:
    user = OfficeUser.get_or_none(OfficeUser.name == name)
    if user is None:
        return None
    row = OfficeUserRole.get_or_none(OfficeUserRole.user == name)
    role = Role(row.role) if row else Role.OWNER  # made before roles: every user saw all
    shops = tuple(s for s in (row.shops if row else "").split(",") if s)
    return UserInfo(user.name, role, shops, user.created, bool(row and row.totp_secret))


def list_users() -> list[UserInfo]:
    return [info for u in OfficeUser.select().order_by(OfficeUser.name)
            if (info := user_info(u.name)) is not None]


def authenticate(name: str, password: str) -> OfficeUser | None:
    user = OfficeUser.get_or_none(OfficeUser.name == name.strip())
    if user is None:
        check_password(hash_password("x" * 8), password)  # same cost whether or not the user exists
        return None
    return user if check_password(user.password_hash, password) else None
