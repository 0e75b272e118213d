"""Helpers for the provisioning tests: a fleet in tmp and the CLI run in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli import main
from tests.sealkit import OfficeKeys


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Runs `kassa ARGV...` in this process; returns (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def init_fleet(capsys: pytest.CaptureFixture[str], root: Path, *extra: str) -> Path:
    """A fleet with head office's public key pinned (the key of tests/sealkit.OfficeKeys in
    root/office-key, which a test seals its downstream messages with)."""
    fleet = root / "fleet"
    office = OfficeKeys(root / "office-key")
    code, out, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "init",
                             "--broker-host", "127.0.0.1", "--broker-name", "localhost",
                             "--office-public-key", str(office.public), *extra)
    assert code == 0, err
    return fleet


# One company with a shop per store: the VAT and KvK numbers are the company's, so equal.
COMPANY = {"name": "Bakkerij De Korenaar B.V.", "vat_number": "NL812345678B01",
           "kvk_number": "12345678"}


def stores_file(path: Path, *stores: str) -> Path:
    """A stores file giving each store the test company's legal identity and an address."""
    text = "".join(f'["{store}"]\nname = "{COMPANY["name"]}"\n'
                   f'address = "Oudegracht {n}, 3511 AB Utrecht"\n'
                   f'vat_number = "{COMPANY["vat_number"]}"\n'
                   f'kvk_number = "{COMPANY["kvk_number"]}"\n\n'
                   for n, store in enumerate(stores, start=1))
    path.write_text(text)
    return path


def enroll(capsys: pytest.CaptureFixture[str], fleet: Path, store: str, terminal: str,
           *extra: str) -> Path:
    """Enrolls one terminal; with the test company's identity unless extra gives one."""
    if "--stores" not in extra and "--demo-identity" not in extra:
        extra = (*extra, "--stores", str(stores_file(fleet.parent / f"stores-{terminal}.toml",
                                                      store)))
    code, out, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "enroll",
                             "--store", store, "--terminal", terminal, *extra)
    assert code == 0, err
    return fleet / "bundles" / terminal
