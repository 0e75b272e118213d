"""Cashiers and managers: PINs as salted scrypt hashes, lockout after repeated wrong PINs."""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from firmware.errors import (
    AuthError,
    PinEntryLockedFor,
    UserLocked,
    WrongPin,
    WrongPinLastTry,
    WrongPinLocked,
    WrongPinTriesLeft,
    WrongRole,
)
from firmware.models import User

__all__ = ["AuthError", "Cashier", "Users", "hash_pin", "pin_matches", "validate_pin"]

ROLES = ("cashier", "manager")
# scrypt cost: ~50 ms on a Pi 4, so guessing a 4-6 digit PIN offline is slow, login stays instant.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


@dataclass(frozen=True)
class Cashier:
    id: int
    name: str
    role: str

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def pin_matches(pin: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt_hex), n=int(n), r=int(r),
                            p=int(p), dklen=32)
    return hmac.compare_digest(digest.hex(), digest_hex)


def validate_pin(pin: str) -> None:
    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 8):
        raise ValueError("a PIN is 4 to 8 digits")


class Users:
    def __init__(self, max_attempts: int = 3, lockout_seconds: int = 60,
                 clock: Callable[[], float] = time.time) -> None:
        self.max_attempts, self.lockout_seconds, self.clock = max_attempts, lockout_seconds, clock

    def add(self, name: str, role: str, pin: str) -> Cashier:
        if role not in ROLES:
            raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
        validate_pin(pin)
        if not name.strip():
            raise ValueError("a user needs a name")
        for user in User.select().where(User.active):
            if pin_matches(pin, user.pin_hash):
                raise ValueError("that PIN is already in use; PINs identify the user")
        user = User.create(name=name.strip(), role=role, pin_hash=hash_pin(pin))
        return Cashier(user.id, user.name, user.role)

    def all(self) -> list[Cashier]:
        return [Cashier(u.id, u.name, u.role) for u in User.select().where(User.active).order_by(User.name)]

    def authenticate(self, pin: str, role: str | None = None) -> Cashier:
        """Finds the active user whose PIN this is; counts failures and locks out on repeat."""
        now = self.clock()
        users = list(User.select().where(User.active))
        if users and all(u.locked_until > now for u in users):
            raise PinEntryLockedFor(int(min(u.locked_until for u in users) - now) + 1)
        for user in users:
            if pin_matches(pin, user.pin_hash):
                if user.locked_until > now:
                    seconds = int(user.locked_until - now) + 1
                    raise UserLocked(user.name, seconds)
                if role is not None and user.role != role:
                    raise WrongRole(user.name, role)
                # a right PIN ends the run of wrong ones (the counter is terminal-wide)
                User.update(failed_attempts=0).where(User.active & (User.failed_attempts > 0)
                                                     & (User.locked_until <= now)).execute()
                return Cashier(user.id, user.name, user.role)
        raise self._count_failure(now)

    def _count_failure(self, now: float) -> AuthError:
        """Counts a wrong PIN; returns the error that says how many tries are left."""
        # A wrong PIN belongs to nobody, so the terminal-wide counter lives on every account:
        # after max_attempts wrong PINs in a row all accounts lock for lockout_seconds.
        User.update(failed_attempts=User.failed_attempts + 1).where(User.active).execute()
        User.update(locked_until=now + self.lockout_seconds, failed_attempts=0).where(
            User.active & (User.failed_attempts >= self.max_attempts)).execute()
        counters = [u.failed_attempts for u in User.select().where(User.active)]
        if not counters:
            return WrongPin()
        used = max(counters)
        if used == 0:  # the counter was reset by the lockout that starts now
            return WrongPinLocked(self.lockout_seconds)
        remaining = self.max_attempts - used
        return WrongPinLastTry() if remaining == 1 else WrongPinTriesLeft(remaining)
