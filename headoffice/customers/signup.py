"""A customer's sign-up from a till (contract/signup.py): create the account, or give the
sign-up to the account that already has the address, with the consent answer in the log.

Called by the ingest worker for each message on `kassa/v1/{store}/{terminal}/signup`; the
worker acknowledges the ids this returns as taken. Each id is taken once (a till resends
until it hears the acknowledgement). The consent log entry says who asked (the cashier, on
which till), when (the till's clock), and which version of the consent text was read out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from contract.signup import Signup, forget_digest
from headoffice.customers import service
from headoffice.customers.models import Customer, ErasedAddress, TillSignup
from headoffice.models import RegisteredTerminal
from headoffice.orm import write_transaction


class SignupRefused(Exception):
    """A sign-up head office will not take from this sender; kept out of the customer tables."""

    def __init__(self, store: str, terminal: str, reason: str) -> None:
        super().__init__(f"sign-up from {store}/{terminal}: {reason}")
        self.store, self.terminal, self.reason = store, terminal, reason


@dataclass(frozen=True)
class Taken:
    signup_id: str
    customer_id: str  # "" when the address was erased after the sign-up
    outcome: str  # created | merged | erased | again


def _utc(stamp: str) -> str:
    """The till's timestamp in UTC (as head office stores times); now when unreadable."""
    try:
        when = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return service.now_iso()
    if when.tzinfo is None:
        when = when.astimezone()
    return when.astimezone(dt.UTC).isoformat(timespec="seconds")


def erased_after(email: str, at: str) -> bool:
    """True when this address was erased at or after `at` (UTC): a till that was offline
    sends a sign-up the customer has since had erased."""
    return any(forget_digest(row.salt, email) == row.digest
               for row in ErasedAddress.select().where(ErasedAddress.erased >= at))


def take(store: str, terminal: str, signup: Signup) -> Taken:
    """Creates or updates the customer for one sign-up; idempotent on the sign-up's id."""
    at = _utc(signup.at)
    recorded_by = f"{signup.cashier} ({store}/{terminal})"
    with write_transaction():
        seen = TillSignup.get_or_none(TillSignup.signup_id == signup.id)
        if seen is not None:
            return Taken(signup.id, seen.customer_id, "again")
        sender = RegisteredTerminal.get_or_none(RegisteredTerminal.terminal_id == terminal)
        if sender is None or sender.status != "active" or sender.store != store:
            raise SignupRefused(store, terminal, "not an active terminal of this store")
        if erased_after(signup.email, at):
            outcome, customer_id = "erased", ""
        else:
            existing = Customer.get_or_none(Customer.email == signup.email)
            if existing is None:
                customer_id = service.create(
                    signup.name, signup.email, signup.language, store, consent=signup.consent,
                    consent_source="till", recorded_by=recorded_by,
                    text_version=signup.text_version, at=at, log_refusal=True).customer_id
                outcome = "created"
            else:
                customer_id, outcome = existing.customer_id, "merged"
                if signup.name and not existing.name.strip():
                    Customer.update(name=signup.name).where(
                        Customer.customer_id == customer_id).execute()
                if (existing.consent_date or "") <= at:  # a newer answer elsewhere stands
                    service.set_consent(customer_id, signup.consent, "till", recorded_by,
                                        text_version=signup.text_version, at=at)
        TillSignup.create(signup_id=signup.id, customer_id=customer_id, store=store,
                          terminal=terminal, cashier=signup.cashier[:64], at=at,
                          received=service.now_iso(), outcome=outcome)
    return Taken(signup.id, customer_id, outcome)
