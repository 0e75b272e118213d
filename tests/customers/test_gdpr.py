"""The customer's rights at head office and at the till: erasure that leaves no bytes in any
database file or WAL (head office and till), reports that stay right with the pseudonym,
the access export (JSON and PDF) read back and compared with what was stored, profile edits
and merging duplicates; on SQLite and on PostgreSQL where head office data is involved."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest

from contract.entries import parse_entry
from contract.product_key import sku_of
from firmware import signup
from firmware.models import LocalCustomer, Product
from firmware.offers import apply_message
from firmware.uplink.downstream import _set_version, applied_version
from headoffice import privacy
from headoffice.access_export import as_json, as_pdf, customer_data
from headoffice.customers import service
from headoffice.customers.models import AccessRequest, ConsentLog, Customer, Favourite, Purchase
from headoffice.journal_feed import apply_entry
from headoffice.notify.models import Notification
from headoffice.offers.compute import create_campaign
from headoffice.offers.models import Offer
from headoffice.offers.publish import next_messages
from headoffice.offers.redeem import over_redemptions
from headoffice.orm import is_postgres
from headoffice.stock import ledger
from headoffice.webshop.models import WebshopLog, WebshopOrder
from tests.customers.test_office_customers import make_till

NAME, EMAIL = "Eva Zonneveld-Quist", "eva.zq@example.nl"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def office(office_db_url):
    from headoffice.db import database_proxy

    return database_proxy.obj


def _story(tmp_path):
    """Eva signs up (consent at the till), buys with her card at two tills, one offer is
    redeemed at both (offline), she ordered online and got a back-in-stock mail. Till t1 was
    offline all along: it still holds her sign-up, address and name, in its outbox."""
    tills = [make_till(tmp_path, "t1")]
    y = Product.get(Product.plu == "4")
    sku_y = sku_of(y.gtin, y.plu)
    ledger.note_product(sku_y, y.name, y.price_cents)
    eva = service.create(NAME, EMAIL, "nl", "s1", consent=True, consent_source="till",
                         card_prefix="299", recorded_by="anna")
    service.add_favourite(eva.customer_id, sku_y, "office")
    today = dt.date.today()
    campaign = create_campaign("Lente", today, today + dt.timedelta(days=6), 50, 100_000)
    Offer.create(offer_id="of-eva1", campaign=campaign, customer_id=eva.customer_id, store="s1",
                 sku=sku_y, reason="regular", title=f"50% {y.name}", kind="percent", value=50,
                 max_units=1, uses=1, valid_from=today.isoformat(),
                 valid_until=(today + dt.timedelta(days=6)).isoformat(),
                 max_cost_cents=y.price_cents)
    WebshopOrder.create(shop="woo", order_id="1001", created="2030-01-01T10:00:00",
                        taken="2030-01-01T10:01:00", lines="[]", email=EMAIL)
    WebshopLog.create(at="2030-01-01T10:01:00", shop="woo", action="take_order",
                      target="1001", ok=True, detail=f"order 1001 for {EMAIL}")
    Notification.create(customer_id=eva.customer_id, restock=1, sku=sku_y, location="s1",
                        state="sent", attempts=1, at="2030-01-01T11:00:00")
    message = next_messages(["s1"])["s1"]
    bodies = []
    for n in range(2):
        till = tills[0] if n == 0 else make_till(tmp_path, "t2")
        apply_message(till.db, message, applied_version, _set_version)
        till.attach_card(eva.card)
        till.add_product(Product.get(Product.plu == "4").id)
        sale = till.pay_card(None, f"R{n}").entry
        bodies += [sale.body, till.journal.get(sale.seq + 1).body]
        if n == 0:
            till.sign_up(EMAIL, NAME, consent=True)  # pending: head office never got it
            till.db.close()
        else:
            tills.append(till)
    for body in bodies:
        apply_entry(parse_entry(body))
    return eva, tills[-1], sku_y


def _files(tmp_path: Path) -> list[Path]:
    return [p for p in tmp_path.rglob("*") if p.is_file()
            and (".sqlite3" in p.name or p.name.endswith(("-wal", "-shm", "-journal")))]


def test_erasure_leaves_no_trace_in_any_database_file_or_wal(office, office_db_url, tmp_path):
    eva, till2, sku_y = _story(tmp_path)
    card = eva.card
    [over] = over_redemptions()
    assert (over.allowed, over.redeemed) == (1, 2)
    if not is_postgres():  # the bytes are there before, so the grep below can fail
        assert any(NAME.encode() in p.read_bytes() for p in _files(tmp_path))

    done = privacy.erase_everywhere(EMAIL)
    assert (done.orders, done.mails, done.log_lines) == (1, 1, 1)
    # the tills learn it through the next offers message (what `customers sync` publishes)
    after = next_messages(["s1"])["s1"]
    assert after["customers"] == [] and after["offers"] == []
    apply_message(till2.db, after, applied_version, _set_version)
    assert not LocalCustomer.select().where(LocalCustomer.card == card).exists()
    import peewee

    from firmware.db import PRAGMAS

    # the other till, as its running uplink has it open (a close would checkpoint anyway)
    first = peewee.SqliteDatabase(str(tmp_path / "t1" / "db.sqlite3"), pragmas=PRAGMAS)
    [(_id, waiting)] = signup.pending(first)  # her sign-up, never sent: the till was offline
    assert EMAIL.encode() in waiting and NAME.encode() in waiting
    with first.bind_ctx([LocalCustomer, *_offer_models()]):
        apply_message(first, after, applied_version, _set_version)
    assert signup.pending(first) == []  # the offers message's `forget` list took it

    # reports stay right with the pseudonym: still "2 of 1 allowed", never "of 0"
    [over] = over_redemptions()
    assert (over.customer_id, over.allowed, over.redeemed) == (eva.customer_id, 1, 2)
    report = subprocess.run([sys.executable, "-m", "cli", "offers", "--db",
                             office_db_url, "report"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "2 of 1 allowed" in report.stdout and "of 0 allowed" not in report.stdout
    assert WebshopOrder.get(WebshopOrder.order_id == "1001").email == ""
    assert EMAIL not in WebshopLog.get().detail
    for model in (Customer, Favourite, Purchase, ConsentLog, Notification):
        assert not model.select().where(
            model.customer_id == eva.customer_id).exists(), model.__name__

    # every connection is still open (tills and head office running): nothing is left to a
    # checkpoint-on-close
    files = _files(tmp_path)
    assert sum(p.name == "db.sqlite3" for p in files) == 2  # both tills' files are searched
    for path in files:
        raw = path.read_bytes()
        for needle in (NAME, EMAIL, card, NAME.lower()):
            assert needle.encode() not in raw, f"{needle!r} still in {path}"
    first.close()
    till2.db.close()


def _offer_models():
    from firmware.models import LocalOffer, LocalOfferUse, Meta

    return [LocalOffer, LocalOfferUse, Meta]


def test_access_export_reads_back_as_stored_and_records_who_asked(office, tmp_path):
    eva, till2, sku_y = _story(tmp_path)
    till2.db.close()
    service.set_consent(EMAIL, False, "office", recorded_by="web:owner")
    data = customer_data(EMAIL, "the customer at the counter", "cli")
    back = json.loads(as_json(data))
    row = Customer.get_by_id(eva.customer_id)
    assert back["profile"] == {
        "customer_id": row.customer_id, "name": NAME, "email": EMAIL, "card": row.card,
        "language": "nl", "home_store": "s1", "consent": False,
        "consent_date": row.consent_date, "consent_source": "office", "created": row.created}
    assert [(c["consent"], c["source"], c["recorded_by"]) for c in back["consent_log"]] == [
        (True, "till", "anna"), (False, "office", "web:owner")]
    assert back["favourites"] == [sku_y]
    stored = sorted((p.terminal, p.seq, p.sku) for p in Purchase.select().where(
        Purchase.customer_id == eva.customer_id))
    assert sorted((b["terminal"], b["seq"], b["sku"]) for b in back["purchases"]) == stored
    assert len(stored) == 2
    [offer] = back["offers"]
    assert offer["offer_id"] == "of-eva1" and len(offer["redeemed"]) == 2
    assert [(m["kind"], m["sku"]) for m in back["mails_sent"]] == [("back_in_stock", sku_y)]
    assert [(a["asked_by"], a["via"]) for a in back["access_requests"]] == [
        ("the customer at the counter", "cli")]
    assert AccessRequest.select().count() == 1

    text = " ".join(page.extract_text() for page in
                    pypdf.PdfReader(io.BytesIO(as_pdf(data))).pages)
    for expected in (NAME, EMAIL, row.card, sku_y, "of-eva1", "vastgelegd door anna",
                     "door the customer at the counter"):
        assert expected in text, expected
    assert text.count("kassa t") == 2  # one line per purchase


def test_export_command_writes_both_files_and_refuses_an_unknown_customer(office, office_db_url,
                                                                         tmp_path):
    service.create(NAME, EMAIL, "nl", "s1", consent=True, card_prefix="299")
    url = office_db_url
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "cli", "customers", "--db", url, "export",
                          EMAIL, "--out", str(out), "--asked-by", "Eva"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    [json_file] = out.glob("*.json")
    assert json.loads(json_file.read_text())["profile"]["email"] == EMAIL
    [pdf_file] = out.glob("*.pdf")
    assert NAME in pypdf.PdfReader(pdf_file).pages[0].extract_text()
    assert AccessRequest.get().asked_by.startswith("Eva (cli:")
    bad = subprocess.run([sys.executable, "-m", "cli", "customers", "--db", url, "export",
                          "nobody@example.nl", "--out", str(out), "--asked-by", "x"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "no customer" in bad.stderr


def test_profile_edit_and_merging_a_duplicate(office):
    eva = service.create("Eva Jansen", "eva@example.nl", "nl", "s1", card_prefix="299")
    dup = service.create("Eva Jansen", "eva@work.example", "nl", "s2", consent=True,
                         consent_source="till", card_prefix="299", recorded_by="piet")
    service.add_favourite(dup.customer_id, "plu:7", "till")
    Purchase.create(customer_id=dup.customer_id, terminal="t1", seq=3, line_no=1, sku="plu:7",
                    quantity=1, day="2030-01-01")
    [pair] = service.duplicates()  # same name, same e-mail local part
    assert set(pair) == {eva.customer_id, dup.customer_id}
    with pytest.raises(service.CustomerError, match="already has an account"):
        service.update_profile(eva.customer_id, name="Eva", email="EVA@work.example",
                               language="nl", home_store="s1", by="web:owner")
    with pytest.raises(service.CustomerError, match="language"):
        service.update_profile(eva.customer_id, name="Eva", email="eva@example.nl",
                               language="de", home_store="s1", by="web:owner")
    merged = service.merge(eva.customer_id, dup.customer_id, "web:owner")
    assert merged.favourites == ("plu:7",) and merged.consent  # the newer consent wins
    assert Purchase.get().customer_id == eva.customer_id
    assert service.is_erased(dup.customer_id)  # late till entries with it link nothing
    assert [(c.source, c.recorded_by) for c in service.consent_log(eva.customer_id)][0] == (
        "till", "piet")
    assert service.duplicates() == []
    edited = service.update_profile(eva.customer_id, name="Eva de Jong",
                                    email="Eva.Jong@Example.nl", language="en",
                                    home_store="s2", by="web:owner")
    assert (edited.name, edited.email, edited.language, edited.home_store) == (
        "Eva de Jong", "eva.jong@example.nl", "en", "s2")
    with pytest.raises(service.CustomerError, match="same customer"):
        service.merge(eva.customer_id, edited.card, "x")
