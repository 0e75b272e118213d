"""Trading days on a real till, fed into head office, for the owner's report tests: a day a
year earlier, the day before and the reported day, each with a Z close."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.office.helpers import enroll, feed, make_till, payloads, shop_day

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
DAY = dt.date(2026, 3, 10)  # a Tuesday
BEFORE = dt.date(2026, 3, 9)
YEAR_EARLIER = dt.date(2025, 3, 10)
DAYS = (YEAR_EARLIER, BEFORE, DAY)


class DayClock:
    """The journal's clock: the trading day from 9:00, a minute per entry (so sales span
    several hours of the heat map)."""

    def __init__(self) -> None:
        self.at = dt.datetime(2000, 1, 1, tzinfo=AMSTERDAM)

    def start(self, day: dt.date) -> None:
        self.at = dt.datetime.combine(day, dt.time(9, 0), tzinfo=AMSTERDAM)

    def __call__(self) -> str:
        self.at += dt.timedelta(minutes=1)
        return self.at.isoformat(timespec="milliseconds")


def trade(tmp_path: Path, db: Any, sales: int = 30, before_feed=None) -> list[dict[str, Any]]:
    """Runs the three days on till s1/t1 and feeds its journal to head office; returns the
    journal bodies (what the independent recomputation reads). `before_feed(till, day)` runs
    before each day's trading (cost changes in the master, say)."""
    till = make_till(tmp_path / "t1", "s1", "t1")
    enroll(till)
    clock = DayClock()
    till.journal.clock = clock
    for number, day in enumerate(DAYS):
        clock.start(day)
        if before_feed is not None:
            before_feed(till, day)
        shop_day(till, sales=sales, seed=7 + number)
    bodies = [entry.body for entry in till.journal.entries()]
    feed(db, payloads(till))
    till.db.close()
    return bodies


def counted(body: dict[str, Any]) -> bool:
    """What turnover counts, read straight off the journal: sales, refunds, paid voids."""
    if body.get("training"):
        return False
    return body["type"] in ("sale", "refund") or (
        body["type"] == "void" and body["data"].get("scope") == "paid")


def recompute(bodies: list[dict[str, Any]], first: dt.date, last: dt.date) -> dict[str, Any]:
    """The report's figures recomputed from the journal bodies alone."""
    out: dict[str, Any] = {"turnover": 0, "tickets": 0, "cashier": defaultdict(int),
                           "tender": defaultdict(int), "vat": defaultdict(int),
                           "heat": defaultdict(int), "product": defaultdict(int),
                           "product_qty": defaultdict(int)}
    for body in bodies:
        day = dt.date.fromisoformat(body["ts"][:10])
        if not (first <= day <= last) or not counted(body):
            continue
        data = body["data"]
        out["turnover"] += data["total"]
        out["tickets"] += body["type"] == "sale"
        out["cashier"][body.get("cashier") or ""] += data["total"]
        for tender in data.get("tenders", ()):
            out["tender"][tender["kind"]] += tender["amount"]
        for vat in data.get("vat", ()):
            out["vat"][f"{vat['code']}:{vat['rate_bp']}"] += vat["gross"]
        out["heat"][(day.weekday(), int(body["ts"][11:13]))] += data["total"]
        for line in data["lines"]:
            if not line.get("removed"):
                key = str(line.get("code") or line.get("product_id") or line.get("name"))
                out["product"][key] += line["gross"]
                out["product_qty"][key] += line["quantity"]
    return out


def assert_cuts(got: dict[str, Any], want: dict[str, Any]) -> None:
    """The sales report's cashier, payment, VAT and hour x weekday cuts equal `recompute`'s."""
    assert {r["cashier"]: r["turnover"] for r in got["cashier"]} == dict(want["cashier"])
    assert {r["kind"]: r["amount"] for r in got["payment"] if r["amount"]} == \
        {k: v for k, v in want["tender"].items() if v}
    assert {f"{r['code']}:{r['rate_bp']}": r["gross"] for r in got["vat"]} == dict(want["vat"])
    assert {(d, h): v for d in range(7) for h in range(24) if (v := got["heat"][d][h])} == \
        {k: v for k, v in want["heat"].items() if v}
