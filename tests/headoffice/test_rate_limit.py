"""A terminal flooding head office with valid, correctly signed messages gets its rate and
no more (issue 17, point 8): beyond its token bucket a journal message is refused unchecked
and counted as `rate_limited`, so the flood costs a count, not a signature check and a row,
and another terminal's sales go on being confirmed. Nothing is lost: the flooding terminal
keeps what was refused and sends it again; its entries are stored exactly once. New entries
have a wide bucket (a till catching up a day's backlog), copies of entries head office has
already confirmed a narrow one."""

from __future__ import annotations

import time

from contract import chain, wire
from headoffice import registry
from headoffice.broker import BrokerSettings
from headoffice.ingest.ratelimit import PRUNE_AT, TokenBuckets
from headoffice.ingest.worker import KNOWN_BURST, KNOWN_RATE, IngestWorker
from headoffice.models import DeadLetterTerminal, OfficeEntry
from tests.uplink import harness

COPIES = 150  # each of the flooding terminal's entries sent this many times
ENTRIES = 20


def test_the_bucket_gives_a_burst_then_the_rate_per_terminal() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=10.0, burst=50, clock=lambda: now[0])
    assert sum(buckets.take("a") for _ in range(200)) == 50
    assert buckets.take("b")  # another terminal has its own bucket
    now[0] += 2.0
    assert sum(buckets.take("a") for _ in range(200)) == 20
    now[0] += 1000.0
    assert sum(buckets.take("a") for _ in range(200)) == 50  # saved up to the burst only


def test_the_table_of_buckets_stays_bounded() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=1.0, burst=5, clock=lambda: now[0])
    for n in range(3 * PRUNE_AT):
        buckets.take(f"t{n}")
        now[0] += 0.001
    assert len(buckets) <= PRUNE_AT + 1


def test_new_entries_and_copies_of_confirmed_ones_have_their_own_buckets() -> None:
    worker = IngestWorker(None, BrokerSettings("127.0.0.1", 1), "rate-test",
                          rates=(0.001, 10, 0.001, 3))
    topic = "kassa/v1/s1/t1/journal"
    fresh = [worker._over_rate(topic, str(n)) for n in range(1, 21)]
    assert sum(r is None for r in fresh) == 10
    refused = next(r for r in fresh if r is not None)
    assert refused.reason == "rate_limited" and refused.terminal == "t1"
    worker.confirmed["t1"] = 50  # as after its ack for 50
    copies = [worker._over_rate(topic, "7") for _ in range(10)]
    assert sum(r is None for r in copies) == 3
    assert "already confirmed" in next(r for r in copies if r is not None).detail
    assert worker._over_rate("kassa/v1/s1/t2/journal", "1") is None  # t2 has its own
    assert worker._over_rate("not/a/journal/topic", "1") is None  # check_message refuses it


def test_sign_ups_have_a_bucket_per_terminal_beyond_which_they_wait_for_a_resend() -> None:
    from headoffice.ingest.worker import SIGNUP_BURST

    worker = IngestWorker(None, BrokerSettings("127.0.0.1", 1), "rate-test")
    topic = "kassa/v1/s1/t1/signup"
    allowed = [worker._signup_allowed(topic) for _ in range(SIGNUP_BURST + 20)]
    assert allowed.count(True) in (SIGNUP_BURST, SIGNUP_BURST + 1)  # a token may refill
    assert allowed[-1] is False and worker.stats.signups_limited >= 19
    assert worker._signup_allowed("kassa/v1/s1/t2/signup")  # t2 has its own
    assert worker._signup_allowed("kassa/v1/s1/signup")  # no terminal: dead-lettered later


def _signed_messages(till) -> list[tuple[str, int, bytes]]:
    topic = wire.terminal_topic(till.store, till.terminal, "journal")
    out, prev = [], chain.GENESIS.hex()
    for seq, body, digest, sig in till.db.execute_sql(
            "SELECT seq, body, hash, sig FROM journal ORDER BY seq"):
        out.append((topic, seq, wire.encode_journal(body, digest, sig, prev)))
        prev = digest
    return out


def test_a_valid_flood_is_rate_limited_and_holds_back_no_one(tmp_path, mosquitto, office_db_url):
    broker = mosquitto()
    flooder = harness.make_till(tmp_path / "flood", broker.port, store="s1", terminal="t1")
    flooder.add_entries(ENTRIES)
    registry.add_terminal("t1", "s1", flooder.public_key_hex)
    seller = harness.make_till(tmp_path / "sell", broker.port, store="s1", terminal="t2")
    registry.add_terminal("t2", "s1", seller.public_key_hex)
    seller.add_entries(100)
    valid = _signed_messages(flooder)
    copies = valid * COPIES  # every entry again and again, once head office has it
    ingest = harness.start_ingest(office_db_url, broker.port, workers=2)
    uplink = None
    try:
        harness.wait_ingest_ready(broker)
        harness.publish_bare(broker.port, valid, inflight=200)
        harness.wait_until(lambda: _stored("t1") == ENTRIES, 60, "t1's entries stored")
        began = time.monotonic()
        uplink = harness.start_uplink(seller)
        harness.publish_bare(broker.port, copies, inflight=200)
        harness.wait_until(lambda: seller.acked() == seller.head(), 60, "t2's sales confirmed")
        harness.wait_until(lambda: _refused("t1") == len(copies), 120,
                           "every copy of the flood counted")
        elapsed = time.monotonic() - began
        counts = harness.dead_letter_counts()
        print(f"\n{len(copies)} valid copies from t1; t2 confirmed, all counted after "
              f"{elapsed:.1f} s; refusals {counts}")
        # each worker's narrow bucket admits its burst and then its rate (a worker that has
        # not yet confirmed t1 itself takes one batch in its wide bucket): the rest was
        # refused unchecked
        admitted = len(copies) - counts.get("rate_limited", 0)
        assert counts.get("rate_limited", 0) > 0, counts
        assert admitted <= 2 * (KNOWN_BURST + KNOWN_RATE * elapsed) + 1000, counts
        assert counts.get("duplicate", 0) == admitted, counts
        # exactly once: t1's entries each stored once, t2's all stored, t2 never refused
        assert _stored("t1") == ENTRIES
        assert OfficeEntry.select().where(OfficeEntry.terminal == "t2").count() == 100
        assert _refused("t2") == 0
    finally:
        for proc in (uplink, ingest):
            if proc is not None:
                harness.stop(proc)


def _refused(terminal: str) -> int:
    """The exact count of the terminal's refused messages (its rows are capped)."""
    return (DeadLetterTerminal.select(DeadLetterTerminal.count)
            .where(DeadLetterTerminal.terminal == terminal).scalar()) or 0


def _stored(terminal: str) -> int:
    return OfficeEntry.select().where(OfficeEntry.terminal == terminal).count()
