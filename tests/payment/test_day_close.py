"""The Z with the PIN terminal: card totals per brand from the journaled approvals, beside the
terminal's own (nexo GetTotals over HTTPS), a difference printed as a Z line and raised as
an alert when head office ingests that Z."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.payment_wiring import build_terminal
from contract.receipt import build_report, render_text
from drivers.payment.sim import SimTerminal
from firmware.permissions import Action
from firmware.till import TillService
from tests.office.helpers import enroll, feed, make_till, payloads
from tests.payment.conftest import payment_config


def _card_day(till: TillService) -> None:
    """Card sales of several brands, a referenced refund, a cash sale."""
    products = [p for p in till.catalogue.search("", limit=50) if not p.sold_by_weight]
    for n in range(6):
        till.add_product(products[n].id, n + 1)
        till.payments.pay()
    sale = next(e for e in till.journal.entries() if e.type == "sale")
    till.payments.refund(sale.seq, {1: 1}, till.approve("9999", Action.REFUND))
    till.add_product(products[0].id)
    till.pay_cash(100_000)


def _z(till: TillService):  # noqa: ANN202
    expected = till.x_report().entry.body["data"]["cash"]["expected"]
    return till.z_close({1: expected}, approval=till.approve("9999", Action.Z_CLOSE)).entry


def _paper(till: TillService, entry) -> str:  # noqa: ANN001
    return render_text(build_report(entry.body, entry.hash, till.config.terminal, 42, "nl"))


def test_matching_totals(pay_till: TillService, terminal: SimTerminal) -> None:
    _card_day(pay_till)
    z = _z(pay_till).body["data"]
    ours = {b["brand"]: (b["count"], b["amount"]) for b in z["card_brands"]}
    assert ours == terminal.brand_totals() or ours == {  # before the terminal closed its period
        b["brand"]: (b["count"], b["amount"]) for b in z["terminal_totals"]}
    assert len(ours) >= 2  # several brands
    card = next(t for t in z["tenders"] if t["kind"] == "card")
    assert sum(a for _c, a in ours.values()) == card["amount"]
    assert z["card_difference"] == 0 and "terminal_error" not in z
    assert terminal.reconciliations == 1 and terminal.brand_totals() == {}
    paper = _paper(pay_till, _latest_z(pay_till))
    assert "Pin klopt met de pinautomaat" in paper and "VERSCHIL PIN" not in paper


def _latest_z(till: TillService):  # noqa: ANN202
    return [e for e in till.journal.entries() if e.type == "z_close"][-1]


def test_a_terminal_out_of_reach_does_not_stop_the_day_close(pay_till: TillService,
                                                            terminal: SimTerminal) -> None:
    _card_day(pay_till)
    terminal.stop()
    pay_till.payments.terminal.close()  # the kept-alive connection goes with it
    z = _z(pay_till).body["data"]
    assert z.get("terminal_totals") is None and "no answer" in z["terminal_error"]
    assert len(z["card_brands"]) >= 2
    assert "Pinautomaat niet gevraagd" in _paper(pay_till, _latest_z(pay_till))


@pytest.mark.parametrize("office_db_url", ["sqlite"], indirect=True)
def test_a_difference_is_a_z_line_and_a_head_office_alert(tmp_path: Path, terminal: SimTerminal,
                                                           office_db_url: str) -> None:
    from headoffice.alerts.models import Alert
    from headoffice.db import database_proxy

    till = make_till(tmp_path / "till")
    config = payment_config(tmp_path / "till", terminal)
    till.kernel.config = config  # make_till's shop, with the [payment] section
    build_terminal(config, till)
    till.login("1111")
    _card_day(till)
    brand = sorted(terminal.brand_totals())[0]
    terminal.skew = {brand: -1250}  # the terminal counted 12,50 less of that brand
    entry = _z(till)
    z = entry.body["data"]
    assert z["card_difference"] == 1250
    paper = _paper(till, entry)
    assert f"VERSCHIL PIN {brand.upper()}" in paper and "12,50" in paper
    enroll(till)
    feed(database_proxy.obj, payloads(till))
    alert = Alert.get(Alert.kind == "card_difference")
    assert "12,50" in alert.message and brand in alert.message
    assert alert.terminal == till.journal.terminal and alert.seq == entry.seq
    till.db.close()
