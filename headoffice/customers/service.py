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
from headoffice.customers.models import ConsentLog, Customer, Erased, Favourite, Purchase
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


def _check(name: str, email: str, language: str, name_required: bool = True
           ) -> tuple[str, str]:
    if name_required and not name.strip():
        raise CustomerError("name: missing")
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise CustomerError(f"e-mail: {email!r} is not an e-mail address")
    if language not in LANGUAGES:
        raise CustomerError(f"language: {language!r} is not one of {', '.join(LANGUAGES)}")
    return name.strip(), email


def create(name: str, email: str, language: str = "nl", home_store: str = "",
           consent: bool = False, consent_source: str = "office",
           card_prefix: str = DEFAULT_CARD_PREFIX, card: str | None = None,
           recorded_by: str = "", text_version: str = "", at: str | None = None,
           log_refusal: bool = False) -> CustomerView:
    """A new account with a fresh pseudonym and loyalty card number. A till sign-up passes
    the consent text's version, when it was asked (`at`) and, as the customer answered
    explicitly, `log_refusal` so a "no" is in the consent log too; its name may be empty."""
    name, email = _check(name, email, language, name_required=consent_source != "till")
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
        stamp = at or now_iso()
        row = Customer.create(
            customer_id="c-" + secrets.token_hex(8), name=name, email=email, card=card,
            language=language, home_store=home_store, consent=consent,
            consent_date=stamp if consent else None,
            consent_source=consent_source if consent else None,
            unsubscribe_token=secrets.token_urlsafe(24), created=stamp)
        if consent or log_refusal:
            _log(row.customer_id, consent, consent_source, recorded_by, stamp, text_version)
    return _view(row)


def _log(customer_id: str, consent: bool, source: str, recorded_by: str,
         at: str | None = None, text_version: str = "") -> None:
    ConsentLog.create(customer_id=customer_id, at=at or now_iso(), consent=consent,
                      source=source, recorded_by=recorded_by[:64], text_version=text_version)


def consent_log(customer_id: str) -> list[ConsentLog]:
    """Every consent change of a customer, oldest first."""
    return list(ConsentLog.select().where(ConsentLog.customer_id == customer_id)
                .order_by(ConsentLog.at, ConsentLog.id))


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


def set_consent(ref: str, consent: bool, source: str, recorded_by: str = "",
                text_version: str = "", at: str | None = None) -> CustomerView:
    """Records marketing consent (or its withdrawal) with the date, where it came from and
    who recorded it (the consent log keeps every change); a till passes the version of the
    consent text it asked and when it asked."""
    if source not in SOURCES:
        raise CustomerError(f"consent source: {source!r} is not one of {', '.join(SOURCES)}")
    customer = get(ref)
    stamp = at or now_iso()
    with write_transaction():
        Customer.update(consent=consent, consent_date=stamp, consent_source=source).where(
            Customer.customer_id == customer.customer_id).execute()
        _log(customer.customer_id, consent, source, recorded_by, stamp, text_version)
    return get(customer.customer_id)


def update_profile(ref: str, *, name: str, email: str, language: str, home_store: str,
                   by: str) -> CustomerView:
    """The owner's edit of a profile; a changed e-mail must not belong to someone else."""
    customer = get(ref)
    name, email = _check(name, email, language)
    with write_transaction():
        other = Customer.get_or_none(Customer.email == email)
        if other is not None and other.customer_id != customer.customer_id:
            raise CustomerError(f"e-mail: {email} already has an account ({other.customer_id}); "
                                "merge the two instead")
        Customer.update(name=name, email=email, language=language,
                        home_store=home_store.strip()).where(
            Customer.customer_id == customer.customer_id).execute()
    return get(customer.customer_id)


def merge(keep_ref: str, drop_ref: str, by: str) -> CustomerView:
    """Folds a duplicate account into `keep`: favourites, history and consent log move over;
    the duplicate's pseudonym is marked erased so late till entries naming it link nothing.
    Consent stays as `keep` has it unless the duplicate's is newer."""
    keep, drop = get(keep_ref), get(drop_ref)
    if keep.customer_id == drop.customer_id:
        raise CustomerError(f"merge: {keep_ref!r} and {drop_ref!r} are the same customer")
    stamp = now_iso()
    with write_transaction():
        for fav in Favourite.select().where(Favourite.customer_id == drop.customer_id):
            Favourite.insert(customer_id=keep.customer_id, sku=fav.sku, source=fav.source,
                             created=fav.created).on_conflict_ignore().execute()
        Favourite.delete().where(Favourite.customer_id == drop.customer_id).execute()
        Purchase.update(customer_id=keep.customer_id).where(
            Purchase.customer_id == drop.customer_id).execute()
        ConsentLog.update(customer_id=keep.customer_id).where(
            ConsentLog.customer_id == drop.customer_id).execute()
        if (drop.consent_date or "") > (keep.consent_date or ""):
            Customer.update(consent=drop.consent, consent_date=drop.consent_date,
                            consent_source=drop.consent_source).where(
                Customer.customer_id == keep.customer_id).execute()
        Customer.delete().where(Customer.customer_id == drop.customer_id).execute()
        Erased.insert(customer_id=drop.customer_id, erased=stamp).on_conflict_ignore().execute()
        _log(keep.customer_id, get(keep.customer_id).consent, "office",
             f"{by} merged {drop.customer_id}"[:64], stamp)
    return get(keep.customer_id)


def duplicates() -> list[tuple[str, str]]:
    """Pairs of accounts that look like one person: the same name and the same e-mail
    local part (e-mail and card are unique per account, so exact copies cannot exist)."""
    seen: dict[tuple[str, str], str] = {}
    pairs = []
    for row in Customer.select().order_by(Customer.created, Customer.customer_id):
        key = (row.name.casefold().strip(), row.email.split("@")[0])
        if key in seen:
            pairs.append((seen[key], row.customer_id))
        else:
            seen[key] = row.customer_id
    return pairs


def unsubscribe(token: str) -> bool:
    """The link in every mail: withdraws consent; True when the token was known. Idempotent:
    a second use changes nothing (the date of the first withdrawal stays)."""
    with write_transaction():
        row = Customer.get_or_none(Customer.unsubscribe_token == token)
        if row is None:
            return False
        if Customer.update(consent=False, consent_date=now_iso(), consent_source="unsubscribe"
                           ).where(Customer.unsubscribe_token == token,
                                   Customer.consent == True).execute():  # noqa: E712
            _log(row.customer_id, False, "unsubscribe", "the customer (mail link)")
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
