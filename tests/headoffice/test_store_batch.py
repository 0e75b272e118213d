"""Batch storage without a broker: idempotence, chain links, gaps and replay requests."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contract import chain
from contract.wire import encode_journal, terminal_topic
from headoffice import registry
from headoffice.db import database_proxy
from headoffice.ingest import store
from headoffice.ingest.store import store_batch
from headoffice.ingest.validate import Candidate, KeyCache, Refusal, check_message
from headoffice.models import DeadLetterCount, OfficeEntry, TerminalState

STORE, TERMINAL = "s1", "t1"
TOPIC = terminal_topic(STORE, TERMINAL, "journal")


def _journal(key: Ed25519PrivateKey, count: int, first_prev: bytes = chain.GENESIS,
             first_seq: int = 1, note: str = "") -> list[tuple[int, bytes]]:
    out, prev = [], first_prev
    for seq in range(first_seq, first_seq + count):
        body = {"v": 1, "seq": seq, "type": "no_sale", "ts": "2026-11-27T10:00:00.000+01:00",
                "store": STORE, "terminal": TERMINAL, "cashier": "anna", "training": False,
                "data": {"reason": note}}
        text = chain.canonical(body)
        digest = chain.entry_hash(prev, text)
        out.append((seq, encode_journal(text.decode(), digest.hex(), key.sign(digest).hex(),
                                        prev.hex())))
        prev = digest
    return out


def _ingest(messages: list[tuple[int, bytes]]) -> store.BatchResult:
    keys = KeyCache()
    candidates, rejected = [], []
    for seq, payload in messages:
        outcome = check_message(TOPIC, payload, str(seq), keys)
        if isinstance(outcome, Candidate):
            candidates.append((TOPIC, payload, outcome))
        else:
            rejected.append(store.Rejected(TOPIC, payload, outcome))
    return store_batch(database_proxy.obj, candidates, rejected, [])


def _state() -> TerminalState:
    return TerminalState.get(TerminalState.terminal == TERMINAL)


def test_out_of_order_batches_advance_the_ack_once_contiguous(office_db_url, monkeypatch):
    key = Ed25519PrivateKey.generate()
    registry.add_terminal(TERMINAL, STORE, key.public_key().public_bytes_raw().hex())
    entries = _journal(key, 30)
    monkeypatch.setattr(store, "GAP_GRACE_SECONDS", 3600.0)
    result = _ingest(entries[20:])
    assert result.acks == {TERMINAL: (STORE, 0, "0" * 64)} and result.replays == {}
    assert (_state().contiguous_seq, _state().max_seen_seq) == (0, 30)
    monkeypatch.setattr(store, "GAP_GRACE_SECONDS", 0.0)
    result = _ingest(entries[:10])
    assert result.acks[TERMINAL][1] == 10
    assert result.replays == {TERMINAL: (STORE, 11)}  # the gap 11..20 outlived its grace
    result = _ingest(entries[10:20] + entries[:5])
    assert result.acks[TERMINAL] == (STORE, 30, json.loads(entries[29][1])["hash"])
    assert result.replays == {}
    assert OfficeEntry.select().count() == 30
    assert {r.reason: r.count for r in DeadLetterCount.select()} == {"duplicate": 5}


def test_a_validly_signed_fork_is_dead_lettered_not_stored(office_db_url):
    key = Ed25519PrivateKey.generate()
    registry.add_terminal(TERMINAL, STORE, key.public_key().public_bytes_raw().hex())
    entries = _journal(key, 5)
    _ingest(entries)
    fork = _journal(key, 1, first_prev=bytes(range(32)), first_seq=6, note="fork")
    _ingest(fork)
    assert _state().contiguous_seq == 5
    assert {r.reason: r.count for r in DeadLetterCount.select()} == {"chain_break": 1}
    conflict = _journal(key, 5, note="other")[4:]  # a second, different entry 5
    _ingest(conflict)
    assert {r.reason: r.count for r in DeadLetterCount.select()} == {"chain_break": 1,
                                                                      "conflict": 1}


def test_revoked_terminals_are_refused(office_db_url):
    key = Ed25519PrivateKey.generate()
    registry.add_terminal(TERMINAL, STORE, key.public_key().public_bytes_raw().hex())
    registry.revoke_terminal(TERMINAL)
    seq, payload = _journal(key, 1)[0]
    outcome = check_message(TOPIC, payload, str(seq), KeyCache())
    assert isinstance(outcome, Refusal) and outcome.reason == "revoked"
