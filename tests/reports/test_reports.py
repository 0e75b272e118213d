"""X and Z reports, cash control and the rebuild of a Z from the journal alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from contract import figures
from firmware import reports, totals
from firmware.errors import TotalsNotSealed
from firmware.permissions import Action, ApprovalRequired
from firmware.sim import MANAGER_PIN, run_day
from firmware.till import TillError, TillService

ROOT = Path(__file__).resolve().parents[2]


def manager(till: TillService, action: Action):
    return till.approve(MANAGER_PIN, action)


def bodies(till: TillService) -> list[dict]:
    return [entry.body for entry in till.journal.entries()]


def independent_figures(entries: list[dict]) -> dict:
    """Turnover, tenders and counts summed straight from journal bodies, without firmware.totals."""
    out = {"turnover": 0, "tenders": {}, "sales": 0, "refunds": 0, "voids": 0, "no_sales": 0,
           "rounding": 0, "vat": {}}
    for body in entries:
        if body["training"]:
            continue
        kind, data = body["type"], body["data"]
        moves_money = kind in ("sale", "refund") or (kind == "void" and data["scope"] == "paid")
        if kind == "sale":
            out["sales"] += 1
        elif kind == "refund":
            out["refunds"] += 1
        elif kind == "void":
            out["voids"] += 1
        elif kind == "no_sale":
            out["no_sales"] += 1
        if moves_money:
            out["turnover"] += data["total"]
            out["rounding"] += data["rounding"]
            for tender in data["tenders"]:
                out["tenders"][tender["kind"]] = out["tenders"].get(tender["kind"], 0) + tender["amount"]
            for vat in data["vat"]:
                out["vat"][vat["code"]] = out["vat"].get(vat["code"], 0) + vat["vat"]
    return out


def test_x_report_figures_agree_with_the_journal(till: TillService) -> None:
    stats = run_day(till, 60, seed=7, out=lambda line: None)
    till.login("1111")
    data = till.x_report().entry.body["data"]
    expected = independent_figures(bodies(till))
    assert data["turnover"] == expected["turnover"] != 0
    assert {t["kind"]: t["amount"] for t in data["tenders"]} == expected["tenders"]
    assert {v["code"]: v["vat"] for v in data["vat"]} == expected["vat"]
    assert data["tickets"] == stats.sales == expected["sales"]
    assert data["refunds"]["count"] == expected["refunds"]
    # Open and paid voids are two figures now; together they are every void.
    assert data["voids_open"]["count"] + data["voids_paid"]["count"] == expected["voids"]
    assert data["turnover"] == (data["sales"]["amount"] + data["refunds"]["amount"]
                                + data["voids_paid"]["amount"])
    assert data["average_ticket"] == figures.average_ticket(data["turnover"], data["tickets"])
    assert data["no_sales"]["count"] == expected["no_sales"]
    assert data["rounding"] == expected["rounding"]
    for vat in data["vat"]:
        assert vat["net"] + vat["vat"] == vat["gross"]
    assert data["first_seq"] == 1 and data["last_seq"] == till.journal.head()[0] - 1
    assert data["z_number"] == 1


def test_running_totals_equal_a_replay_of_the_journal(till: TillService) -> None:
    run_day(till, 40, seed=3, out=lambda line: None)
    till.login(MANAGER_PIN)
    till.z_close({})
    run_day(till, 25, seed=4, out=lambda line: None)
    assert totals.load(till.db) == totals.replay(bodies(till))


def test_cash_control_float_in_out_count_and_variance(cashier_till: TillService) -> None:
    till = cashier_till
    till.cash_movement("float", 10000, "", approval=manager(till, Action.CASH_IN_OUT))
    till.cash_movement("cash_in", 2500, "change from the bank",
                       approval=manager(till, Action.CASH_IN_OUT))
    till.cash_movement("cash_out", 700, "window cleaner", approval=manager(till, Action.CASH_IN_OUT))
    with pytest.raises(TillError, match="reason"):
        till.cash_movement("cash_out", 100, " ", approval=manager(till, Action.CASH_IN_OUT))
    till.add_plu("1", 2)
    sale = till.pay_cash(10000).entry.body["data"]
    cash_paid = sale["tenders"][0]["amount"]
    till.add_plu("2")
    till.pay_card(None, "CARD1")
    counted = {5000: 2, 2000: 1, 500: 1, 200: 3, 10: 4}
    counted_total = 2 * 5000 + 2000 + 500 + 600 + 40
    with pytest.raises(ApprovalRequired):
        till.z_close(counted)
    with pytest.raises(TillError, match="not a configured denomination"):
        till.z_close({333: 1}, approval=manager(till, Action.Z_CLOSE))
    z = till.z_close(counted, approval=manager(till, Action.Z_CLOSE)).entry
    data = z.body["data"]
    expected = 10000 + 2500 - 700 + cash_paid
    # Cash taken out is a negative figure (sign convention of contract/figures.py).
    assert data["cash"] == {"float": 10000, "cash_in": 2500, "cash_out": -700,
                            "cash_tenders": cash_paid, "expected": expected}
    assert data["counted"]["total"] == counted_total
    assert data["counted"]["by_denomination"][0] == [5000, 2]
    assert data["variance"] == counted_total - expected
    assert data["cash_in"] == {"count": 1, "amount": 2500}
    assert data["cash_out"] == {"count": 1, "amount": -700}
    assert data["approved_by"] == "Bram"


def test_z_numbers_are_gap_free_and_grand_totals_never_reset(cashier_till: TillService) -> None:
    till = cashier_till
    approve = lambda: manager(till, Action.Z_CLOSE)  # noqa: E731
    zs = []
    sold = 0
    for day in range(3):
        for _ in range(day + 1):
            till.add_plu("3")
            sold += till.pay_card(None, f"C{day}").entry.body["data"]["total"]
        zs.append(till.z_close({}, approval=approve()).entry)
    seq_of_sale = next(e.seq for e in till.journal.entries() if e.type == "sale")
    till.refund(seq_of_sale, {1: 1}, "cash", approval=manager(till, Action.REFUND))
    zs.append(till.z_close({}, approval=approve()).entry)
    numbers = [z.body["data"]["z_number"] for z in zs]
    assert numbers == [1, 2, 3, 4]
    for previous, current in zip(zs, zs[1:], strict=False):
        assert current.body["data"]["first_seq"] == previous.seq + 1
        assert current.body["data"]["last_seq"] == current.seq - 1
    grand = [z.body["data"]["grand_totals"] for z in zs]
    assert grand[2]["sales"] == sold and grand[3]["sales"] == sold
    assert grand[3]["returns"] > 0 == grand[2]["returns"]
    assert zs[3].body["data"]["turnover"] == -grand[3]["returns"]
    assert [z.body["data"]["tickets"] for z in zs] == [1, 2, 3, 0]
    after = till.x_report().entry.body["data"]
    assert after["turnover"] == 0 and after["tickets"] == 0 and after["z_number"] == 5
    for number in numbers:
        assert reports.rebuild_z(till.journal, number).ok


def test_refunds_voids_discounts_overrides_no_sales_counted(cashier_till: TillService) -> None:
    till = cashier_till
    line = till.add_plu("4", 2)
    till.discount_line(line.line_no, cents=10)
    other = till.add_plu("5")
    till.override_price(other.line_no, 100, approval=manager(till, Action.PRICE_OVERRIDE))
    sale = till.pay_card(None, "C1").entry
    till.add_plu("6")
    voided_open = till.void_open_ticket()
    till.add_plu("7")
    paid = till.pay_card(None, "C2").entry
    till.void_sale(paid.seq, approval=manager(till, Action.VOID_PAID_TICKET))
    till.refund(sale.seq, {line.line_no: 1}, "cash", approval=manager(till, Action.REFUND))
    till.no_sale("change", approval=manager(till, Action.NO_SALE))
    data = till.x_report().entry.body["data"]
    original = sale.body["data"]["lines"][1]["original_unit_price"]
    # Reductions and reversals are negative: a discount, a price lowered (new - old), voids.
    assert data["discounts"] == {"count": 1, "amount": -10}
    assert data["price_overrides"] == {"count": 1, "amount": 100 - original}
    assert data["voids_open"] == {"count": 1, "amount": -voided_open.body["data"]["total"]}
    assert data["voids_paid"] == {"count": 1, "amount": -paid.body["data"]["total"]}
    assert data["voids_open"]["amount"] < 0 and data["voids_paid"]["amount"] < 0
    assert data["refunds"]["count"] == 1 and data["refunds"]["amount"] < 0
    assert data["no_sales"]["count"] == 1
    assert data["tickets"] == 2
    assert data["turnover"] == (sale.body["data"]["total"] + data["refunds"]["amount"])


def test_training_mode_never_counts_in_turnover(cashier_till: TillService) -> None:
    till = cashier_till
    till.add_plu("3")
    real = till.pay_card(None, "C1").entry.body["data"]["total"]
    till.set_training(True, approval=manager(till, Action.TRAINING))
    for _ in range(3):
        till.add_plu("8", 3)
        till.pay_cash(100000)
    till.set_training(False, approval=manager(till, Action.TRAINING))
    data = till.x_report().entry.body["data"]
    assert data["turnover"] == real and data["tickets"] == 1
    assert data["training_entries"] == 3
    assert data["cash"]["cash_tenders"] == 0
    assert data["grand_totals"]["sales"] == real


def test_z_refused_with_open_ticket_or_in_training(cashier_till: TillService) -> None:
    till = cashier_till
    till.add_plu("3")
    with pytest.raises(TillError, match="open ticket"):
        till.z_close({}, approval=manager(till, Action.Z_CLOSE))
    till.void_open_ticket()
    till.set_training(True, approval=manager(till, Action.TRAINING))
    with pytest.raises(TillError, match="training"):
        till.z_close({}, approval=manager(till, Action.Z_CLOSE))


def test_tampered_totals_table_is_caught_by_the_rebuild(till: TillService, config) -> None:
    run_day(till, 30, seed=5, out=lambda line: None)
    till.login(MANAGER_PIN)
    till.z_close({1000: 3})
    run_day(till, 20, seed=6, out=lambda line: None)
    till.login(MANAGER_PIN)
    # Someone lowers the cash takings in the totals table before the day close: the till
    # signs no Z over them (their seal is broken; tests/faults/test_totals_seal.py)...
    till.db.execute_sql("UPDATE running_total SET value = value - 2000 "
                        "WHERE key = 'p:tender.cash.amount'")
    with pytest.raises(TotalsNotSealed):
        till.z_close({1000: 3})
    # ...but a Z signed over them all the same (as a version before the seal did) is caught.
    counted = reports.counted_cash({1000: 3}, till.config.cash.denominations_cents)
    with till.journal.transaction():
        till.journal.append("z_close", reports.z_data(till.journal, counted, None))
    assert reports.rebuild_z(till.journal, 1).ok
    bad = reports.rebuild_z(till.journal, 2)
    assert not bad.ok
    assert any(d.startswith("tenders") for d in bad.differences)
    assert any(d.startswith("cash.expected") for d in bad.differences)
    assert bad.rebuilt["cash"]["expected"] - bad.stored["cash"]["expected"] == 2000
    env = {"KASSA_CONFIG": config.source, "PATH": "/usr/bin:/bin"}
    ok = subprocess.run([sys.executable, "-m", "cli", "report", "z", "--rebuild", "1"],
                        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert "the same figures" in ok.stdout
    broken = subprocess.run([sys.executable, "-m", "cli", "report", "z", "--rebuild", "2",
                             "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert broken.returncode == 1
    assert "DOES NOT MATCH" in broken.stderr and "cash.expected" in broken.stderr
    assert json.loads(broken.stdout.split("\nZ ")[0])["cash"] == bad.rebuilt["cash"]


def test_cli_x_and_z_close(till: TillService, config) -> None:
    run_day(till, 10, seed=9, out=lambda line: None)
    till.db.close()
    env = {"KASSA_CONFIG": config.source, "PATH": "/usr/bin:/bin"}

    def kassa(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    x = kassa("report", "x", "--pin", "1111", "--lang", "en", "--columns", "32")
    assert x.returncode == 0, x.stderr
    assert "X REPORT" in x.stdout and max(len(line) for line in x.stdout.splitlines()) <= 32
    missing = kassa("report", "z", "--pin", MANAGER_PIN)
    assert missing.returncode == 2 and "--count" in missing.stderr
    cashier = kassa("report", "z", "--pin", "1111", "--count", "0")
    assert cashier.returncode == 1 and "manager" in cashier.stderr
    z = kassa("report", "z", "--pin", MANAGER_PIN, "--count", "5000=1", "--json")
    assert z.returncode == 0, z.stderr
    figures = json.loads(z.stdout)
    assert figures["z_number"] == 1 and figures["counted"]["total"] == 5000
    shown = kassa("report", "z", "--show", "1", "--json")
    assert json.loads(shown.stdout) == figures
    again = kassa("report", "z", "--rebuild", "1")
    assert again.returncode == 0 and "Z-RAPPORT nr 1" in again.stdout
