"""Sign-up at the till (firmware/signup.py, headoffice/customers/signup.py): the e-mail is
checked with a typed error, kept outside the journal in an erasable outbox, taken at head
office once per id (created, or merged into the account that has the address) with the
consent answer, the cashier, the till and the text version in the consent log; erasure at
head office reaches a sign-up still waiting in a till's outbox."""

from __future__ import annotations

import pytest

from contract.signup import (
    CONSENT_VERSION,
    InvalidEmail,
    check_email,
    decode_signup,
    encode_signup,
    new_forget_entry,
)
from contract.wire import ProtocolError
from firmware import errors, signup
from firmware.models import JournalEntry, PendingSignup
from firmware.offers import apply_message
from firmware.uplink.downstream import _set_version, applied_version
from headoffice import privacy, registry
from headoffice.customers import service
from headoffice.customers.models import ConsentLog, Customer, ErasedAddress, TillSignup
from headoffice.customers.signup import SignupRefused, take
from headoffice.offers.publish import next_messages

EMAIL = "noor.vd.berg@example.nl"


def _pending(till):
    return [decode_signup(payload) for _id, payload in signup.pending(till.db)]


@pytest.mark.parametrize(("typed", "error"), [
    ("", errors.SignupEmailEmpty),
    ("noor.example.nl", errors.SignupEmailAtSign),
    ("noor@@example.nl", errors.SignupEmailAtSign),
    ("noor..berg@example.nl", errors.SignupEmailMailbox),
    ("noor berg@example.nl", errors.SignupEmailMailbox),
    ("noor@example", errors.SignupEmailDomain),
    ("noor@example.n1", errors.SignupEmailDomain),
    ("noor@-example.nl", errors.SignupEmailDomain),
    ("n" * 250 + "@example.nl", errors.SignupEmailTooLong),
])
def test_a_bad_address_is_refused_with_its_own_error_and_nothing_is_kept(shop_till, typed,
                                                                          error):
    with pytest.raises(error) as caught:
        shop_till.sign_up(typed, "Noor", consent=True)
    assert type(caught.value) is error
    assert PendingSignup.select().count() == 0


def test_the_address_is_normalised_and_good_ones_pass():
    assert check_email("  Noor.VD-Berg+kassa@Example.NL ") == "noor.vd-berg+kassa@example.nl"
    with pytest.raises(InvalidEmail) as caught:
        check_email("noor@example")
    assert caught.value.problem == "domain"


def test_sign_up_is_kept_outside_the_journal_with_the_cashier_and_consent(shop_till):
    head = JournalEntry.select().count()
    receipt = shop_till.sign_up(" Noor.vd.Berg@Example.nl ", "  Noor  van den Berg ",
                                consent=True)
    assert receipt.email == EMAIL and receipt.consent
    [kept] = _pending(shop_till)
    assert (kept.id, kept.email, kept.name, kept.consent) == (
        receipt.signup_id, EMAIL, "Noor van den Berg", True)
    assert kept.text_version == CONSENT_VERSION
    assert kept.cashier == shop_till.cashier.name and kept.cashier_id == shop_till.cashier.id
    assert JournalEntry.select().count() == head  # nothing journaled
    assert not JournalEntry.select().where(JournalEntry.body.contains("noor")).exists()
    no = shop_till.sign_up("jan@example.com", "", consent=False)
    assert [s.consent for s in _pending(shop_till) if s.id == no.signup_id] == [False]


def test_sign_up_needs_a_cashier_and_is_refused_in_training(shop_till):
    from firmware.permissions import Action

    shop_till.set_training(True, shop_till.approve("9999", Action.TRAINING))
    with pytest.raises(errors.SignupInTraining):
        shop_till.sign_up(EMAIL, "", consent=True)
    shop_till.set_training(False, shop_till.approve("9999", Action.TRAINING))
    shop_till.logout()
    with pytest.raises(errors.NotLoggedIn):
        shop_till.sign_up(EMAIL, "", consent=True)
    with pytest.raises(errors.SignupNameTooLong):
        shop_till.login("1111")
        shop_till.sign_up(EMAIL, "x" * 101, consent=True)
    assert PendingSignup.select().count() == 0


def _register(till) -> tuple[str, str]:
    store, terminal = till.config.terminal.store, till.config.terminal.terminal
    registry.add_terminal(terminal, store, till.journal.public_key.public_bytes_raw().hex())
    return store, terminal


def test_head_office_creates_the_customer_once_with_the_consent_log(office, shop_till):
    store, terminal = _register(shop_till)
    shop_till.sign_up(EMAIL, "Noor van den Berg", consent=True)
    [message] = _pending(shop_till)
    done = take(store, terminal, message)
    assert done.outcome == "created"
    row = Customer.get_by_id(done.customer_id)
    assert (row.email, row.name, row.home_store, row.consent, row.consent_source) == (
        EMAIL, "Noor van den Berg", store, True, "till")
    [log] = service.consent_log(done.customer_id)
    assert (log.consent, log.source, log.text_version) == (True, "till", CONSENT_VERSION)
    assert log.recorded_by == f"{shop_till.cashier.name} ({store}/{terminal})"
    assert log.at.endswith("+00:00")
    again = take(store, terminal, message)  # a resend: acknowledged, nothing new
    assert (again.outcome, again.customer_id) == ("again", done.customer_id)
    assert Customer.select().count() == 1 and ConsentLog.select().count() == 1
    assert TillSignup.get_by_id(message.id).cashier == shop_till.cashier.name


def test_a_known_address_is_merged_and_a_no_is_logged_too(office, shop_till):
    store, terminal = _register(shop_till)
    known = service.create("Noor", EMAIL, "nl", "s2", consent=True, consent_source="office",
                           recorded_by="web:owner")
    shop_till.sign_up(EMAIL.upper(), "Noor van den Berg", consent=False)
    shop_till.sign_up("piet@example.nl", "", consent=False)
    first, second = _pending(shop_till)
    merged = take(store, terminal, first)
    assert (merged.outcome, merged.customer_id) == ("merged", known.customer_id)
    row = Customer.get_by_id(known.customer_id)
    assert (row.name, row.consent, row.consent_source) == ("Noor", False, "till")
    assert [(c.consent, c.source, c.text_version) for c in
            service.consent_log(known.customer_id)] == [
        (True, "office", ""), (False, "till", CONSENT_VERSION)]
    nameless = take(store, terminal, second)
    assert nameless.outcome == "created"
    row = Customer.get_by_id(nameless.customer_id)
    assert (row.name, row.consent) == ("", False)
    assert [(c.consent, c.source) for c in service.consent_log(row.customer_id)] == [
        (False, "till")]


def test_a_sign_up_from_an_unknown_or_other_stores_terminal_is_refused(office, shop_till):
    store, terminal = _register(shop_till)
    shop_till.sign_up(EMAIL, "", consent=True)
    [message] = _pending(shop_till)
    with pytest.raises(SignupRefused):
        take("s9", terminal, message)
    with pytest.raises(SignupRefused):
        take(store, "t-unknown", message)
    assert Customer.select().count() == 0 and TillSignup.select().count() == 0


def test_the_message_is_checked_field_by_field(shop_till):
    shop_till.sign_up(EMAIL, "", consent=True)
    [message] = _pending(shop_till)
    good = encode_signup(message)
    assert decode_signup(good) == message
    for bad, says in ((good.replace(EMAIL.encode(), b"noor@example"), "e-mail: the part after"),
                      (good.replace(b'"consent":true', b'"consent":"yes"'), "consent"),
                      (good.replace(CONSENT_VERSION.encode(), b"1999-1"), "text_version"),
                      (good.replace(message.id.encode(), b"s-1"), "'id'")):
        with pytest.raises(ProtocolError, match=says) as caught:
            decode_signup(bad)
        assert "noor@" not in str(caught.value)  # the address is never in an error text


def test_erasure_drops_a_pending_sign_up_from_the_till_outbox(office, shop_till, tmp_path):
    """The customer is erased at head office while the till still holds her sign-up (it
    was offline): the next offers message names the address as a salted digest and the
    till deletes the sign-up; the bytes are gone from its file and WAL."""
    store, _terminal = _register(shop_till)
    service.create("Noor", EMAIL, "nl", store, consent=True)
    shop_till.sign_up(EMAIL, "Noor van den Berg", consent=True)
    other = shop_till.sign_up("piet@example.nl", "Piet", consent=False)
    db_file = tmp_path / "till" / "kassa.sqlite3"
    assert any(EMAIL.encode() in p.read_bytes() for p in db_file.parent.glob("kassa.sqlite3*"))

    privacy.erase_everywhere(EMAIL)
    [row] = ErasedAddress.select()
    assert EMAIL not in (row.salt + row.digest)
    message = next_messages([store])[store]
    assert message["forget"] == [{"salt": row.salt, "digest": row.digest}]
    apply_message(shop_till.db, message, applied_version, _set_version)
    assert [s.id for s in _pending(shop_till)] == [other.signup_id]  # only hers went
    for path in db_file.parent.glob("kassa.sqlite3*"):
        assert EMAIL.encode() not in path.read_bytes(), path
        assert b"Noor van den Berg" not in path.read_bytes(), path


def test_a_sign_up_arriving_after_the_erasure_is_not_taken(office, shop_till):
    store, terminal = _register(shop_till)
    shop_till.sign_up(EMAIL, "Noor", consent=True)
    [message] = _pending(shop_till)
    entry = new_forget_entry(EMAIL)
    ErasedAddress.create(**entry, erased="2999-01-01T00:00:00+00:00")  # erased after it
    done = take(store, terminal, message)
    assert (done.outcome, done.customer_id) == ("erased", "")
    assert Customer.select().count() == 0


def test_an_older_consent_log_gets_the_text_version_column(office_db_url):
    """A head office from before till sign-ups: `consent_log` gains `text_version` at the next
    start, its rows kept (SQLite and PostgreSQL)."""
    from headoffice import schema
    from headoffice.orm import database_proxy

    db = database_proxy.obj
    db.execute_sql("DROP TABLE consent_log")
    key = "SERIAL PRIMARY KEY" if "Postgres" in type(db).__name__ else "INTEGER PRIMARY KEY"
    db.execute_sql(f"CREATE TABLE consent_log (id {key}, customer_id VARCHAR(40) "
                   "NOT NULL, at VARCHAR(40) NOT NULL, consent BOOLEAN NOT NULL, source "
                   "VARCHAR(32) NOT NULL, recorded_by VARCHAR(64) NOT NULL)")
    db.execute_sql("INSERT INTO consent_log (id, customer_id, at, consent, source, recorded_by) "
                   "VALUES (1000, 'c-old', '2030-01-01T00:00:00+00:00', TRUE, 'office', 'owner')")
    schema.create_all(db)
    [old] = ConsentLog.select()
    assert (old.customer_id, old.recorded_by, old.text_version) == ("c-old", "owner", "")
    ConsentLog.create(customer_id="c-new", at="2030-01-02T00:00:00+00:00", consent=False,
                      source="till", recorded_by="Sanne (s1/t1)", text_version=CONSENT_VERSION)
    assert ConsentLog.select().where(ConsentLog.text_version == CONSENT_VERSION).count() == 1
