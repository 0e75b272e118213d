"""A big catalogue is applied in short transactions: selling goes on beside it, the till sees
the old catalogue or the new one, and a busy database is reported as busy, not as damage."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from firmware import integrity
from firmware.db import DatabaseBusy
from firmware.models import DownstreamReject, Product
from firmware.sim import make_gtin
from firmware.uplink import apply
from firmware.uplink.downstream import Downstream, Rejected, applied_version
from tests.uplink.harness import Seller, catalogue_message, make_till

SALE_BOUND = 1.0  # seconds a sale may wait for the write lock during an apply, beyond the
# slowest bare sale of the same run (a shared CI machine stalls fsyncs now and then)


def active() -> dict[str, tuple]:
    return {p.gtin or f"plu:{p.plu}": (p.plu, p.price_cents, p.name)
            for p in Product.select().where(Product.active)}


def test_sales_commit_beside_a_50k_catalogue_apply(tmp_path):
    till = make_till(tmp_path / "till", broker_port=1)
    down = Downstream(till.db)
    with Seller(till) as seller:
        time.sleep(3)
    noise = max(seller.waits())  # the slowest bare sale on this machine now, no apply running
    bound = SALE_BOUND + 2 * noise  # a loaded machine slows the merge's writes as much
    for version, offset in ((1, 0), (2, 7)):
        with Seller(till) as seller:
            time.sleep(0.2)
            outcome = down.apply("catalogue", catalogue_message(50_000, version, offset))
        waits = seller.waits()
        assert outcome.applied
        assert len(waits) >= 5, "the seller sold beside the apply"
        assert max(waits) < bound, (f"a sale waited {max(waits):.2f} s for the lock (bare"
                                    f" sales at most {noise:.2f} s)")
    products = active()
    assert len(products) == 50_000
    assert products["0" + make_gtin(1)] == ("1", 100 + (1 + 7) % 5000, "Product 1")
    assert till.journal.verify().ok


def test_300k_products_apply_without_too_many_variables(tmp_path):
    till = make_till(tmp_path / "till", broker_port=1)
    down = Downstream(till.db)
    assert down.apply("catalogue", catalogue_message(300_000, 1)).applied
    assert Product.select().where(Product.active).count() == 300_000
    # a full catalogue of 1,000 left: 299,000 deactivated in the one merge
    assert down.apply("catalogue", catalogue_message(1_000, 2)).applied
    assert Product.select().where(Product.active).count() == 1_000
    assert Product.select().count() == 300_000


def cola(**fields) -> dict:
    return {"gtin": "8712345678906", "name": "Cola", "price_cents": 199, "vat_code": "low", **fields}


def msg(**fields) -> bytes:
    return json.dumps(fields).encode()


def test_a_plu_moves_between_products_and_to_a_new_one(tmp_path):
    till = make_till(tmp_path / "till", broker_port=1)
    down = Downstream(till.db)
    bread = {"plu": "42", "name": "Brood", "price_cents": 289, "vat_code": "low"}
    down.apply("catalogue", msg(version=1, mode="full", products=[cola(plu="7"), bread]))
    # PLU 7 goes from the cola to a new product; the bread (PLU only) is dropped, its PLU 42
    # is taken by the cola
    tea = {"gtin": "4006381333931", "plu": "7", "name": "Thee", "price_cents": 150,
           "vat_code": "low"}
    down.apply("catalogue", msg(version=2, mode="full", products=[cola(plu="42"), tea]))
    assert active() == {"08712345678906": ("42", 199, "Cola"),
                        "04006381333931": ("7", 150, "Thee")}
    assert Product.get(Product.name == "Brood").plu is None  # inactive, its PLU given away


def test_a_delta_that_takes_a_plu_of_a_product_still_sold_is_refused_whole(tmp_path):
    till = make_till(tmp_path / "till", broker_port=1)
    down = Downstream(till.db)
    bread = {"plu": "42", "name": "Brood", "price_cents": 289, "vat_code": "low"}
    down.apply("catalogue", msg(version=1, mode="full", products=[cola(), bread]))
    before = active()
    with pytest.raises(Rejected, match="UNIQUE constraint failed: product.plu"):
        down.apply("catalogue", msg(version=2, mode="delta", base=1,
                                    products=[cola(plu="42", price_cents=1)]))
    assert active() == before and applied_version("catalogue_version") == 1
    assert DownstreamReject.select().count() == 1


def test_an_apply_cut_off_before_its_merge_changes_nothing_the_till_sees(tmp_path, monkeypatch):
    till = make_till(tmp_path / "till", broker_port=1)
    down = Downstream(till.db)
    down.apply("catalogue", catalogue_message(100, 1))
    before = active()

    def killed(self, merge) -> None:
        raise KeyboardInterrupt  # as if the uplink were stopped here

    monkeypatch.setattr(apply.Stager, "_final", killed)
    with pytest.raises(KeyboardInterrupt):
        down.apply("catalogue", catalogue_message(200, 2, price_offset=3))
    assert active() == before  # 100 new products inserted, but inactive: not sold
    monkeypatch.undo()
    assert down.apply("catalogue", catalogue_message(200, 2, price_offset=3)).applied
    assert len(active()) == 200 and Product.select().count() == 200


def hold_write_lock(db_path) -> sqlite3.Connection:
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO meta (key, value) VALUES ('busy-test', '1')")
    return other


def test_a_busy_database_is_reported_busy_not_damaged(tmp_path):
    till = make_till(tmp_path / "till", broker_port=1)
    till.db.execute_sql("PRAGMA busy_timeout = 300")
    other = hold_write_lock(till.db_path)
    try:
        with pytest.raises(DatabaseBusy, match="stayed busy") as caught:
            integrity.check(till.journal)
        assert not isinstance(caught.value, integrity.JournalUnreadable)
        with pytest.raises(DatabaseBusy):
            Downstream(till.db).apply("catalogue", catalogue_message(10, 1))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert DownstreamReject.select().count() == 0  # put off, not refused
    assert integrity.check(till.journal) == []
    assert Downstream(till.db).apply("catalogue", catalogue_message(10, 1)).applied
