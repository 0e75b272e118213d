"""kassa-update.service passes `systemd-analyze verify`, runs the updater from the committed
release (never the one under test), and keeps the hardening that fits a root updater."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from cli import build_parser

UNIT = Path(__file__).resolve().parents[2] / "systemd" / "kassa-update.service"
COMMITTED_BIN = "/opt/kassa/committed/venv/bin/kassa"


def service_lines() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    in_service = False
    for line in UNIT.read_text().splitlines():
        if line.startswith("["):
            in_service = line == "[Service]"
        elif in_service and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def test_the_unit_verifies(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    assert tool, "systemd-analyze missing: install the 'systemd' Debian package"
    stand_in = tmp_path / "kassa"
    stand_in.write_text("#!/bin/sh\nexit 0\n")
    stand_in.chmod(0o755)
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace(COMMITTED_BIN, str(stand_in)))
    done = subprocess.run([tool, "verify", "--man=no", "--generators=no", str(unit)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done.stderr


def test_it_runs_kassa_update_from_the_committed_release() -> None:
    s = service_lines()
    command = s["ExecStart"][0].split()
    assert command[0] == COMMITTED_BIN
    args = build_parser().parse_args(command[1:])
    assert args.command == "update" and args.update_command is None and not args.supervisor
    assert s["Restart"] == ["always"]  # it exits after each commit to run the new release


def test_hardening_that_fits_a_root_updater() -> None:
    s = service_lines()
    assert s["User"] == ["root"]  # it writes /opt/kassa and restarts the till's units
    for key, value in (("ProtectSystem", "strict"), ("PrivateTmp", "yes"),
                       ("ProtectHome", "yes"), ("PrivateDevices", "yes")):
        assert s[key] == [value], key
    assert set(s["ReadWritePaths"][0].split()) == {"/var/lib/kassa", "/opt/kassa"}
