"""The margin report's kept months (headoffice/margin_cache.py) filled when the web service
starts, in a thread of its own: otherwise the first report over years computes them all
while its user waits (4 to 7 s at 1,000,000 sales).

Every whole month from the first with sales to the last, over every shop and for each
shop, is computed as a report over it would (margin_queries.keep_months) and kept, a few
months at a time: each step reads in one short transaction and keeps each month in another,
so ingest is never held up for long; and the versions keep it correct alongside ingest,
master changes and reports computing the same months (a month changed meanwhile is not
kept, and the report that next needs it computes it). Months already kept at their current
version are skipped, so a restart goes on where the last one stopped.
"""

from __future__ import annotations

import logging
import threading

import peewee
from peewee import fn

from headoffice import margin_cache
from headoffice.aggregate_models import AggDay, AggMarginAll
from headoffice.orm import database_proxy
from headoffice.web import margin_queries

log = logging.getLogger(__name__)

MONTHS_AT_ONCE = 12  # months computed in one step (about a second at 1M sales, every shop)
PAUSE_SECONDS = 0.05  # between steps: the requests and ingest get the processor too
REFILL_SECONDS = 300.0  # between passes after the first


def _steps(months: list[str]) -> list[list[str]]:
    """Months (in order) cut into runs of consecutive ones, at most MONTHS_AT_ONCE each."""
    out: list[list[str]] = []
    for month in months:
        previous = out[-1][-1] if out else None
        if previous is not None and len(out[-1]) < MONTHS_AT_ONCE \
                and margin_queries.months_from_to(previous, month) == [previous, month]:
            out[-1].append(month)
        else:
            out.append([month])
    return out


def fill(stop: threading.Event | None = None) -> int:
    """Keeps every whole month with sales (and those between) of every scope, the chain's
    first; returns how many months it computed (0 when all were kept already)."""
    first, last = AggMarginAll.select(fn.MIN(AggMarginAll.month),
                                      fn.MAX(AggMarginAll.month)).scalar(as_tuple=True)
    if first is None:
        return 0
    months = margin_queries.months_from_to(first, last)
    shops = sorted(row[0] for row in AggDay.select(AggDay.store).distinct().tuples())
    computed = 0
    for store in (None, *shops):
        _versions, kept = margin_cache.current(store or margin_cache.CHAIN, months)
        for step in _steps([m for m in months if m not in kept]):
            if stop is not None and stop.wait(PAUSE_SECONDS):
                return computed
            margin_queries.keep_months(step, store)
            computed += len(step)
    return computed


class MarginFill(threading.Thread):
    """`fill` in the background on its own database connection: at start, then every
    `every_seconds`, so months made stale by a change that touches them all (a product's VAT
    code or codes, a rebuild) are kept again without a report waiting for them. A pass over
    months all kept reads only their versions."""

    def __init__(self, every_seconds: float = REFILL_SECONDS) -> None:
        super().__init__(name="kassa-margin-fill", daemon=True)
        self.stopping = threading.Event()
        self.every_seconds = every_seconds
        self.computed = 0
        self.passes = 0

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                try:
                    self.computed += fill(self.stopping)
                except peewee.PeeweeException:  # the next report computes what is missing
                    log.exception("margin fill: database error, left to the reports")
                self.passes += 1
                if self.stopping.wait(self.every_seconds):
                    break
        finally:
            if database_proxy.obj is not None:
                database_proxy.obj.close()  # this thread's connection

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=5)
