"""Issue 17, point 11: `kassa journal` on a damaged database says so in one line naming the
file (exit code 3), never a traceback; `kassa journal show | head` ends quietly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import peewee
import pytest

from cli.assemble import build_till
from contract.config import Config
from firmware.sim import run_day
from tests.faults.shop import ROOT, closed_day, kassa


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return closed_day(tmp_path)


def settle_wal(config: Config) -> tuple[int, int]:
    """Everything into the main file; returns (page size, root page of the journal table)."""
    db = peewee.SqliteDatabase(str(config.database_path))
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = db.execute_sql("PRAGMA page_size").fetchone()[0]
    root = db.execute_sql("SELECT rootpage FROM sqlite_master WHERE name = 'journal'").fetchone()[0]
    db.close()
    return page_size, root


def damage(config: Config, offset: int, data: bytes) -> None:
    with Path(config.database_path).open("r+b") as fh:
        fh.seek(offset)
        fh.write(data)


def one_line_naming_the_file(result: subprocess.CompletedProcess, config: Config) -> None:
    assert result.returncode == 3, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert str(config.database_path) in lines[0] and "cannot be read" in lines[0]


@pytest.mark.parametrize("where", ["file header", "journal page header"])
def test_a_damaged_page_header_is_one_clear_line(config: Config, where: str) -> None:
    page_size, root = settle_wal(config)
    if where == "file header":
        damage(config, 0, b"this is no SQLite header!")
    else:  # the b-tree page type and cell pointers of the journal's root page
        damage(config, (root - 1) * page_size, b"\xee" * 12)
    for command in (("journal", "verify"), ("journal", "show", "--all")):
        one_line_naming_the_file(kassa(config, *command), config)


def test_show_piped_into_head_ends_quietly(config: Config) -> None:
    till = build_till(config)
    run_day(till, 120, seed=4, out=lambda line: None)  # far more than a pipe's buffer
    till.db.close()
    env = {**os.environ, "KASSA_CONFIG": config.source}
    result = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {sys.executable} -m cli journal show --all | head -n 2"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr
    assert len(result.stdout.splitlines()) == 2 and result.stdout.startswith('{"seq": 1,')
