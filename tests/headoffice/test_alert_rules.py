"""The entry rules run once per ingest batch (one counter upsert per cashier and day), yet
raise the same alerts, naming the same entry, as when the entries come one by one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from contract.entries import Entry, parse_entry
from headoffice.alerts import board
from headoffice.alerts import settings as settings_mod
from headoffice.alerts.models import Alert, CashierCounter
from headoffice.alerts.rules import evaluate_entries
from headoffice.db import write_transaction

RULES = settings_mod.AlertSettings(reversal_rate_percent=20, reversal_min_count=3,
                                   opening_hours="07:00-21:00", alert_window_minutes=0)


@pytest.fixture
def rules(office_db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings_mod, "_current", settings_mod.OfficeSettings(alerts=RULES))


TICKET = {"lines": [], "vat": [], "total": 0, "discount_total": 0, "ticket_discount": 0}
PAID = {**TICKET, "rounding": 0, "total_paid": 0, "tenders": [], "change": 0}
DATA: dict[str, dict[str, Any]] = {
    "s": PAID, "r": PAID, "v": {**TICKET, "scope": "paid", "total_paid": 0},
    "o": {**TICKET, "scope": "open"}, "n": {}}


def _entries(kinds: str, cashier: str = "anna", first_seq: int = 1,
             hour: int = 10, minute: int = 15, step: int = 0) -> list[Entry]:
    """One entry per letter: s sale, r refund, v void of a paid ticket, o void of an open one,
    n no-sale; read through the contract, as the ingest hands them to the rules."""
    names = {"s": "sale", "r": "refund", "v": "void", "o": "void", "n": "no_sale"}
    out = []
    for offset, letter in enumerate(kinds):
        body = {"v": 2, "seq": first_seq + offset, "type": names[letter], "store": "s1",
                "terminal": "t1", "cashier": cashier, "training": False, "data": DATA[letter],
                "ts": f"2026-11-27T{hour:02d}:{minute + offset * step:02d}:00.000+01:00"}
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
                          "anna op s1/t1 heeft 3 storno's/retouren tegen 2 bonnen op 27-11-2026"
                          " (grens 20%), bij #5")]
    counter = CashierCounter.get()
    assert (counter.tickets, counter.reversals) == (22, 3)


@pytest.mark.parametrize("cut", [1, 4, 9, 12, 13])
def test_batches_cut_anywhere_raise_the_same_alert(rules: None, cut: int) -> None:
    entries = _entries("s" * 10 + "rrsro" + "n")
    _ingest(entries[:cut], entries[cut:])
    assert _alerts() == [
        ("no_sale:t1:16", 16,
         "lade geopend zonder verkoop s1/t1 #16 door anna (goedgekeurd door ?): "),
        ("reversal_rate:t1:anna:2026-11-27", 14,
         "anna op s1/t1 heeft 3 storno's/retouren tegen 11 bonnen op 27-11-2026 (grens 20%),"
         " bij #14")]
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


GROUPED = settings_mod.AlertSettings(opening_hours="07:00-21:00", alert_window_minutes=15)


@pytest.fixture
def grouped(office_db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings_mod, "_current", settings_mod.OfficeSettings(alerts=GROUPED))


def test_five_after_hours_sales_in_a_window_are_one_alert_with_a_count(grouped: None) -> None:
    sales = _entries("sssss", hour=22, minute=1, step=2)  # 22:01, 22:03 ... 22:09
    _ingest(sales[:2], sales[2:], sales)  # in two batches, then all again: counted once each
    alert = Alert.get()
    assert Alert.select().count() == 1
    assert (alert.key, alert.kind, alert.seq) == ("after_hours:t1:2026-11-27T22:00",
                                                  "after_hours", 1)
    group = board.groups([alert.key])[alert.key]
    assert group.count == 5
    # the sales' own times (the till's clock), not when head office received them
    assert (group.first, group.last) == ("2026-11-27T22:01:00.000+01:00",
                                         "2026-11-27T22:09:00.000+01:00")
    assert board.text_of(alert, group) == (
        "5× in dit venster (22:01:00 t/m 22:09:00); eerste: verkoop s1/t1 #1 om 22:01, "
        "buiten de openingstijden 07:00-21:00")
    assert board.text_of(alert, group, "en").startswith("5× in this window (22:01:00 to 22:09:00)")
    _ingest(_entries("s", first_seq=6, hour=22, minute=16))  # the next window: a new alert
    assert [a.key for a in Alert.select().order_by(Alert.key)] == [
        "after_hours:t1:2026-11-27T22:00", "after_hours:t1:2026-11-27T22:15"]


def test_an_out_of_order_batch_names_the_entry_in_journal_order(rules: None) -> None:
    # seq 5 crosses the limit in the journal; the worker got the batch newest first
    _ingest(list(reversed(_entries("ssrvr" + "s" * 20))))
    assert [(key, seq) for key, seq, _m in _alerts()] == [("reversal_rate:t1:anna:2026-11-27", 5)]
    assert _alerts()[0][2].endswith("bij #5")


def test_an_owner_acknowledges_an_alert_with_who_and_when(rules: None) -> None:
    _ingest(_entries("n"))
    alert = Alert.get()
    first = board.acknowledge(alert.id, "baas")
    second = board.acknowledge(alert.id, "boekhouder")
    stored = board.acks([alert.key])[alert.key]
    assert [(a.user, a.alert) for a in stored] == [("baas", alert.key), ("boekhouder", alert.key)]
    assert stored[0].at == first.at and stored[1].at == second.at
    assert dt.datetime.fromisoformat(first.at).tzinfo is not None
    assert abs(dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(first.at)) < dt.timedelta(
        seconds=30)
    with pytest.raises(board.UnknownAlert) as raised:
        board.acknowledge(alert.id + 100, "baas")
    assert raised.value.alert_id == alert.id + 100


def test_the_window_is_read_from_the_settings_and_checked(tmp_path) -> None:
    path = tmp_path / "office.toml"
    assert settings_mod.load_settings(None).alerts.alert_window_minutes == 15
    path.write_text("[alerts]\nalert_window_minutes = 5\n")
    assert settings_mod.load_settings(path).alerts.alert_window_minutes == 5
    for bad in ("-1", "1441", '"15"'):
        path.write_text(f"[alerts]\nalert_window_minutes = {bad}\n")
        with pytest.raises(settings_mod.SettingsError, match="alert_window_minutes"):
            settings_mod.load_settings(path)
