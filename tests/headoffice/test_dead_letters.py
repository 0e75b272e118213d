"""Dead letters: any value storable, counted exactly, capped per terminal, alerted, shown.

The flood case is the issue's own: 3,000 garbage messages from one terminal once took
11.8 MB. Here they go through a real Mosquitto and two real ingest workers while another
terminal sells; the dead-letter table must stay under DEAD_LETTER_BYTES on disk, with the
count exact, an alert raised and the count on the terminals page.
"""

from __future__ import annotations

import os
import re

from headoffice import registry
from headoffice.alerts import rules
from headoffice.alerts.models import Alert
from headoffice.db import database_proxy
from headoffice.ingest import deadletter
from headoffice.ingest.deadletter import KEEP_PER_TERMINAL, Letter, RowBudget
from headoffice.models import DeadLetter, DeadLetterCount, DeadLetterTerminal
from headoffice.orm import is_postgres, write_transaction
from tests.office.helpers import OfficeWeb
from tests.uplink.harness import (
    make_till,
    publish_bare,
    start_ingest,
    start_uplink,
    stop,
    wait_ingest_ready,
    wait_until,
)

GARBAGE = 3000
DEAD_LETTER_BYTES = 2 * 1024 * 1024  # on disk, table + indexes, for one flooding terminal


def _record(letters: list[Letter], budget: RowBudget | None = None) -> None:
    with write_transaction(database_proxy.obj):
        deadletter.record(letters, "2026-12-03T10:00:00.000+00:00", budget)


def test_hostile_values_are_made_storable(office_db_url):
    letter = Letter(topic="kassa/v1/s1/t1/journal\x00\ud800" + "x" * 5000,
                    payload=os.urandom(1_000_000), reason="r" * 100,
                    detail="nul \x00 surrogate \udfff " + "d" * 10_000,
                    terminal="t" * 100, seq=10**20)
    _record([letter, Letter("t", b"", "malformed", "", "t1", -1)])
    row = DeadLetter.select().order_by(DeadLetter.id).first()
    assert row.seq is None and row.terminal is None  # out of range / not an id: dropped
    assert len(row.topic) <= deadletter.TOPIC_CHARS and "\x00" not in row.topic
    assert len(row.detail) <= deadletter.DETAIL_CHARS and "\x00" not in row.detail
    assert len(bytes(row.payload)) == deadletter.PAYLOAD_BYTES
    assert len(row.reason) <= deadletter.REASON_CHARS
    counts = {r.terminal: r.count for r in DeadLetterTerminal.select()}
    assert counts == {"": 1, "t1": 1}


def test_rows_are_capped_per_terminal_and_counts_stay_exact(office_db_url):
    now = [0.0]
    budget = RowBudget(rate=10.0, burst=50, clock=lambda: now[0])
    for _ in range(30):  # 30 batches of 100 garbage letters of t1, 1 s apart
        _record([Letter("kassa/v1/s1/t1/journal", b"g" * 4096, "malformed", "x", "t1")] * 100,
                budget)
        now[0] += 1.0
    _record([Letter("kassa/v1/s1/t2/journal", b"ok", "malformed", "y", "t2")])
    t1 = DeadLetterTerminal.get(DeadLetterTerminal.terminal == "t1")
    assert t1.count == 3000  # exact
    kept = DeadLetter.select().where(DeadLetter.terminal == "t1").count()
    assert kept == KEEP_PER_TERMINAL
    assert t1.unkept == 3000 - (50 + 29 * 10)  # the bucket: a burst of 50, then 10 a second
    assert DeadLetter.select().where(DeadLetter.terminal == "t2").count() == 1  # untouched
    assert {r.reason: r.count for r in DeadLetterCount.select()} == {"malformed": 3001}


def test_the_alert_fires_per_step_of_refused_messages(office_db_url):
    _record([Letter("kassa/v1/s1/t1/journal", b"g", "malformed", "x", "t1")] * 99)
    assert rules.check_dead_letter_floods(database_proxy.obj) == 0  # below the default 100
    _record([Letter("kassa/v1/s1/t1/journal", b"g", "bad_hash", "x", "t1")])
    assert rules.check_dead_letter_floods(database_proxy.obj) == 1
    alert = Alert.get(Alert.kind == "dead_letters")
    assert alert.terminal == "t1" and "100" in alert.message and "bad_hash" in alert.message
    assert rules.check_dead_letter_floods(database_proxy.obj) == 0  # counted once


def _dead_letter_disk_bytes() -> int:
    db = database_proxy.obj
    if is_postgres(db):
        return db.execute_sql("SELECT pg_total_relation_size('dead_letter')").fetchone()[0]
    names = [r[0] for r in db.execute_sql(
        "SELECT name FROM sqlite_master WHERE tbl_name = 'dead_letter'").fetchall()]
    marks = ", ".join("?" for _ in names)
    return db.execute_sql(f"SELECT SUM(pgsize) FROM dbstat WHERE name IN ({marks})",
                          names).fetchone()[0]


def test_a_flooding_terminal_stays_small_and_holds_back_no_one(tmp_path, mosquitto,
                                                               office_db_url):
    broker = mosquitto()
    registry.add_terminal("t1", "s1", "00" * 32)
    till = make_till(tmp_path / "till", broker.port, store="s1", terminal="t2")
    registry.add_terminal(till.terminal, till.store, till.public_key_hex)
    till.add_entries(200)
    ingest = start_ingest(office_db_url, broker.port, workers=2)
    uplink = None
    web = OfficeWeb(office_db_url)
    try:
        wait_ingest_ready(broker)
        garbage = [("kassa/v1/s1/t1/journal", n + 1, os.urandom(4096)) for n in range(GARBAGE)]
        uplink = start_uplink(till)  # t2 sells while t1 floods
        publish_bare(broker.port, garbage, inflight=100)
        wait_until(lambda: _count("t1") == GARBAGE, 120, "every garbage message counted")
        wait_until(lambda: till.acked() == till.head(), 60, "t2's sales confirmed")
        size = _dead_letter_disk_bytes()
        print(f"\n{GARBAGE} garbage messages of 4 kB: dead_letter on disk {size} bytes, "
              f"{DeadLetter.select().count()} rows")
        assert size < DEAD_LETTER_BYTES
        assert DeadLetter.select().where(DeadLetter.terminal == "t1").count() <= KEEP_PER_TERMINAL
        counts = {r.reason: r.count for r in DeadLetterCount.select()}
        # beyond its rate the flood is refused unchecked (rate_limited); every message counted
        assert counts.get("malformed", 0) + counts.get("rate_limited", 0) == GARBAGE, counts
        assert rules.check_dead_letter_floods(database_proxy.obj) == 1
        web.login()
        page = web.get("/terminals")[1]
        cell = re.search(r'data-refused="t1"[^>]*>(\d+)<', page)
        assert cell and int(cell.group(1)) == GARBAGE
        t2 = re.search(r'data-refused="t2"[^>]*>(\d+)<', page)
        assert t2 and t2.group(1) == "0"
    finally:
        web.stop()
        if uplink is not None:
            stop(uplink)
        stop(ingest)


def _count(terminal: str) -> int:
    row = DeadLetterTerminal.get_or_none(DeadLetterTerminal.terminal == terminal)
    return row.count if row else 0


def test_out_of_range_and_wrongly_typed_seqs_are_refused_before_any_column(office_db_url):
    """The issue's poison: `"seq": 100000000000000000000` once failed the dead letter
    itself (OverflowError) and was retried forever. Every such seq is a plain refusal."""
    import json

    from contract.wire import encode_journal
    from headoffice.ingest.store import Rejected, store_batch
    from headoffice.ingest.validate import KeyCache, Refusal, check_message

    registry.add_terminal("t1", "s1", "00" * 32)
    topic, keys = "kassa/v1/s1/t1/journal", KeyCache()
    rejected = []
    for seq in (10**20, 2**63, 2**53, -1, 0, True, 1.5, "7", None, 10**4000):
        body = json.dumps({"v": 1, "seq": seq, "type": "no_sale", "store": "s1",
                           "terminal": "t1", "ts": "2026-12-03T10:00:00.000+01:00"})
        payload = encode_journal(body, "a" * 64, "c" * 128, "b" * 64)
        outcome = check_message(topic, payload, str(seq), keys)
        assert isinstance(outcome, Refusal) and outcome.reason == "malformed", (seq, outcome)
        assert outcome.seq is None and len(outcome.detail) < 200
        rejected.append(Rejected(topic, payload, outcome))
    result = store_batch(database_proxy.obj, [], rejected, [])
    assert result.rejected == len(rejected)
    assert DeadLetterTerminal.get(DeadLetterTerminal.terminal == "t1").count == len(rejected)
