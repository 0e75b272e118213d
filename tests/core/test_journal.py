"""The journal: canonical form, chain and signature, and tampering found at the right entry."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contract import chain
from contract.entries import EntrySchemaError
from firmware.db import open_database
from firmware.journal import Journal
from firmware.models import JournalEntry

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    db = open_database(tmp_path / "j.sqlite3")
    journal = Journal(db, Ed25519PrivateKey.generate(), "s1", "t1")
    for i in range(1, 11):
        with journal.transaction():
            journal.append("cash_in", {"amount": i * 100, "reason": f"r{i}"}, cashier="Sanne")
    return journal


def test_chain_is_built_as_specified(journal: Journal) -> None:
    prev = chain.GENESIS
    for entry in journal.entries():
        assert entry.body_text.encode() == chain.canonical(entry.body)
        assert bytes.fromhex(entry.hash) == chain.entry_hash(prev, entry.body_text.encode())
        assert chain.signature_ok(journal.public_key, bytes.fromhex(entry.hash), bytes.fromhex(entry.sig))
        prev = bytes.fromhex(entry.hash)
    assert [e.seq for e in journal.entries()] == list(range(1, 11))
    assert journal.verify().ok


def test_canonical_form() -> None:
    assert chain.canonical({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()
    with pytest.raises(chain.CanonicalError, match="floats"):
        chain.canonical({"amount": 1.5})


def test_append_needs_a_transaction_and_a_known_type(journal: Journal) -> None:
    with pytest.raises(RuntimeError):
        journal.append("sale", {})
    with journal.transaction(), pytest.raises(ValueError, match="unknown journal entry type"):
        journal.append("teleport", {})


def test_a_body_that_does_not_fit_its_schema_is_refused_before_it_is_signed(journal: Journal) -> None:
    with journal.transaction():
        with pytest.raises(EntrySchemaError) as caught:
            journal.append("cash_in", {"amount": 1.5, "reason": "float"})
        assert (caught.value.entry_type, caught.value.field) == ("cash_in", "data.amount")
        with pytest.raises(EntrySchemaError, match="data.till"):
            journal.append("cash_in", {"amount": 100, "till": "t9"})
        with pytest.raises(EntrySchemaError, match="refers to an earlier entry"):
            journal.append("receipt_copy", {"of_type": "sale"})
        entry = journal.append("receipt_copy", {"of_type": "sale"}, ref_seq=3)
    assert entry.seq == 11 and entry.body["v"] == chain.SCHEMA
    assert journal.verify().ok


def test_rolled_back_entry_leaves_no_gap(journal: Journal) -> None:
    with pytest.raises(ZeroDivisionError), journal.transaction():
        journal.append("cash_in", {"amount": 1})
        1 / 0  # noqa: B018
    with journal.transaction():
        entry = journal.append("cash_in", {"amount": 2})
    assert entry.seq == 11
    assert journal.verify().ok


def _sql(journal: Journal, sql: str, *params) -> None:
    journal.db.execute_sql(sql, params)


def test_edit_is_found_at_that_entry(journal: Journal) -> None:
    row = JournalEntry.get(JournalEntry.seq == 4)
    _sql(journal, "UPDATE journal SET body = ? WHERE seq = 4", row.body.replace('"amount":400', '"amount":4'))
    result = journal.verify()
    assert (result.ok, result.bad_seq) == (False, 4)
    assert "edited" in result.problem


def test_edit_with_recomputed_hash_fails_the_signature(journal: Journal) -> None:
    row = JournalEntry.get(JournalEntry.seq == 6)
    prev = bytes.fromhex(JournalEntry.get(JournalEntry.seq == 5).hash)
    body = row.body.replace('"amount":600', '"amount":6')
    new_hash = chain.entry_hash(prev, body.encode()).hex()
    _sql(journal, "UPDATE journal SET body = ?, hash = ? WHERE seq = 6", body, new_hash)
    result = journal.verify()
    assert (result.ok, result.bad_seq) == (False, 6)
    assert "signature" in result.problem


def test_delete_is_found_at_the_missing_entry(journal: Journal) -> None:
    _sql(journal, "DELETE FROM journal WHERE seq = 7")
    result = journal.verify()
    assert (result.ok, result.bad_seq) == (False, 7)
    assert "deleted" in result.problem


def test_insert_is_found_at_the_inserted_entry(journal: Journal) -> None:
    # shift 5..10 up by one and put a forged entry at 5
    for seq in range(10, 4, -1):
        _sql(journal, "UPDATE journal SET seq = seq + 1 WHERE seq = ?", seq)
    forged = JournalEntry.get(JournalEntry.seq == 4)
    _sql(journal, "INSERT INTO journal (seq, type, ts, body, hash, sig) VALUES (5, ?, ?, ?, ?, ?)",
         forged.type, forged.ts, forged.body.replace('"seq":4', '"seq":5'), forged.hash, forged.sig)
    result = journal.verify()
    assert (result.ok, result.bad_seq) == (False, 5)


def test_swap_is_found_at_the_first_swapped_entry(journal: Journal) -> None:
    a, b = JournalEntry.get(JournalEntry.seq == 3), JournalEntry.get(JournalEntry.seq == 8)
    _sql(journal, "UPDATE journal SET body=?, hash=?, sig=? WHERE seq = 3", b.body, b.hash, b.sig)
    _sql(journal, "UPDATE journal SET body=?, hash=?, sig=? WHERE seq = 8", a.body, a.hash, a.sig)
    result = journal.verify()
    assert (result.ok, result.bad_seq) == (False, 3)


def test_truncated_tail_is_found(journal: Journal) -> None:
    _sql(journal, "DELETE FROM journal WHERE seq > 8")
    result = journal.verify()
    assert not result.ok and "truncated" in result.problem


def test_wrong_key_is_found_at_the_first_entry(journal: Journal) -> None:
    other = Ed25519PrivateKey.generate().public_key()
    result = journal.verify(other)
    assert (result.ok, result.bad_seq) == (False, 1)


def test_cli_verify_exit_codes(tmp_path: Path) -> None:
    config = tmp_path / "kassa.toml"
    config.write_text(f'[database]\npath = "{tmp_path / "k.sqlite3"}"\n'
                      f'[terminal]\nsigning_key = "{tmp_path / "key.pem"}"\n')
    run = lambda *a: subprocess.run([sys.executable, "-m", "cli", "--config", str(config), *a],  # noqa: E731
                                    capture_output=True, text=True, cwd=ROOT)
    sim = run("sim", "--sales", "5")
    assert sim.returncode == 0, sim.stderr
    ok = run("journal", "verify")
    assert ok.returncode == 0 and "journal OK" in ok.stdout
    db = open_database(tmp_path / "k.sqlite3")
    body = json.loads(JournalEntry.get(JournalEntry.seq == 3).body)
    body["cashier"] = "Mallory"
    db.execute_sql("UPDATE journal SET body = ? WHERE seq = 3", (chain.canonical(body).decode(),))
    db.close()
    bad = run("journal", "verify")
    assert bad.returncode == 1
    assert "BROKEN at entry 3" in bad.stdout


def test_cli_show_says_when_it_stops_short_and_shows_all_on_request(tmp_path: Path) -> None:
    config = tmp_path / "kassa.toml"
    config.write_text(f'[database]\npath = "{tmp_path / "k.sqlite3"}"\n'
                      f'[terminal]\nsigning_key = "{tmp_path / "key.pem"}"\n')
    run = lambda *a: subprocess.run([sys.executable, "-m", "cli", "--config", str(config), *a],  # noqa: E731
                                    capture_output=True, text=True, cwd=ROOT)
    assert run("sim", "--sales", "70").returncode == 0
    db = open_database(tmp_path / "k.sqlite3")
    total = JournalEntry.select().count()
    db.close()
    assert total > 60
    default = run("journal", "show")
    assert default.returncode == 0
    seqs = [json.loads(line)["seq"] for line in default.stdout.splitlines()]
    assert seqs == list(range(1, 51))
    assert f"50 of {total} entries shown; --all for every entry" in default.stderr
    every = run("journal", "show", "--all")
    assert every.returncode == 0 and every.stderr == ""
    assert [json.loads(line)["seq"] for line in every.stdout.splitlines()] == list(range(1, total + 1))
    tail = run("journal", "show", "--from", str(total - 4), "--limit", "10")
    assert len(tail.stdout.splitlines()) == 5 and tail.stderr == ""  # the rest fits: no note
    part = run("journal", "show", "--from", "11", "--limit", "5")
    assert len(part.stdout.splitlines()) == 5
    assert f"5 of {total - 10} entries shown; --all for every entry" in part.stderr
