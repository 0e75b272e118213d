"""The XAF auditfile as the accountant receives it: real tills on three shop days, their
journals stored by the ingest's own batch code, then the file checked against the official
XSD and read back with pyxaf.

Shops and days (D1 = two days ago, D2 = yesterday):
- s1/t2: sales on D1, Z 1 on D1.
- s2/t3: sales on D1 and D2, one Z (nr 1) on D2 that closes both days.
- s1/t1: sales on D1 and Z 1; sales on D2 and no Z yet (D2 of s1 is left out), later Z 2.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

import pytest

from cli import main
from firmware.permissions import Action
from firmware.sim import MANAGER_PIN, run_day
from firmware.till import TillService
from headoffice.exports.periods import parse_period
from headoffice.exports.xaf import (
    INCOMPLETE,
    NO_Z,
    LeftOut,
    build_auditfile,
    build_xaf,
    revenue_text,
    validate_xaf,
)
from headoffice.exports.zreports import vat_label
from tests.office.helpers import enroll, feed, make_till, payloads, shop_day

TODAY = dt.date.today()
D1, D2 = TODAY - dt.timedelta(days=2), TODAY - dt.timedelta(days=1)
PERIOD = f"{D1.isoformat()}..{TODAY.isoformat()}"
DUTCH = {"Omzet hoog 21%", "Omzet laag 9%", "Btw hoog 21%", "Btw laag 9%", "Ontvangen contant",
         "Ontvangen pin", "Ontvangen tegoedbonnen", "Afronding contante betalingen",
         "Kasverschil"}


def _clock_on(till: TillService, day: dt.date) -> None:
    """The till's journal clock on `day` from 09:00, one second per entry."""
    start = dt.datetime.combine(day, dt.time(9)).astimezone()
    ticks = itertools.count()
    till.journal.clock = lambda: (start + dt.timedelta(seconds=next(ticks))).isoformat(
        timespec="milliseconds")


def _sales(till: TillService, count: int, seed: int) -> None:
    run_day(till, count, seed, out=lambda _line: None)


def _z(till: TillService) -> None:
    """A Z close with the drawer counted exactly (no variance)."""
    till.login("1111")
    expected = till.x_report().entry.body["data"]["cash"]["expected"]
    till.z_close({1: max(expected, 0)}, approval=till.approve(MANAGER_PIN, Action.Z_CLOSE))
    till.logout()


@dataclass
class Shops:
    db: object
    t1: TillService
    t1_sent: int


@pytest.fixture
def shops(tmp_path, office_db_url):
    from headoffice.db import database_proxy

    db = database_proxy.obj
    # firmware models bind to the last opened terminal database: finish one till first
    t2 = make_till(tmp_path / "t2", "s1", "t2")
    enroll(t2)
    _clock_on(t2, D1)
    shop_day(t2, sales=8, seed=2)
    feed(db, payloads(t2))
    t2.db.close()
    t3 = make_till(tmp_path / "t3", "s2", "t3")
    enroll(t3)
    _clock_on(t3, D1)
    _sales(t3, 6, 3)
    _clock_on(t3, D2)
    shop_day(t3, sales=6, seed=4)
    feed(db, payloads(t3))
    t3.db.close()
    t1 = make_till(tmp_path / "t1", "s1", "t1")
    enroll(t1)
    _clock_on(t1, D1)
    shop_day(t1, sales=8, seed=1)
    _clock_on(t1, D2)
    _sales(t1, 5, 5)
    messages = payloads(t1)
    feed(db, messages)
    yield Shops(db, t1, len(messages))
    t1.db.close()


def _read(data: bytes, tmp_path):
    import pyxaf

    path = tmp_path / "auditfile.xaf"
    path.write_bytes(data)
    report = pyxaf.validate(path, xsd=True)
    errors = [f for f in report.findings if f.severity.name in ("ERROR", "FATAL")]
    assert errors == [], errors
    with pyxaf.open(path) as af:
        journals = dict(af.journals)
        transactions = list(af.transactions())
        vat_codes = {code.id: code.description for code in af.vat_codes.values()}
    return journals, transactions, vat_codes


def test_every_shop_in_one_file_valid_and_read_back(shops, tmp_path):
    auditfile = build_auditfile(None, parse_period(PERIOD), {"name": "Winkels B.V.",
                                                             "vat_number": "NL001234567B01"})
    assert auditfile.stores == ["s1", "s2"]
    assert validate_xaf(auditfile.data) == []
    journals, transactions, _ = _read(auditfile.data, tmp_path)
    assert set(journals) == {"VK-s1", "VK-s2"}
    assert journals["VK-s2"].description == "Kassaverkopen winkel s2"
    by_journal = {j: [t.date for t in transactions if t.journal_id == j] for j in journals}
    assert by_journal == {"VK-s1": [D1], "VK-s2": [D1, D2]}
    assert auditfile.transactions == 3
    for transaction in transactions:
        assert transaction.balanced and transaction.total_debit > 0
    # one shop alone still gives the same shop's journal, and `build_xaf(None)` every shop
    single = build_auditfile(["s2"], parse_period(PERIOD))
    assert single.stores == ["s2"] and single.data.count(b"<transaction>") == 2
    assert build_xaf(None, parse_period(PERIOD), created=TODAY) == build_auditfile(
        None, parse_period(PERIOD), created=TODAY).data


def test_a_day_without_z_is_left_out_until_its_z_arrives(shops, tmp_path):
    period = parse_period(PERIOD)
    auditfile = build_auditfile(None, period)
    assert auditfile.left_out == [LeftOut("s1", D2.isoformat(), ("t1",), NO_Z)]
    assert f"<trDt>{D2.isoformat()}</trDt>".encode() in auditfile.data  # s2's D2 is closed
    assert f"s1-{D2.isoformat()}".encode() not in auditfile.data
    _z(shops.t1)
    feed(shops.db, payloads(shops.t1)[shops.t1_sent:])
    closed = build_auditfile(None, period)
    assert closed.left_out == []
    assert validate_xaf(closed.data) == []
    _, transactions, _ = _read(closed.data, tmp_path)
    day = next(t for t in transactions if t.number == f"s1-{D2.isoformat()}")
    assert {line.document_ref for line in day.lines} == {"Z t1 nr 2"}
    # a sale after that Z on the same day opens the day again until the next Z
    sent = len(payloads(shops.t1))
    _sales(shops.t1, 1, 6)
    feed(shops.db, payloads(shops.t1)[sent:])
    assert build_auditfile(None, period).left_out == [LeftOut("s1", D2.isoformat(), ("t1",),
                                                              NO_Z)]
    sent = len(payloads(shops.t1))
    _z(shops.t1)
    feed(shops.db, payloads(shops.t1)[sent:])
    again = build_auditfile(None, period)
    assert again.left_out == []
    assert b"<docRef>Z t1 nr 2+3</docRef>" in again.data


def test_a_day_whose_z_came_before_its_entries_is_left_out(tmp_path, office_db_url):
    from headoffice.db import database_proxy

    till = make_till(tmp_path / "t9", "s9", "t9")
    enroll(till)
    _clock_on(till, D1)
    shop_day(till, sales=5, seed=9)
    messages = payloads(till)
    sale = next(e.seq for e in till.journal.entries() if e.body["type"] == "sale") - 1
    feed(database_proxy.obj, messages[:sale] + messages[sale + 1:])  # one sale lost on the way
    auditfile = build_auditfile(["s9"], parse_period(PERIOD))
    assert auditfile.left_out == [LeftOut("s9", D1.isoformat(), ("t9",), INCOMPLETE)]
    assert b"<transaction>" not in auditfile.data
    assert validate_xaf(auditfile.data) == []
    feed(database_proxy.obj, messages[sale:sale + 1])  # the replay brings it
    assert build_auditfile(["s9"], parse_period(PERIOD)).left_out == []
    till.db.close()


def test_doc_ref_and_description_name_the_z_closes_and_terminals(shops, tmp_path):
    data = build_auditfile(None, parse_period(PERIOD)).data
    _, transactions, _ = _read(data, tmp_path)
    by_number = {t.number: t for t in transactions}
    s1 = by_number[f"s1-{D1.isoformat()}"]
    assert {line.document_ref for line in s1.lines} == {"Z t1 nr 1, t2 nr 1"}
    assert s1.description == f"Dagomzet winkel s1 {D1:%d-%m-%Y}, Z-rapporten: t1 nr 1, t2 nr 1"
    # one Z made on D2 closes the takings of both days of s2
    for day in (D1, D2):
        t = by_number[f"s2-{day.isoformat()}"]
        assert {line.document_ref for line in t.lines} == {"Z t3 nr 1"}
        assert t.description.endswith("Z-rapporten: t3 nr 1")


def test_descriptions_are_dutch(shops, tmp_path):
    data = build_auditfile(None, parse_period(PERIOD)).data
    _, transactions, vat_codes = _read(data, tmp_path)
    descriptions = {line.description for t in transactions for line in t.lines}
    assert {"Omzet hoog 21%", "Omzet laag 9%", "Btw hoog 21%", "Btw laag 9%",
            "Ontvangen contant", "Ontvangen pin"} <= descriptions
    assert descriptions <= DUTCH, descriptions - DUTCH
    assert vat_codes == {"high-2100": "Btw hoog 21%", "low-900": "Btw laag 9%"}
    text = data.decode()
    for english in ("high 21", "low 9", "Revenue", "VAT ", "Cash difference"):
        assert english not in text


def test_dutch_names_of_every_vat_code():
    assert revenue_text("high", 2100) == "Omzet hoog 21%"
    assert revenue_text("low", 900) == "Omzet laag 9%"
    assert revenue_text("zero", 0) == "Omzet 0%"
    assert revenue_text("exempt", 0) == "Omzet vrijgesteld van btw"
    assert vat_label("exempt", 0) == "Btw vrijgesteld"
    assert vat_label("zero", 0) == "Btw 0%"
    assert vat_label("other", 1350) == "Btw other 13,5%"


def test_cli_exports_every_shop_and_names_the_day_left_out(shops, office_db_url, tmp_path,
                                                          capsys):
    out = tmp_path / "alle-winkels.xaf"
    code = main(["office", "--db", office_db_url, "export", "xaf", "--period", PERIOD,
                 "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    data = out.read_bytes()
    assert validate_xaf(data) == []
    assert b"<jrnID>VK-s1</jrnID>" in data and b"<jrnID>VK-s2</jrnID>" in data
    assert f"left out {D2.isoformat()} of s1: no Z close yet from t1" in err
    code = main(["office", "--db", office_db_url, "export", "xaf", "--period", PERIOD,
                 "--store", "s2", "-o", str(out)])
    assert code == 0
    assert b"VK-s1" not in out.read_bytes() and b"VK-s2" in out.read_bytes()



def test_the_choice_for_open_days_is_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "operations" / "head-office.md")
    text = doc.read_text()
    section = text[text.index("## The XAF auditfile"):]
    section = section[:section.index("\n## ", 1)]
    assert "A day without a Z yet is left out" in section
    assert "kassa office export xaf: left out 2026-12-03 of s1: no Z close yet from kassa2" \
        in section  # the words the command prints (test above)
    for words in ("Omzet hoog 21%", "Btw vrijgesteld", "Kasverschil", "Z kassa1 nr 12"):
        assert words in section, words
