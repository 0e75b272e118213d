"""Dashboard users with scrypt password hashes (`kassa office user add`)."""

from __future__ import annotations

import hashlib
import hmac
import os

import peewee

from headoffice.orm import OfficeModel

N, R, P = 2**14, 8, 1


class UserError(ValueError):
    """A refused user change; the message says why."""


class OfficeUser(OfficeModel):
    name = peewee.CharField(max_length=64, unique=True)
    password_hash = peewee.CharField(max_length=200)
    created = peewee.CharField(max_length=40)

    class Meta:
        table_name = "office_user"


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


def add_user(name: str, password: str, replace: bool = False) -> OfficeUser:
    import datetime as dt

    name = name.strip()
    if not name or len(name) > 64:
        raise UserError("a user name has 1 to 64 characters")
    if len(password) < 8:
        raise UserError("a password has at least 8 characters")
    existing = OfficeUser.get_or_none(OfficeUser.name == name)
    if existing and not replace:
        raise UserError(f"user {name!r} exists (use --replace to set a new password)")
    if existing:
        existing.password_hash = hash_password(password)
        existing.save()
        return existing
    return OfficeUser.create(name=name, password_hash=hash_password(password),
                             created=dt.datetime.now().astimezone().isoformat(timespec="seconds"))


def authenticate(name: str, password: str) -> OfficeUser | None:
    user = OfficeUser.get_or_none(OfficeUser.name == name.strip())
    if user is None:
        check_password(hash_password("x" * 8), password)  # same cost whether or not the user exists
        return None
    return user if check_password(user.password_hash, password) else None
