"""The till dates its sales on the shop's clock, whatever time zone the Pi's system has.

A fresh Raspberry Pi OS says Europe/London and a container UTC: if the journal followed the
system zone, a sale at 00:30 in Amsterdam would land on the previous business day (its Z,
its VAT day, the head-office dashboard). The test moves the process to zones far from
Amsterdam and checks every moment the till writes carries the shop's offset.
"""

import datetime as dt
import os
import time
from collections.abc import Iterator

import pytest

from contract.shop_time import SHOP_ZONE, shop_today
from firmware.catalogue import import_csv
from firmware.sim import make_gtin
from firmware.till import TillService

MILK = make_gtin(9001)


@pytest.fixture(params=["Pacific/Kiritimati", "Pacific/Honolulu", "UTC"])
def foreign_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if before is None:
        os.environ.pop("TZ")
    else:
        os.environ["TZ"] = before
    time.tzset()


def _shop_offset() -> dt.timedelta:
    offset = dt.datetime.now(SHOP_ZONE).utcoffset()
    assert offset is not None
    return offset


def test_a_sale_is_stamped_with_the_shops_offset_and_day(foreign_zone: str,
                                                          cashier_till: TillService) -> None:
    assert dt.datetime.now().astimezone().utcoffset() != _shop_offset()  # really elsewhere
    report = import_csv(cashier_till.db, ["gtin,plu,name,price,vat,category\n",
                                          f"{MILK},,Melk,1.29,low,Zuivel\n"])
    assert not report.errors
    cashier_till.scan(MILK)
    committed = cashier_till.pay_cash(200)
    stamped = dt.datetime.fromisoformat(committed.entry.ts)
    assert stamped.utcoffset() == _shop_offset(), committed.entry.ts
    assert stamped.date() == shop_today()
    assert abs(stamped - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
