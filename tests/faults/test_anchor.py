"""Issue 17, point 6: cutting off the journal's end and rewriting the head record is found,
through witnesses the database cannot rewrite alone: the signed anchor file written with
every Z, the printed Z's QR code, and head office's ack. Start-up and `kassa journal
verify` check them; a missing anchor is reported, never silently recreated."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import peewee
import pytest

from cli.assemble import build_till
from contract import figures
from contract.config import Config
from contract.receipt import build_report
from firmware import anchor, checkpoint
from firmware.permissions import Action
from firmware.sim import MANAGER_PIN, run_day
from tests.faults.shop import acknowledge, closed_day, kassa, refused_at_start, scalar, tamper


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return closed_day(tmp_path, restart=True)


def anchor_file(config: Config) -> Path:
    return Path(str(config.database_path) + anchor.SUFFIX)


def cut_and_rewrite_head(config: Config, keep: int, forget: tuple[str, ...] = ()) -> None:
    """The attack: entries after `keep` deleted, the head record and every counter rewritten
    to what the rest of the journal gives (figures are public code; the seal row goes with
    the old table), Meta rows forgotten."""
    db = peewee.SqliteDatabase(str(config.database_path))
    with db.atomic():
        db.execute_sql("DELETE FROM journal WHERE seq > ?", (keep,))
        bodies = [json.loads(b) for (b,) in db.execute_sql("SELECT body FROM journal ORDER BY seq")]
        db.execute_sql("DELETE FROM running_total")
        for key, value in figures.replay(bodies).items():
            db.execute_sql("INSERT INTO running_total (key, value) VALUES (?, ?)", (key, value))
        for key in forget:
            db.execute_sql("DELETE FROM meta WHERE key = ?", (key,))
    db.close()


def last_z(config: Config) -> int:
    return int(scalar(config, "SELECT max(seq) FROM journal WHERE type = 'z_close'"))


def printed_z_code(config: Config) -> str:
    till = build_till(config)
    z = till.journal.get(last_z(config))
    document = build_report(z.body, z.hash, config.terminal, 42, "en")
    till.db.close()
    return next(block["data"] for block in document["blocks"] if block["kind"] == "qr")


def test_the_z_writes_a_signed_anchor_beside_the_database(config: Config) -> None:
    till = build_till(config)
    written = anchor.read(anchor_file(config), till.journal.public_key)
    z = till.journal.get(last_z(config))
    assert written == anchor.Anchor("s1", "t1", z.seq, z.hash, 1)
    till.login(MANAGER_PIN)
    second = till.z_close({}, approval=till.approve(MANAGER_PIN, Action.Z_CLOSE)).entry
    assert anchor.read(anchor_file(config), till.journal.public_key).seq == second.seq
    assert not anchor_file(config).with_name(anchor_file(config).name + ".tmp").exists()
    till.db.close()


def test_cutting_the_end_with_the_last_z_and_rewriting_the_head_is_found(config: Config) -> None:
    keep = last_z(config) - 3
    cut_and_rewrite_head(config, keep, forget=(checkpoint.META_KEY,))
    assert kassa(config, "journal", "verify").stdout.startswith("journal OK")  # the chain holds
    till = refused_at_start(config, "truncated", f"the journal ends at entry {keep}")
    assert "anchor file records Z close 1" in till.journal_alarm
    till.db.close()
    verify = kassa(config, "journal", "verify")
    assert verify.returncode == 1
    assert f"PROBLEM (truncated, entry {keep + 3})" in verify.stdout


def test_cutting_the_end_after_the_last_z_and_rewriting_the_head_is_found(config: Config) -> None:
    keep = int(scalar(config, "SELECT max(seq) FROM journal")) - 5
    cut_and_rewrite_head(config, keep)
    till = refused_at_start(config, "totals", f"not sealed to the journal's last entry {keep}")
    till.db.close()
    verify = kassa(config, "journal", "verify")
    assert verify.returncode == 1 and "PROBLEM (totals" in verify.stdout


@pytest.mark.parametrize("counters", ["rewritten", "deleted"])
def test_forgetting_the_seal_too_does_not_pass_for_an_old_database(config: Config,
                                                                   counters: str) -> None:
    keep = int(scalar(config, "SELECT max(seq) FROM journal")) - 5
    cut_and_rewrite_head(config, keep, forget=(checkpoint.META_KEY,))
    words = "not sealed"  # the anchor file says this database had sealed totals
    if counters == "deleted":
        tamper(config, "DELETE FROM running_total")
        words = "totals are gone"
    till = refused_at_start(config, "totals", words)
    till.db.close()


def test_head_office_ack_beyond_the_end_is_found(config: Config) -> None:
    keep = int(scalar(config, "SELECT max(seq) FROM journal")) - 5
    tamper(config, f"INSERT OR REPLACE INTO delivery (key, acked_seq, updated) "
                   f"VALUES ('ack', {keep + 5}, '')")
    cut_and_rewrite_head(config, keep)
    till = refused_at_start(config, "behind_office", f"confirmed entries up to {keep + 5}")
    till.db.close()
    assert "PROBLEM (behind_office" in kassa(config, "journal", "verify").stdout


def test_the_printed_z_code_is_checked_by_verify(config: Config) -> None:
    code = printed_z_code(config)
    ok = kassa(config, "journal", "verify", "--z-qr", code)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"printed Z code OK: {code}" in ok.stdout and "anchor OK" in ok.stdout
    cut_and_rewrite_head(config, last_z(config) - 1)
    anchor_file(config).unlink()  # a thorough forger removes the anchor too
    broken = kassa(config, "journal", "verify", "--z-qr", code)
    assert broken.returncode == 1
    assert "the printed Z code names entry" in broken.stdout
    assert "PROBLEM (totals" in broken.stdout, broken.stdout  # the seal names the new head
    forged = kassa(config, "journal", "verify", "--z-qr", code.replace("|s1|", "|s9|"))
    assert forged.returncode == 1 and "is of terminal s9/t1" in forged.stdout


def test_a_missing_anchor_is_reported_and_recreated_only_after_acknowledgement(
        config: Config) -> None:
    anchor_file(config).unlink()
    till = refused_at_start(config, "anchor", "is missing although the journal has Z closes")
    till.db.close()
    assert not anchor_file(config).exists()  # not silently recreated by the start-up
    assert kassa(config, "sim", "--sales", "1").returncode == 3
    assert not anchor_file(config).exists()
    till = build_till(config)
    acknowledge(till)
    assert anchor.read(anchor_file(config), till.journal.public_key).seq == last_z(config)
    till.db.close()
    again = build_till(config)
    assert again.journal_alarm is None
    again.db.close()


@pytest.mark.parametrize("edit", ["seq", "foreign", "garbage"])
def test_a_forged_or_foreign_anchor_is_refused(config: Config, tmp_path: Path, edit: str) -> None:
    path = anchor_file(config)
    record = json.loads(path.read_text())
    if edit == "seq":
        record["seq"] -= 1
        path.write_text(json.dumps(record))
        words = "signature that does not match"
    elif edit == "foreign":
        (tmp_path / "other").mkdir()
        other = closed_day(tmp_path / "other")
        shutil.copy(Path(str(other.database_path) + anchor.SUFFIX), path)
        words = "signature that does not match"  # another terminal's key
    else:
        path.write_bytes(b"\x00\xffnot json")
        words = "is not an anchor record"
    till = refused_at_start(config, "anchor", words)
    till.db.close()
    assert "PROBLEM (anchor" in kassa(config, "journal", "verify").stdout


def test_an_anchor_one_z_behind_is_the_crash_window_and_catches_up(config: Config) -> None:
    older = anchor_file(config).read_bytes()
    till = build_till(config)
    for _ in range(2):
        run_day(till, 2, seed=3, out=lambda line: None)
        till.login(MANAGER_PIN)
        till.z_close({}, approval=till.approve(MANAGER_PIN, Action.Z_CLOSE))
        if _ == 0:
            one_behind = anchor_file(config).read_bytes()
    till.db.close()
    anchor_file(config).write_bytes(one_behind)  # killed between the Z's commit and the file
    till = build_till(config)
    assert till.journal_alarm is None
    assert anchor.read(anchor_file(config), till.journal.public_key).seq == last_z(config)
    till.db.close()
    anchor_file(config).write_bytes(older)  # two Zs behind: an old copy put back
    till = refused_at_start(config, "anchor", "2 Z closes behind the journal")
    till.db.close()
