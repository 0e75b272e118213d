"""A full disk (SQLite max_page_count): the sale is refused before the drawer opens, nothing is
half written, and selling resumes once there is room again."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.assemble import build_till
from drivers.drawer.sim import SimDrawer
from firmware import integrity, totals
from firmware.permissions import Action
from firmware.sim import MANAGER_PIN, ensure_demo_data
from firmware.till import StorageError, TillService
from tests.fixtures_till import make_config


@pytest.fixture
def shop(tmp_path: Path) -> tuple[TillService, SimDrawer]:
    drawer = SimDrawer(sensor=False)
    till = build_till(make_config(tmp_path), drawer=drawer)
    ensure_demo_data(till, products=40)
    till.login("1111")
    yield till, drawer
    drawer.close()
    till.db.close()


def state(till: TillService) -> tuple:
    db = till.db
    return (till.journal.head(), totals.load(db),
            db.execute_sql("SELECT product_id, quantity FROM stock_level ORDER BY 1").fetchall())


def fill_basket(till: TillService, n: int) -> None:
    for i in range(5):
        till.add_product(1 + (n * 5 + i) % 40, quantity=1 + i % 2)


def test_full_disk_refuses_the_sale_before_the_drawer_opens(shop) -> None:
    till, drawer = shop
    db = till.db
    pages = db.execute_sql("PRAGMA page_count").fetchone()[0]
    db.execute_sql(f"PRAGMA max_page_count = {pages}")
    error = None
    for attempt in range(200):
        fill_basket(till, attempt)
        before, pulses, lines = state(till), len(drawer.pulses), len(till.ticket.active_lines)
        try:
            till.pay_cash(till.cash_due() + 1000)
        except StorageError as exc:
            error = exc
            break
        assert len(drawer.pulses) == pulses + 1
    assert error is not None, "the database never filled up"
    assert "disk is full" in str(error) and "NOT stored" in str(error)
    assert len(drawer.pulses) == pulses, "the drawer opened for a sale that was not stored"
    assert state(till) == before, "something was half written"
    assert len(till.ticket.active_lines) == lines and not till.ticket.tenders
    result = till.journal.verify()
    assert result.ok and integrity.check(till.journal) == []
    # Other fiscal events that open the drawer are refused the same way.
    reason = "coins for the market stall " * 200  # needs new pages whatever room is left
    with pytest.raises(StorageError, match="disk is full"):
        till.cash_movement("cash_in", 5000, reason,
                           approval=till.approve(MANAGER_PIN, Action.CASH_IN_OUT))
    assert len(drawer.pulses) == pulses and state(till) == before
    # Space is freed: the same ticket now sells, and the drawer opens once.
    db.execute_sql("PRAGMA max_page_count = 1073741823")
    committed = till.pay_cash(till.cash_due() + 1000)
    assert committed.entry.seq == before[0][0] + 1 and committed.drawer_opened
    assert len(drawer.pulses) == pulses + 1
    assert till.journal.verify().ok
    assert totals.load(db) == totals.replay(e.body for e in till.journal.entries())
