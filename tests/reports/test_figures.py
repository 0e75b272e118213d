"""contract/figures.py: one definition and one sign per figure, old (v1) Z closes still rebuilt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contract import figures
from contract.entries import parse_entry
from contract.keys import public_key_from_hex
from contract.money import div_round_half_up
from contract.receipt import build_document, render_text
from firmware import reports, totals
from firmware.db import open_database
from firmware.journal import Journal
from firmware.sim import MANAGER_PIN, run_day
from firmware.till import TillService
from tests.fixtures_till import make_config

V1_JOURNAL = Path(__file__).with_name("v1_journal.json")


def body(seq: int, kind: str, data: dict, training: bool = False) -> dict:
    return {"v": 2, "seq": seq, "type": kind, "ts": "2026-12-01T10:00:00.000+01:00",
            "store": "s1", "terminal": "t1", "cashier": "Sanne", "training": training,
            "data": data}


def money(total: int, kind: str = "cash", code: str = "high", rate: int = 2100) -> dict:
    vat = div_round_half_up(total * rate, 10000 + rate)
    return {"total": total, "rounding": 0, "discount_total": 0, "ticket_discount": 0,
            "lines": [], "vat": [{"code": code, "rate_bp": rate, "gross": total, "vat": vat,
                                  "net": total - vat}],
            "tenders": [{"kind": kind, "amount": total}]}


def test_every_figure_has_one_sign() -> None:
    """Sales and money in positive; refunds, voids, discounts, price cuts, cash out negative."""
    sale = money(1000)
    sale["discount_total"] = 50
    sale["lines"] = [{"discount": 50}]
    bodies = [
        body(1, "float", {"amount": 5000}),
        body(2, "sale", sale),
        body(3, "sale", money(2001, "card")),
        body(4, "refund", money(-300)),
        body(5, "void", {"scope": "open", "total": 200}),
        body(6, "void", {"scope": "parked", "total": 100}),
        body(7, "void", {"scope": "paid", **money(-2001, "card")}),
        body(8, "cash_out", {"amount": 700}),
        body(9, "cash_in", {"amount": 250}),
        body(10, "price_override", {"old_unit_price": 500, "new_unit_price": 450}),
        body(11, "sale", money(9999), training=True),
    ]
    data = figures.period_figures(figures.replay(bodies), 11)
    assert data["sales"] == {"count": 2, "amount": 3001}
    assert data["refunds"] == {"count": 1, "amount": -300}
    assert data["voids_open"] == {"count": 2, "amount": -300}
    assert data["voids_paid"] == {"count": 1, "amount": -2001}
    assert data["discounts"] == {"count": 1, "amount": -50}
    assert data["price_overrides"] == {"count": 1, "amount": -50}
    assert data["cash_out"] == {"count": 1, "amount": -700}
    assert data["turnover"] == 3001 - 300 - 2001 == sum(v["gross"] for v in data["vat"])
    assert data["tickets"] == 2 and data["average_ticket"] == 350  # 700 / 2
    assert data["cash"] == {"float": 5000, "cash_in": 250, "cash_out": -700,
                            "cash_tenders": 1000 - 300, "expected": 5000 + 250 - 700 + 700}
    assert data["grand_totals"] == {"sales": 3001, "returns": 300 + 2001}
    assert data["training_entries"] == 1
    assert sum(figures.turnover_of(b) for b in bodies) == data["turnover"]
    assert [figures.moves_money(b) for b in bodies[1:7]] == [True, True, True, False, False, True]


def test_average_ticket_rounds_half_up_and_is_zero_without_tickets() -> None:
    assert figures.average_ticket(1001, 2) == 501
    assert figures.average_ticket(-1001, 2) == -501
    assert figures.average_ticket(0, 0) == 0 and figures.average_ticket(500, 0) == 0


def test_rebuild_z_equals_the_stored_z_for_a_simulated_day(till: TillService) -> None:
    run_day(till, 80, seed=11, out=lambda line: None)
    till.login(MANAGER_PIN)
    z = till.z_close({1000: 4}).entry
    result = reports.rebuild_z(till.journal, 1)
    assert result.ok, result.differences
    assert result.rebuilt == z.body["data"]
    assert z.body["v"] == figures.SCHEMA == 2
    data = z.body["data"]
    assert data["voids_open"]["count"] + data["voids_paid"]["count"] > 0
    parse_entry(z.body)


def load_v1(tmp_path: Path) -> tuple[Journal, object]:
    """The v1 journal fixture, as rows in a fresh terminal database."""
    saved = json.loads(V1_JOURNAL.read_text())
    db = open_database(tmp_path / "v1.sqlite3")
    with db.atomic():
        for row in saved["entries"]:
            db.execute_sql("INSERT INTO journal (seq, type, ts, ref_seq, body, hash, sig) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (row["seq"], row["type"], row["ts"], row["ref_seq"], row["body"],
                            row["hash"], row["sig"]))
    journal = Journal(db, Ed25519PrivateKey.generate(), "s1", "t1")
    return journal, public_key_from_hex(saved["public_key"])


def test_a_v1_journal_still_verifies_parses_and_rebuilds_its_z(tmp_path: Path) -> None:
    journal, key = load_v1(tmp_path)
    assert journal.verify(key).ok
    entries = list(journal.entries())
    for entry in entries:
        assert entry.body["v"] == 1
        assert parse_entry(entry.body).type == entry.type
    zs = [e for e in entries if e.type == "z_close"]
    assert len(zs) == 2 and "voids" in zs[0].body["data"]
    for z in zs:
        result = reports.rebuild_z(journal, z.body["data"]["z_number"])
        assert result.ok, result.differences
        assert result.rebuilt == z.body["data"]
    text = render_text(build_document(zs[0].body, zs[0].hash, make_config(tmp_path).terminal,
                                      42, "en"))
    assert "of which paid tickets" in text and "Average ticket" not in text


def test_counters_of_an_older_version_are_rebuilt_before_a_report(tmp_path: Path) -> None:
    journal, _ = load_v1(tmp_path)
    # Counters as a version-1 till left them: every void in p:voids.*, none in p:voids.open.*
    legacy = totals.replay(e.body for e in journal.entries())
    legacy["p:voids.count"] = legacy.pop("p:voids.open.count", 0) + 1
    legacy["p:voids.amount"] = legacy.pop("p:voids.open.amount", 0)
    totals.replace_all(journal.db, legacy)
    assert not figures.counters_current(totals.load(journal.db))
    with journal.transaction():
        data = reports.x_data(journal)
    counters = totals.load(journal.db)
    assert figures.counters_current(counters)
    assert counters == totals.replay(e.body for e in journal.entries())
    assert data == figures.period_figures(counters, journal.head()[0])


def test_close_figures_variance_is_counted_minus_expected() -> None:
    counters = figures.replay([body(1, "float", {"amount": 5000}),
                               body(2, "cash_out", {"amount": 1200})])
    data = figures.close_figures(counters, 2, {"by_denomination": [[1000, 3]], "total": 3000},
                                 "Bram")
    assert data["cash"]["expected"] == 3800
    assert data["variance"] == -800
    assert figures.comparable(data).keys().isdisjoint(figures.CLOSE_ONLY)
    assert figures.z_differences(data, figures.rebuilt_z(data, counters, 2, 2)) == []
    wrong = {**data, "turnover": 1}
    assert figures.z_differences(wrong, figures.rebuilt_z(data, counters, 2, 2)) == [
        "turnover: Z entry says 1, the journal gives 0"]


@pytest.mark.parametrize("version", [1, 2])
def test_report_layouts_per_version(version: int) -> None:
    data = figures.period_figures({}, 0, version)
    if version == 1:
        assert "voids" in data and "voids_open" not in data and "average_ticket" not in data
    else:
        assert "voids" not in data and {"voids_open", "voids_paid", "average_ticket"} <= set(data)


def test_kassa_sim_summary_turnover_is_the_report_turnover(till: TillService) -> None:
    stats = run_day(till, 80, seed=7, out=lambda line: None)
    till.login("1111")
    data = till.x_report().entry.body["data"]
    assert stats.refunds and stats.voids
    assert stats.turnover == data["turnover"]


def test_entry_figures_add_up_to_the_period_figures(till: TillService) -> None:
    """Summing each entry's signed figures (as a per-day reader does) gives the X report."""
    run_day(till, 60, seed=13, out=lambda line: None)
    till.login("1111")
    bodies = [e.body for e in till.journal.entries()]
    data = till.x_report().entry.body["data"]
    summed: dict[str, dict[str, int]] = {}
    for one in bodies:
        for name, figure in figures.entry_figures(one).items():
            total = summed.setdefault(name, {"count": 0, "amount": 0})
            total["count"] += figure["count"]
            total["amount"] += figure["amount"]
    for name in figures.PAIR_FIGURES:
        assert summed.get(name, {"count": 0, "amount": 0}) == data[name], name
    assert figures.entry_figures(next(b for b in bodies if b["type"] == "login")) == {}
