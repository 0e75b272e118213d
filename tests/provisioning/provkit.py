"""Helpers for the provisioning tests: a fleet in tmp and the CLI run in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Runs `kassa ARGV...` in this process; returns (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def init_fleet(capsys: pytest.CaptureFixture[str], root: Path, *extra: str) -> Path:
    fleet = root / "fleet"
    code, out, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "init",
                             "--broker-host", "127.0.0.1", "--broker-name", "localhost", *extra)
    assert code == 0, err
    return fleet


def enroll(capsys: pytest.CaptureFixture[str], fleet: Path, store: str, terminal: str,
           *extra: str) -> Path:
    code, out, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "enroll",
                             "--store", store, "--terminal", terminal, *extra)
    assert code == 0, err
    return fleet / "bundles" / terminal
