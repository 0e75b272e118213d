"""Aggregates, VAT report, XAF auditfile, journal export, Z archive and alert rules, fed by
real tills through the ingest's own batch code, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import pytest

from contract.keys import public_key_hex
from headoffice.aggregates import AggDay, rebuild
from headoffice.alerts.models import Alert
from headoffice.exports import journal as journal_export
from headoffice.exports.periods import Period, parse_period
from headoffice.exports.vat import vat_csv, vat_report
from headoffice.exports.xaf import build_xaf, validate_xaf
from headoffice.exports.zreports import check_z, z_list
from headoffice.web import queries
from tests.office.helpers import enroll, feed, make_till, payloads, shop_day

TODAY = dt.date.today()


@pytest.fixture
def fed(tmp_path, office_db_url):
    from headoffice.db import database_proxy

    db = database_proxy.obj
    tills = []
    for number, terminal in enumerate(("t1", "t2")):
        # firmware models bind to the last opened terminal database: finish one till first
        till = make_till(tmp_path / terminal, "s1", terminal)
        enroll(till)
        shop_day(till, sales=30, seed=number + 5)
        messages = payloads(till)
        feed(db, messages)
        tills.append(Fed(till.journal.terminal, public_key_hex(till.journal.key), messages,
                         [e.body for e in till.journal.entries()]))
        till.db.close()
    yield db, tills


@dataclass
class Fed:
    terminal: str
    key: str
    messages: list
    bodies: list


def _journal_sums(tills) -> dict[str, int]:
    sums = {"turnover": 0, "tickets": 0, "cash": 0, "card": 0, "vat": 0}
    for till in tills:
        for body in till.bodies:
            data, kind = body["data"], body["type"]
            paid = kind in ("sale", "refund") or (kind == "void" and data.get("scope") == "paid")
            if not paid:
                continue
            sums["turnover"] += data["total"]
            sums["tickets"] += kind == "sale"
            sums["vat"] += sum(v["vat"] for v in data["vat"])
            for tender in data["tenders"]:
                sums[tender["kind"]] += tender["amount"]
    return sums


def test_aggregates_match_the_journal_and_survive_a_redelivery(fed):
    db, tills = fed
    day = Period(TODAY, TODAY, "today")
    expected = _journal_sums(tills)
    got = queries.totals(day)
    assert {k: got[k] for k in ("turnover", "tickets", "cash", "card")} == {
        k: expected[k] for k in ("turnover", "tickets", "cash", "card")}
    assert expected["tickets"] >= 60
    assert sum(queries.hourly(day)) == expected["turnover"]
    assert {t["terminal"] for t in queries.by_terminal(day)} == {"t1", "t2"}
    feed(db, tills[0].messages)  # delivered again: the ingest refuses, nothing counts twice
    assert queries.totals(day)["turnover"] == expected["turnover"]
    rebuild(db)
    assert queries.totals(day)["turnover"] == expected["turnover"]
    assert queries.top_products(day)[0]["gross"] >= queries.top_products(day)[-1]["gross"]


def test_vat_report_groups_as_the_dutch_return(fed):
    _, tills = fed
    report = vat_report(parse_period(TODAY.strftime("%Y-%m")), "s1")
    boxes = {b.box: b for b in report.boxes}
    assert boxes["1a"].vat > 0 and boxes["1b"].vat > 0  # sim sells high and low rate goods
    assert report.vat_total == _journal_sums(tills)["vat"]
    assert set(boxes["1a"].rates) == {2100} and set(boxes["1b"].rates) == {900}
    text = vat_csv(report)
    assert "1a" in text and "5a" in text


def test_xaf_validates_against_the_xsd_and_reads_back_in_pyxaf(fed, tmp_path):
    import pyxaf

    _, tills = fed
    data = build_xaf("s1", parse_period(str(TODAY.year)), {"name": "Winkel Een", "vat_number":
                                                          "NL001234567B01"})
    assert validate_xaf(data) == []
    path = tmp_path / "s1.xaf"
    path.write_bytes(data)
    report = pyxaf.validate(path, xsd=True)
    errors = [f for f in report.findings if f.severity.name in ("ERROR", "FATAL")]
    assert errors == [], errors
    with pyxaf.open(path) as af:
        transactions = list(af.transactions())
        lines = list(af.lines())
    assert len(transactions) == 1  # one shop day
    credit = sum(line.credit for line in lines)
    debit = sum(line.debit for line in lines)
    assert credit == debit > 0
    broken = data.replace(b"<amntTp>C</amntTp>", b"<amntTp>X</amntTp>", 1)
    assert validate_xaf(broken)


def test_journal_export_verifies_offline_and_catches_an_edit(fed, tmp_path):
    _, tills = fed
    keys = journal_export.parse_keys([f"{t.terminal}={t.key}" for t in tills])
    period = parse_period(TODAY.isoformat())
    for fmt in ("csv", "jsonl"):
        path = tmp_path / f"journal.{fmt}"
        path.write_text(journal_export.export_text(period, fmt))
        result = journal_export.verify_rows(journal_export.read_export(path), keys)
        assert result.ok, result.problems
        assert result.entries == sum(len(t.messages) for t in tills)
    rows = [json.loads(line) for line in (tmp_path / "journal.jsonl").read_text().splitlines()]
    body = json.loads(rows[5]["body"])
    body["data"]["edited"] = 1
    rows[5]["body"] = json.dumps(body, sort_keys=True, separators=(",", ":"))
    del rows[9]
    result = journal_export.verify_rows(rows, keys)
    assert not result.ok
    assert any("entry 6" in p and "hash" in p for p in result.problems)
    assert any("missing" in p for p in result.problems)


def test_z_archive_rebuilds_each_z_and_notices_a_lie(fed):
    _, tills = fed
    zs = z_list("s1")
    assert {z["terminal"] for z in zs} == {"t1", "t2"}
    for z in zs:
        assert check_z(z["terminal"], z["seq"]).ok
    from headoffice.models import OfficeEntry

    row = OfficeEntry.get((OfficeEntry.terminal == "t1") & (OfficeEntry.type == "z_close"))
    body = json.loads(row.body)
    body["data"]["turnover"] += 100
    OfficeEntry.update(body=json.dumps(body)).where(OfficeEntry.id == row.id).execute()
    check = check_z("t1", row.seq)
    assert not check.ok and any("turnover" in d for d in check.differences)


def test_alerts_raised_once_per_cause(fed):
    db, tills = fed
    kinds = {a.kind for a in Alert.select()}
    assert {"no_sale", "price_override", "cash_variance"} <= kinds
    before = Alert.select().count()
    feed(db, tills[1].messages)
    assert Alert.select().count() == before
    variance = Alert.get(Alert.kind == "cash_variance")
    assert "7,50" in variance.message
    assert AggDay.select().where(AggDay.cash_variance == -750).count() == 2
