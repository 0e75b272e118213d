"""A journal export proves its own completeness: each way of trimming or relabelling it makes
`kassa office verify-export` exit 1 and name what is missing or changed, with no database."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cli import main
from contract.keys import public_key_hex
from tests.office.helpers import enroll, feed, make_till, payloads, shop_day

TODAY = dt.date.today().isoformat()
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    """Two tills of one shop, each a day with a Z close, received by a SQLite head office;
    then a few sales after t1's Z, so t1's run goes on past its Z."""
    from headoffice.db import database_proxy, open_office_db

    tmp = tmp_path_factory.mktemp("proof")
    url = f"sqlite:///{tmp / 'office.sqlite3'}"
    keys = {}
    for number, terminal in enumerate(("t1", "t2")):
        till = make_till(tmp / terminal, "s1", terminal)
        db = open_office_db(url)
        enroll(till)
        shop_day(till, sales=40 + 20 * number, seed=number + 11)
        if terminal == "t1":
            for _ in range(3):
                till.login("1111")
                till.add_plu("1")
                till.pay_card(None, "REF2")
                till.logout()
        feed(db, payloads(till))
        keys[terminal] = public_key_hex(till.journal.key)
        till.db.close()
    db.close()
    database_proxy.initialize(None)
    return tmp, url, keys


def _export(office, tmp_path, fmt="csv", name=None) -> Path:
    base, url, _ = office
    out = tmp_path / (name or f"journal.{fmt}")
    code = main(["office", "--db", url, "export", "journal", "--period", TODAY, "--format", fmt,
                 "--office-key", str(base / "office.pem"), "-o", str(out)])
    assert code == 0
    return out


def _verify(path: Path, capsys, *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["office", "verify-export", str(path), *extra])
    return code, capsys.readouterr().out


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(), newline="")))


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    """Rewrites the data file with the export's own writer (a tamperer keeps the format)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue())


def test_an_untouched_export_verifies_in_both_formats_and_as_a_zip(office, tmp_path, capsys):
    _, _, keys = office
    for fmt in ("csv", "jsonl"):
        code, out = _verify(_export(office, tmp_path, fmt), capsys)
        assert code == 0, out
        assert "export OK" in out and "completeness" in out
    code, out = _verify(_export(office, tmp_path, "csv", "journal.zip"), capsys)
    assert code == 0, out
    with zipfile.ZipFile(tmp_path / "journal.zip") as archive:
        assert sorted(archive.namelist()) == ["journal.csv", "journal.csv.manifest.json"]
    manifest = json.loads((tmp_path / "journal.csv.manifest.json").read_text())["manifest"]
    listed = {t["terminal"]: t for t in manifest["terminals"]}
    assert {t: listed[t]["public_key"] for t in listed} == keys
    assert all(len(listed[t]["fingerprint"].split()) == 16 for t in listed)
    assert listed["t1"]["first_seq"] == 1 and listed["t1"]["z_numbers"] == [1]
    assert manifest["data"]["entries"] == len(_rows(tmp_path / "journal.csv"))


def test_dropping_the_last_30_entries_with_a_z_is_named(office, tmp_path, capsys):
    path = _export(office, tmp_path)
    rows = _rows(path)
    t1 = [r for r in rows if r["terminal"] == "t1"]
    dropped = t1[-30:]
    assert any(r["type"] == "z_close" for r in dropped)
    _write(path, [r for r in rows if r not in dropped])
    code, out = _verify(path, capsys)
    assert code == 1
    first, last = dropped[0]["seq"], dropped[-1]["seq"]
    assert f"BAD terminal t1: seq {first}..{last} missing" in out
    assert "BAD terminal t1: Z 1 (seq" in out and "missing from the export" in out
    assert "export OK" not in out


def test_dropping_the_first_50_entries_of_a_terminal_is_named(office, tmp_path, capsys):
    path = _export(office, tmp_path)
    rows = _rows(path)
    t2 = [r for r in rows if r["terminal"] == "t2"]
    _write(path, [r for r in rows if r not in t2[:50]])
    code, out = _verify(path, capsys)
    assert code == 1
    assert "BAD terminal t2: seq 1..50 missing" in out
    # the Z's own signed range says the same, without the manifest's word for it
    assert "BAD terminal t2: Z 1 (seq" in out and "seq 1..50 of it missing" in out


def test_dropping_a_whole_terminal_is_named(office, tmp_path, capsys):
    path = _export(office, tmp_path, "jsonl")
    lines = [line for line in path.read_text().splitlines(keepends=True)
             if json.loads(line)["terminal"] != "t2"]
    path.write_text("".join(lines))
    code, out = _verify(path, capsys)
    assert code == 1
    assert "BAD terminal t2: missing entirely (head office's manifest lists seq 1.." in out


@pytest.mark.parametrize("column", ["ts", "type"])
def test_a_relabelled_readable_column_is_named(office, tmp_path, capsys, column):
    path = _export(office, tmp_path)
    rows = _rows(path)
    target = next(r for r in rows if r["terminal"] == "t1" and r["type"] == "sale")
    target[column] = "2020-01-01T00:00:00+00:00" if column == "ts" else "no_sale"
    _write(path, rows)
    code, out = _verify(path, capsys)
    assert code == 1
    assert f"BAD terminal t1 entry {target['seq']}: column {column} says" in out
    assert "the signed body says" in out


def test_an_export_without_or_with_an_edited_manifest_fails(office, tmp_path, capsys):
    path = _export(office, tmp_path)
    manifest_path = tmp_path / "journal.csv.manifest.json"
    document = json.loads(manifest_path.read_text())
    document["manifest"]["terminals"][0]["last_seq"] -= 30  # hide a trimmed tail
    manifest_path.write_text(json.dumps(document))
    code, out = _verify(path, capsys)
    assert code == 1 and "signature does not match" in out
    document["manifest"]["terminals"][0]["first_seq"] = "1"
    manifest_path.write_text(json.dumps(document))
    code, out = _verify(path, capsys)
    assert code == 1 and "lacks terminal, first_seq, last_seq or entries" in out
    manifest_path.unlink()
    code, out = _verify(path, capsys)
    assert code == 1 and "no manifest" in out


def test_keys_and_the_office_key_can_be_pinned(office, tmp_path, capsys):
    _, _, keys = office
    path = _export(office, tmp_path)
    manifest = json.loads((tmp_path / "journal.csv.manifest.json").read_text())["manifest"]
    office_fp = manifest["office_key"]["fingerprint"]
    code, out = _verify(path, capsys, "--office-key", office_fp,
                        "--public-key", f"t1={keys['t1']}")
    assert code == 0, out
    assert f"manifest signed by head office key {office_fp}" in out
    code, out = _verify(path, capsys, "--office-key", "ab" * 32)
    assert code == 1 and "not the one pinned" in out
    code, out = _verify(path, capsys, "--public-key", f"t1={keys['t2']}")
    assert code == 1 and "BAD terminal t1: the public key given" in out


def test_verify_export_needs_no_database(office, tmp_path):
    base, _, _ = office
    path = _export(office, tmp_path)
    gone = tmp_path / "deleted.sqlite3"
    env = {**os.environ, "KASSA_OFFICE_DB": str(gone),
           "KASSA_OFFICE_KEY": str(tmp_path / "no-key.pem")}
    proc = subprocess.run([sys.executable, "-m", "cli", "office", "verify-export", str(path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "export OK" in proc.stdout
    assert not gone.exists() and not (tmp_path / "no-key.pem").exists()
    assert (base / "office.pem").stat().st_mode & 0o777 == 0o600


def test_the_office_key_is_created_once_with_mode_0600(tmp_path):
    from headoffice import signing

    where = tmp_path / "keys" / "office.pem"
    key = signing.office_key(where)
    assert stat.S_IMODE(where.stat().st_mode) == 0o600
    assert signing.raw_public(signing.office_key(where)) == signing.raw_public(key)
    where.write_text("not a key")
    with pytest.raises(signing.OfficeKeyError) as caught:
        signing.office_key(where)
    assert caught.value.path == where


def test_journal_to_stdout_is_refused(office, capsys):
    _, url, _ = office
    code = main(["office", "--db", url, "export", "journal", "--period", TODAY])
    assert code == 2
    assert "-o FILE" in capsys.readouterr().err


def test_terminals_page_shows_keys_and_the_journal_download_verifies(office, tmp_path, capsys,
                                                                   monkeypatch):
    from headoffice import signing
    from headoffice.db import database_proxy, open_office_db
    from tests.office.helpers import OfficeWeb

    base, url, keys = office
    monkeypatch.setenv("KASSA_OFFICE_KEY", str(tmp_path / "web-office.pem"))
    db = open_office_db(url)
    web = OfficeWeb(url)
    try:
        web.login()
        status, html = web.get("/terminals")
        assert status == 200, html
        for terminal, key in keys.items():
            assert f'data-terminal="{terminal}"' in html
            assert signing.fingerprint(key) in html and key in html
        with web.opener.open(f"{web.base}/export/csv?period={TODAY}", timeout=30) as response:
            assert response.headers["Content-Type"] == "application/zip"
            data = response.read()
    finally:
        web.stop()
        db.close()
        database_proxy.initialize(None)
    path = tmp_path / "download.zip"
    path.write_bytes(data)
    code, out = _verify(path, capsys)
    assert code == 0, out
    office_public = signing.raw_public(signing.office_key(tmp_path / "web-office.pem")).hex()
    assert f"manifest signed by head office key {signing.fingerprint(office_public)}" in out


def test_entries_head_office_never_received_make_the_export_incomplete(tmp_path, capsys):
    from headoffice.db import database_proxy, open_office_db

    url = f"sqlite:///{tmp_path / 'gappy.sqlite3'}"
    till = make_till(tmp_path / "t9", "s1", "t9")
    db = open_office_db(url)
    enroll(till)
    shop_day(till, sales=10, seed=2)
    messages = payloads(till)
    feed(db, messages[:9] + messages[12:])  # seq 10..12 never arrived
    till.db.close()
    out = tmp_path / "journal.csv"
    try:
        assert main(["office", "--db", url, "export", "journal", "--period", TODAY,
                     "--office-key", str(tmp_path / "office.pem"), "-o", str(out)]) == 0
    finally:
        db.close()
        database_proxy.initialize(None)
    code, text = _verify(out, capsys)
    assert code == 1
    assert "BAD terminal t9: seq 10..12 had not reached head office when it made the export" in text
    assert "seq 10..12 of it missing from the export" in text  # the Z counts them


def test_a_terminal_run_reaches_back_to_the_first_entry_its_z_counts(office, tmp_path):
    """A Z after midnight counts entries of the day before: the export takes them along."""
    import shutil

    from headoffice.db import database_proxy, open_office_db
    from headoffice.exports import journal
    from headoffice.exports.periods import parse_period
    from headoffice.models import OfficeEntry

    base, _, _ = office
    for suffix in ("", "-wal"):  # an export may still hold the database open
        if (base / f"office.sqlite3{suffix}").exists():
            shutil.copy(base / f"office.sqlite3{suffix}", tmp_path / f"copy.sqlite3{suffix}")
    db = open_office_db(f"sqlite:///{tmp_path / 'copy.sqlite3'}")
    try:
        yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat() + "T23:00:00+00:00"
        OfficeEntry.update(ts=yesterday).where((OfficeEntry.terminal == "t2")
                                               & (OfficeEntry.seq <= 10)).execute()
        windows = {w.terminal: w for w in journal.export_windows(parse_period(TODAY))}
        assert windows["t2"].first_seq == 1  # not 11: Z 1 counts seq 1..
        assert [r["seq"] for r in journal.window_rows(windows["t2"])][:3] == [1, 2, 3]
        OfficeEntry.update(ts=yesterday).where(OfficeEntry.terminal == "t2").execute()
        assert "t2" not in {w.terminal for w in journal.export_windows(parse_period(TODAY))}
    finally:
        db.close()
        database_proxy.initialize(None)
