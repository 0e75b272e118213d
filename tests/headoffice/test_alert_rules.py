"""The entry rules run once per ingest batch (one counter upsert per cashier and day), yet
raise the same alerts, naming the same entry, as when the entries come one by one."""

from __future__ import annotations

from typing import Any

import pytest

from contract.entries import Entry, parse_entry
from headoffice.alerts import settings as settings_mod
from headoffice.alerts.models import Alert, CashierCounter
from headoffice.alerts.rules import evaluate_entries
from headoffice.db import write_transaction

RULES = settings_mod.AlertSettings(reversal_rate_percent=20, reversal_min_count=3,
                                   opening_hours="07:00-21:00")


@pytest.fixture
def rules(office_db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings_mod, "_current", settings_mod.OfficeSettings(alerts=RULES))


TICKET = {"lines": [], "vat": [], "total": 0, "discount_total": 0, "ticket_discount": 0}
PAID = {**TICKET, "rounding": 0, "total_paid": 0, "tenders": [], "change": 0}
DATA: dict[str, dict[str, Any]] = {
    "s": PAID, "r": PAID, "v": {**TICKET, "scope": "paid", "total_paid": 0},
    "o": {**TICKET, "scope": "open"}, "n": {}}


def _entries(kinds: str, cashier: str = "anna", first_seq: int = 1,
             hour: int = 10) -> list[Entry]:
    """One entry per letter: s sale, r refund, v void of a paid ticket, o void of an open one,
    n no-sale; read through the contract, as the ingest hands them to the rules."""
    names = {"s": "sale", "r": "refund", "v": "void", "o": "void", "n": "no_sale"}
    out = []
    for offset, letter in enumerate(kinds):
        body = {"v": 2, "seq": first_seq + offset, "type": names[letter], "store": "s1",
                "terminal": "t1", "cashier": cashier, "training": False, "data": DATA[letter],
                "ts": f"2026-11-27T{hour:02d}:15:00.000+01:00"}
        if letter in "rv":
            body["ref_seq"] = 1
        out.append(parse_entry(body))
    return out


def _ingest(*batches: list[Entry]) -> None:
    for batch in batches:
        with write_transaction():
            evaluate_entries(batch)


def _alerts() -> list[tuple[str, int | None, str]]:
    return [(a.key, a.seq, a.message) for a in Alert.select().order_by(Alert.key)]


def test_reversal_rate_names_the_entry_that_crossed_the_limit(rules: None) -> None:
    # 2 sales, then 3 reversals: the third (seq 5) crosses 20 % with 3 >= 3; the 20 sales after
    # it in the same batch would bring the rate under the limit again, yet it was crossed
    _ingest(_entries("ssrvr" + "s" * 20))
    assert _alerts() == [("reversal_rate:t1:anna:2026-11-27", 5,
                          "anna on s1/t1 has 3 voids/refunds against 2 tickets on 2026-11-27"
                          " (limit 20%)")]
    counter = CashierCounter.get()
    assert (counter.tickets, counter.reversals) == (22, 3)


@pytest.mark.parametrize("cut", [1, 4, 9, 12, 13])
def test_batches_cut_anywhere_raise_the_same_alert(rules: None, cut: int) -> None:
    entries = _entries("s" * 10 + "rrsro" + "n")
    _ingest(entries[:cut], entries[cut:])
    assert _alerts() == [
        ("no_sale:t1:16", 16, "drawer opened without a sale s1/t1 #16 by anna (approved by None): "),
        ("reversal_rate:t1:anna:2026-11-27", 14,
         "anna on s1/t1 has 3 voids/refunds against 11 tickets on 2026-11-27 (limit 20%)")]
    counter = CashierCounter.get()
    assert (counter.tickets, counter.reversals) == (11, 3)


def test_no_alert_below_the_minimum_or_the_rate(rules: None) -> None:
    _ingest(_entries("srr"), _entries("s" * 20 + "r", first_seq=4))  # 3 of 21: under 20 %
    assert _alerts() == []
    _ingest(_entries("rr", cashier="bert"))  # 100 %, but only 2
    assert _alerts() == []
    counts = {c.cashier: (c.tickets, c.reversals) for c in CashierCounter.select()}
    assert counts == {"anna": (21, 3), "bert": (0, 2)}


def test_after_hours_sales_and_repeats_alert_once(rules: None) -> None:
    late = _entries("ss", hour=22)
    _ingest(late, late)  # delivered twice: one alert per entry
    assert [(k, s) for k, s, _m in _alerts()] == [("after_hours:t1:1", 1), ("after_hours:t1:2", 2)]
