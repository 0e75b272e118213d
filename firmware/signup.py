"""Customer sign-up at the till: kept in an erasable outbox until head office takes it.

The cashier types the customer's e-mail (and, if given, a name) and asks the consent
question (contract.signup.CONSENT_TEXTS) on the customer's behalf. The sign-up is stored in
`PendingSignup`, never in the journal (an e-mail address must stay erasable); the uplink
publishes it on the terminal's `signup` topic until head office acknowledges it, and then
deletes it (firmware/uplink/client.py). Deleting runs with secure_delete and truncates the
WAL afterwards, so the address leaves the file's bytes too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import peewee

from contract.shop_time import shop_stamp
from contract.signup import (
    CONSENT_VERSION,
    MAX_NAME,
    InvalidEmail,
    Signup,
    check_email,
    decode_signup,
    encode_signup,
    forget_digest,
    new_signup_id,
)
from firmware.db import truncate_wal
from firmware.errors import (
    BadSignupEmail,
    SignupEmailAtSign,
    SignupEmailDomain,
    SignupEmailEmpty,
    SignupEmailMailbox,
    SignupEmailTooLong,
    SignupInTraining,
    SignupNameTooLong,
)
from firmware.kernel import TillKernel
from firmware.models import PENDING_SIGNUP_TABLE, PendingSignup

log = logging.getLogger("kassa.signup")

TABLE = PENDING_SIGNUP_TABLE  # read and cleared with the caller's connection
_EMAIL_ERRORS: dict[str, type[BadSignupEmail]] = {
    "empty": SignupEmailEmpty, "too_long": SignupEmailTooLong, "at_sign": SignupEmailAtSign,
    "mailbox": SignupEmailMailbox, "domain": SignupEmailDomain,
}


@dataclass(frozen=True)
class SignupReceipt:
    """What the cashier is told: the id and the address as recorded."""

    signup_id: str
    email: str
    consent: bool


def valid_email(text: str) -> str:
    """The address as it will be sent, or the typed error for the UI."""
    try:
        return check_email(text)
    except InvalidEmail as exc:
        raise _EMAIL_ERRORS[exc.problem](text.strip()[:60]) from None


class SignupService:
    """Records sign-ups (TillService.sign_up) and clears them (uplink, erasure)."""

    def __init__(self, kernel: TillKernel) -> None:
        self.kernel = kernel

    def sign_up(self, email: str, name: str, consent: bool, language: str = "nl"
                ) -> SignupReceipt:
        """Validates and keeps the sign-up for the uplink; consent is the customer's explicit
        answer to the current consent text, recorded with the cashier who asked."""
        with self.kernel.lock:
            cashier = self.kernel.require_cashier()
            if self.kernel.training:
                raise SignupInTraining()
            address = valid_email(email)
            name = " ".join(name.split())
            if len(name) > MAX_NAME:
                raise SignupNameTooLong(MAX_NAME)
            now = shop_stamp("seconds")
            signup = Signup(new_signup_id(), address, name, language if language in (
                "nl", "en") else "nl", bool(consent), CONSENT_VERSION, cashier.name,
                cashier.id, now)
            PendingSignup.create(signup_id=signup.id, payload=encode_signup(signup).decode(),
                                 created=now)
            self.kernel.emit("customer_signup", signup_id=signup.id, consent=signup.consent)
            return SignupReceipt(signup.id, address, signup.consent)


def pending(db: peewee.Database, limit: int = 100) -> list[tuple[str, bytes]]:
    """(id, payload) of the sign-ups head office has not acknowledged, in the order made."""
    cursor = db.execute_sql(
        f'SELECT signup_id, payload FROM "{TABLE}" ORDER BY rowid LIMIT ?',
        (limit,))
    return [(signup_id, payload.encode()) for signup_id, payload in cursor]


def count_pending(db: peewee.Database) -> int:
    return db.execute_sql(f'SELECT COUNT(*) FROM "{TABLE}"').fetchone()[0]


def mark_sent(db: peewee.Database, ids: list[str]) -> None:
    if ids:
        marks = ",".join("?" * len(ids))
        db.execute_sql(f'UPDATE "{TABLE}" SET sent = sent + 1 WHERE signup_id IN ({marks})',
                       ids)


def delete(db: peewee.Database, ids: list[str]) -> int:
    """Deletes these sign-ups so no byte of them stays in the file or its WAL; returns how
    many there were."""
    if not ids:
        return 0
    db.execute_sql("PRAGMA secure_delete=ON")
    with db.atomic("IMMEDIATE"):
        gone = delete_rows(db, ids)
    if gone:
        truncate_wal(db)
    return gone


def delete_rows(db: peewee.Database, ids: list[str]) -> int:
    """The deletion alone, in the caller's transaction (which sets secure_delete and
    truncates the WAL after its commit)."""
    if not ids:
        return 0
    marks = ",".join("?" * len(ids))
    return db.execute_sql(f'DELETE FROM "{TABLE}" WHERE signup_id IN ({marks})', ids).rowcount


def forgotten(db: peewee.Database, entries: list[dict[str, str]]) -> list[str]:
    """Ids of the pending sign-ups whose address matches an entry of head office's erasure
    list (the offers message's `forget`)."""
    if not entries:
        return []
    matched = []
    for signup_id, payload in pending(db, limit=10_000):
        email = decode_signup(payload).email
        if any(forget_digest(e["salt"], email) == e["digest"] for e in entries):
            matched.append(signup_id)
    if matched:
        log.info("%d pending sign-up(s) erased at head office's request", len(matched))
    return matched
