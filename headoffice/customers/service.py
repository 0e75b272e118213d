"""Customer accounts: create, find, consent, favourites (GDPR erasure: headoffice.privacy).

Call headoffice.db.open_office_db(url) first. The pseudonymous
`customer_id` is what tills, the journal and every other table use; erasure deletes the
person (name, e-mail, card) and every row linking the pseudonym to them, and keeps the
fiscal journal as it is (it never held more than the pseudonym).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from contract.cards import card_number
from contract.product_key import parse_sku
from headoffice.customers.models import Customer, Erased, Favourite
from headoffice.orm import write_transaction

LANGUAGES = ("nl", "en")
SOURCES = ("till", "office", "webshop", "unsubscribe")
DEFAULT_CARD_PREFIX = "299"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class CustomerError(ValueError):
    """A refused customer change; the message names what was wrong."""


@dataclass(frozen=True)
class CustomerView:
    customer_id: str
    name: str
    email: str
    card: str
    language: str
    home_store: str
    consent: bool
    consent_date: str | None
    consent_source: str | None
    favourites: tuple[str, ...]


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _view(row: Customer) -> CustomerView:
    favourites = tuple(f.sku for f in Favourite.select().where(
        Favourite.customer_id == row.customer_id).order_by(Favourite.sku))
    return CustomerView(row.customer_id, row.name, row.email, row.card, row.language,
                        row.home_store, row.consent, row.consent_date, row.consent_source,
                        favourites)


def _check(name: str, email: str, language: str) -> tuple[str, str]:
    if not name.strip():
        raise CustomerError("name: missing")
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise CustomerError(f"e-mail: {email!r} is not an e-mail address")
    if language not in LANGUAGES:
        raise CustomerError(f"language: {language!r} is not one of {', '.join(LANGUAGES)}")
    return name.strip(), email


def create(name: str, email: str, language: str = "nl", home_store: str = "",
           consent: bool = False, consent_source: str = "office",
           card_prefix: str = DEFAULT_CARD_PREFIX, card: str | None = None) -> CustomerView:
    """A new account with a fresh pseudonym and loyalty card number."""
    name, email = _check(name, email, language)
    if consent_source not in SOURCES:
        raise CustomerError(f"consent source: {consent_source!r} is not one of {', '.join(SOURCES)}")
    with write_transaction():
        if Customer.get_or_none(Customer.email == email) is not None:
            raise CustomerError(f"e-mail: {email} already has an account")
        if card is None:
            for _ in range(20):
                card = card_number(card_prefix, secrets.randbelow(10 ** (12 - len(card_prefix))))
                if Customer.get_or_none(Customer.card == card) is None:
                    break
        elif Customer.get_or_none(Customer.card == card) is not None:
            raise CustomerError(f"card: {card} belongs to another customer")
        stamp = now_iso()
        row = Customer.create(
            customer_id="c-" + secrets.token_hex(8), name=name, email=email, card=card,
            language=language, home_store=home_store, consent=consent,
            consent_date=stamp if consent else None,
            consent_source=consent_source if consent else None,
            unsubscribe_token=secrets.token_urlsafe(24), created=stamp)
    return _view(row)


def get(ref: str) -> CustomerView:
    """By pseudonym, card number or e-mail."""
    ref = ref.strip()
    row = Customer.get_or_none((Customer.customer_id == ref) | (Customer.card == ref)
                               | (Customer.email == ref.lower()))
    if row is None:
        raise CustomerError(f"no customer with id, card or e-mail {ref!r}")
    return _view(row)


def find(text: str, limit: int = 50) -> list[CustomerView]:
    needle = text.strip().lower()
    query = (Customer.select().where(Customer.name.contains(needle) | Customer.email.contains(needle)
                                     | Customer.card.contains(needle))
             .order_by(Customer.name).limit(limit))
    return [_view(row) for row in query]


def set_consent(ref: str, consent: bool, source: str) -> CustomerView:
    """Records marketing consent (or its withdrawal) with the date and where it came from."""
    if source not in SOURCES:
        raise CustomerError(f"consent source: {source!r} is not one of {', '.join(SOURCES)}")
    customer = get(ref)
    with write_transaction():
        Customer.update(consent=consent, consent_date=now_iso(), consent_source=source).where(
            Customer.customer_id == customer.customer_id).execute()
    return get(customer.customer_id)


def unsubscribe(token: str) -> bool:
    """The link in every mail: withdraws consent; True when the token was known. Idempotent:
    a second use changes nothing (the date of the first withdrawal stays)."""
    with write_transaction():
        if Customer.get_or_none(Customer.unsubscribe_token == token) is None:
            return False
        Customer.update(consent=False, consent_date=now_iso(), consent_source="unsubscribe").where(
            Customer.unsubscribe_token == token, Customer.consent == True).execute()  # noqa: E712
        return True


def by_token(token: str) -> CustomerView | None:
    """The customer an unsubscribe link belongs to, or None (unknown or erased)."""
    row = Customer.get_or_none(Customer.unsubscribe_token == token)
    return _view(row) if row is not None else None


def add_favourite(customer_id: str, sku: str, source: str) -> bool:
    """Idempotent; False when the pseudonym is unknown or erased (nothing stored)."""
    sku = parse_sku(sku)
    with write_transaction():
        if Customer.get_or_none(Customer.customer_id == customer_id) is None:
            return False
        Favourite.insert(customer_id=customer_id, sku=sku, source=source,
                         created=now_iso()).on_conflict_ignore().execute()
    return True


def remove_favourite(customer_id: str, sku: str) -> bool:
    with write_transaction():
        return Favourite.delete().where(Favourite.customer_id == customer_id,
                                        Favourite.sku == parse_sku(sku)).execute() > 0


def is_erased(customer_id: str) -> bool:
    return Erased.get_or_none(Erased.customer_id == customer_id) is not None
