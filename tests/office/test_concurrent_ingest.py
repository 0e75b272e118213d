"""Two ingest workers storing the same entries at the same moment: each entry is stored and
counted in the dashboard totals once; the loser dead-letters its copies as duplicates."""

from __future__ import annotations

import threading

from headoffice.aggregates import AggDay
from headoffice.db import database_proxy, is_postgres
from headoffice.ingest import store
from headoffice.ingest.store import Rejected, store_batch
from headoffice.ingest.validate import KeyCache, Refusal, check_message
from headoffice.models import DeadLetterCount, OfficeEntry
from tests.office.helpers import enroll, make_till, payloads, shop_day


def _candidates(messages):
    keys, candidates, rejected = KeyCache(), [], []
    for topic, payload, seq in messages:
        outcome = check_message(topic, payload, seq, keys)
        if isinstance(outcome, Refusal):
            rejected.append(Rejected(topic, payload, outcome))
        else:
            candidates.append((topic, payload, outcome))
    assert not rejected
    return candidates


def _totals() -> tuple[int, int]:
    rows = list(AggDay.select(AggDay.tickets, AggDay.turnover).tuples())
    return sum(r[0] for r in rows), sum(r[1] for r in rows)


def test_the_same_entries_stored_by_two_workers_at_once_count_once(tmp_path, office_db_url,
                                                                  monkeypatch):
    till = make_till(tmp_path / "till")
    shop_day(till, sales=12)
    enroll(till)
    messages = payloads(till)
    bodies = [e.body for e in till.journal.entries()]
    paid = [b for b in bodies if b["type"] in ("sale", "refund")
            or (b["type"] == "void" and b["data"].get("scope") == "paid")]
    expected = (sum(b["type"] == "sale" for b in bodies), sum(b["data"]["total"] for b in paid))
    db = database_proxy.obj
    postgres = is_postgres(db)
    # PostgreSQL: both workers pass their duplicate check before either inserts (the race);
    # SQLite's write lock queues the second behind the first, which the check then sees
    barrier = threading.Barrier(2, timeout=20)
    real_insert = store._insert

    def racing_insert(*args):
        if postgres:
            barrier.wait()
        return real_insert(*args)

    monkeypatch.setattr(store, "_insert", racing_insert)
    results, errors = [], []

    def worker() -> None:
        try:
            results.append(store_batch(db, _candidates(messages), [], []))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sorted(r.stored for r in results) == [0, len(messages)]
    assert OfficeEntry.select().count() == len(messages)
    assert _totals() == expected
    counts = {row.reason: row.count for row in DeadLetterCount.select()}
    assert counts == {"duplicate": len(messages)}
