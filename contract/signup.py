"""A customer's sign-up at the till: its own upstream message, outside the journal.

The journal is kept for years and cannot be erased, so the e-mail address a cashier types
for a new customer never goes into it. The till keeps the sign-up in an erasable outbox
(firmware/signup.py) and publishes it on `kassa/v1/{store}/{terminal}/signup` (QoS 1, not
retained) until head office answers on `kassa/v1/{store}/{terminal}/signup_ack` (QoS 1, not
retained) with the ids it has taken; then the till deletes it. Head office takes a sign-up
once per id (a resend is acknowledged again, nothing more).

Payload (UTF-8 JSON): {"id": "s-<32 hex>", "email": "...", "name": "...", "language": "nl",
"consent": true|false, "text_version": "nl-2026-1", "cashier": "Sanne", "cashier_id": 3,
"at": "2026-12-04T17:02:11+01:00"}.

Erasure of a sign-up still waiting in a till's outbox: head office's offers message carries
`forget`, a list of {"salt": hex, "digest": hex} with digest = HMAC-SHA256(salt, e-mail) of
each erased address; the till deletes a pending sign-up whose address matches one. The
address itself never travels back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import asdict, dataclass

from contract.wire import ProtocolError, json_object

SIGNUP_LEAF = "signup"
SIGNUP_ACK_LEAF = "signup_ack"
MAX_SIGNUP_BYTES = 4096
MAX_ACK_IDS = 500
MAX_EMAIL = 254
MAX_NAME = 100
LANGUAGES = ("nl", "en")

# The consent question the cashier reads out, by version. A new wording gets a new version;
# head office records the version with each consent so it knows what the customer agreed to.
CONSENT_VERSION = "2026-1"
CONSENT_TEXTS = {
    "2026-1": {
        "nl": ("Mogen wij u af en toe een e-mail sturen met aanbiedingen, nieuws en een "
               "bericht als uw favoriete product weer op voorraad is? Afmelden kan altijd, "
               "met de link onder elke e-mail."),
        "en": ("May we now and then send you an e-mail with offers, news and a note when "
               "your favourite product is back in stock? You can unsubscribe at any time "
               "with the link at the bottom of every e-mail."),
    },
}

_ID = re.compile(r"s-[0-9a-f]{32}")
_LOCAL = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")


# why an address is refused: code -> the English text (the till's UI has one error type each)
EMAIL_PROBLEMS = {
    "empty": "empty",
    "too_long": f"longer than {MAX_EMAIL} characters",
    "at_sign": "needs exactly one @",
    "mailbox": "the part before the @ is not a mailbox name",
    "domain": "the part after the @ is not a domain such as example.nl",
}


class InvalidEmail(ValueError):
    """An e-mail address that cannot be one; `problem` is a key of EMAIL_PROBLEMS."""

    def __init__(self, email: str, problem: str) -> None:
        super().__init__(f"e-mail {email!r}: {EMAIL_PROBLEMS[problem]}")
        self.email, self.problem = email, problem


def check_email(text: str) -> str:
    """The address lower-cased and stripped, or InvalidEmail naming the problem: one `@`,
    a mailbox name before it, a domain with a dot and a top-level part of letters after it."""
    email = text.strip().lower()
    if not email:
        raise InvalidEmail(text, "empty")
    if len(email) > MAX_EMAIL:
        raise InvalidEmail(text, "too_long")
    if email.count("@") != 1:
        raise InvalidEmail(text, "at_sign")
    local, domain = email.split("@")
    if not local or not _LOCAL.fullmatch(local) or local.startswith(".") or local.endswith(
            ".") or ".." in local:
        raise InvalidEmail(text, "mailbox")
    labels = domain.split(".")
    if (len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels)
            or len(labels[-1]) < 2 or not labels[-1].isalpha()):
        raise InvalidEmail(text, "domain")
    return email


def new_signup_id() -> str:
    return "s-" + secrets.token_hex(16)


@dataclass(frozen=True)
class Signup:
    id: str
    email: str
    name: str
    language: str
    consent: bool
    text_version: str
    cashier: str
    cashier_id: int
    at: str


def encode_signup(signup: Signup) -> bytes:
    return json.dumps(asdict(signup), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


def _text(data: dict, key: str, max_len: int, required: bool = True) -> str:
    value = data.get(key)
    if not isinstance(value, str) or len(value) > max_len or (required and not value.strip()):
        raise ProtocolError(f"sign-up {key!r} is missing, not a string or longer than {max_len}")
    return value.strip()


def decode_signup(payload: bytes) -> Signup:
    """A sign-up message checked field by field, else ProtocolError saying which field."""
    if len(payload) > MAX_SIGNUP_BYTES:
        raise ProtocolError(f"sign-up of {len(payload)} bytes exceeds {MAX_SIGNUP_BYTES}")
    data = json_object(payload)
    signup_id = _text(data, "id", 34)
    if not _ID.fullmatch(signup_id):
        raise ProtocolError("sign-up 'id' is not s-<32 hex>")
    try:
        email = check_email(_text(data, "email", MAX_EMAIL))
    except InvalidEmail as exc:  # the reason only: the address is personal data
        raise ProtocolError(f"sign-up e-mail: {EMAIL_PROBLEMS[exc.problem]}") from None
    language = _text(data, "language", 5)
    if language not in LANGUAGES:
        raise ProtocolError(f"sign-up language {language!r} is not one of nl, en")
    consent = data.get("consent")
    if not isinstance(consent, bool):
        raise ProtocolError("sign-up 'consent' is not true or false")
    version = _text(data, "text_version", 20)
    if version not in CONSENT_TEXTS:
        raise ProtocolError(f"sign-up text_version {version!r} is not a known consent text")
    cashier_id = data.get("cashier_id")
    if not isinstance(cashier_id, int) or isinstance(cashier_id, bool) or cashier_id < 0:
        raise ProtocolError("sign-up 'cashier_id' is not a non-negative integer")
    return Signup(signup_id, email, _text(data, "name", MAX_NAME, required=False), language,
                  consent, version, _text(data, "cashier", 64), cashier_id,
                  _text(data, "at", 40))


def encode_signup_ack(ids: list[str]) -> bytes:
    return json.dumps({"ids": ids}, separators=(",", ":")).encode()


def decode_signup_ack(payload: bytes) -> list[str]:
    data = json_object(payload)
    ids = data.get("ids")
    if not isinstance(ids, list) or len(ids) > MAX_ACK_IDS or not all(
            isinstance(i, str) and _ID.fullmatch(i) for i in ids):
        raise ProtocolError(f"sign-up ack 'ids' is not a list of at most {MAX_ACK_IDS} ids")
    return ids


def forget_digest(salt_hex: str, email: str) -> str:
    """HMAC-SHA256 of the lower-cased address under a random salt: lets a till recognise an
    erased address in its outbox without head office sending the address."""
    return hmac.new(bytes.fromhex(salt_hex), email.strip().lower().encode(),
                    hashlib.sha256).hexdigest()


def new_forget_entry(email: str) -> dict[str, str]:
    salt = secrets.token_hex(16)
    return {"salt": salt, "digest": forget_digest(salt, email)}
