"""The unit files pass `systemd-analyze verify` and keep their hardening.

verify needs no running systemd, but it checks that ExecStart's binary exists and is
executable; on a test machine Kassa is not in /opt/kassa, so each unit is copied to tmp with
its ExecStart pointed at a stand-in script. Template units are verified as an instance.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[2] / "systemd"
# terminal units run the release `current` points at (provisioning/release/install.py);
# head-office units run a venv of their own
TERMINAL_BIN = "/opt/kassa/current/venv/bin/kassa"
OFFICE_BIN = "/opt/kassa/.venv/bin/kassa"
NAMES = ["kassa-till.service", "kassa-uplink.service", "kassa-office-ingest@.service",
         "kassa-office-web.service", "kassa-office-customers.service"]


def _verify(unit_text: str, name: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("systemd-analyze")
    assert tool, "systemd-analyze missing: install the 'systemd' Debian package (bootstrap does)"
    fake = tmp_path / "bin" / "kassa"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    text = unit_text.replace(TERMINAL_BIN, str(fake)).replace(OFFICE_BIN, str(fake))
    unit = tmp_path / name.replace("@.", "@1.")
    unit.write_text(text)
    return subprocess.run([tool, "verify", "--man=no", "--generators=no", str(unit)],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("name", NAMES)
def test_unit_verifies_cleanly(name: str, tmp_path: Path) -> None:
    result = _verify((UNITS / name).read_text(), name, tmp_path)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, output
    assert output == "", output  # unknown keys only warn, so any output is a failure


def test_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    """The check above can fail: a misspelt key and a missing binary are both reported."""
    text = (UNITS / "kassa-uplink.service").read_text().replace("ProtectSystem=", "ProtectSytem=")
    result = _verify(text, "kassa-uplink.service", tmp_path)
    assert "Unknown key" in result.stdout + result.stderr
    text = (UNITS / "kassa-uplink.service").read_text().replace(TERMINAL_BIN, "/nonexistent/kassa")
    result = _verify(text, "kassa-uplink.service", tmp_path)
    assert result.returncode != 0


@pytest.mark.parametrize("name", ["kassa-till.service", "kassa-uplink.service"])
def test_terminal_units_run_the_current_release(name: str) -> None:
    """An update or a rollback moves the `current` link; the units follow it on restart."""
    starts = [ln for ln in (UNITS / name).read_text().splitlines() if ln.startswith("ExecStart=")]
    assert len(starts) == 1 and starts[0].startswith(f"ExecStart={TERMINAL_BIN} "), starts


def _service(name: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    section = ""
    for raw in (UNITS / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        if section == "Service":
            values.setdefault(key, []).append(value)
    return values


@pytest.mark.parametrize("name", NAMES)
def test_hardening_everywhere(name: str) -> None:
    s = _service(name)
    assert s["User"][0] in ("kassa", "kassa-office")
    assert s["ProtectSystem"] == ["strict"]
    assert s["PrivateTmp"] == ["yes"]
    assert s["NoNewPrivileges"] == ["yes"]
    assert s["ProtectHome"] == ["yes"]
    assert s["CapabilityBoundingSet"] == [""]
    assert s["ReadWritePaths"], "a strict file system needs its state directory writable"
    assert s["ExecStart"][0].startswith((TERMINAL_BIN + " ", OFFICE_BIN + " "))
    assert s["Restart"][0] in ("always", "on-failure")


def test_till_is_a_watched_kiosk_with_only_its_devices() -> None:
    s = _service("kassa-till.service")
    assert s["Type"] == ["notify"]
    assert int(s["WatchdogSec"][0]) > 0
    assert set(s["SupplementaryGroups"][0].split()) >= {"input", "lp", "gpio"}
    assert s["DevicePolicy"] == ["closed"]
    allowed = {re.split(r"\s+", d)[0] for d in s["DeviceAllow"]}
    assert allowed == {"char-drm", "char-input", "char-usb", "char-usb_device", "char-gpiochip",
                       "/dev/tty1"}


def test_till_gives_lgpio_a_writable_directory() -> None:
    """lgpio creates a FIFO in LG_WD or the working directory (/ for a unit, read-only under
    ProtectSystem=strict); found by scripts/arm64-proof, where `import lgpio` failed."""
    s = _service("kassa-till.service")
    env = dict(e.split("=", 1) for e in s["Environment"])
    assert env["LG_WD"] in s["ReadWritePaths"][0].split()


@pytest.mark.parametrize("name", ["kassa-uplink.service", "kassa-office-ingest@.service",
                                  "kassa-office-web.service", "kassa-office-customers.service"])
def test_services_without_hardware_get_no_devices(name: str) -> None:
    s = _service(name)
    assert s["PrivateDevices"] == ["yes"]
    assert "DeviceAllow" not in s
    assert "SupplementaryGroups" not in s


def test_units_parse_as_ini() -> None:
    for name in NAMES:
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.read_string((UNITS / name).read_text())
        assert parser.has_section("Install"), name


@pytest.mark.parametrize("name", [n for n in NAMES if n != "kassa-till.service"])
def test_exec_start_is_a_command_line_kassa_accepts(name: str) -> None:
    """Every option the unit passes exists (environment variables stand in as words)."""
    import shlex

    from cli import build_parser

    text = (UNITS / name).read_text().replace("\\\n", " ")  # continuation lines joined
    command = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    command = command.partition("=")[2]
    words = shlex.split(re.sub(r"\$\{(\w+)\}", lambda m: f"X{m.group(1)}", command))
    words = [w.replace("%i", "1").replace("%H", "host") for w in words]
    assert words[0] in (TERMINAL_BIN, OFFICE_BIN)
    args = build_parser().parse_args([w if not w.startswith("XKASSA_") or "PORT" not in w
                                      else "1883" for w in words[1:]])
    assert callable(args.handler)
