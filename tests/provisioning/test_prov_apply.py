"""`kassa provision apply` into a tmp root, and no private key ever reaching output or logs."""

from __future__ import annotations

import logging
import re
import stat
from pathlib import Path

import pytest
from provkit import enroll, init_fleet, run_cli, stores_file

from contract.config import load_config

REPO = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def bundle(capsys, tmp_path) -> Path:
    fleet = init_fleet(capsys, tmp_path)
    return enroll(capsys, fleet, "s1", "t1", "--no-register")


def _apply(capsys, bundle: Path, root: Path, *extra: str) -> tuple[int, str, str]:
    return run_cli(capsys, "provision", "apply", str(bundle), "--root", str(root), *extra)


def test_apply_installs_config_keys_units_and_udev_rules(capsys, tmp_path, bundle) -> None:
    root = tmp_path / "root"
    code, out, err = _apply(capsys, bundle, root, "--enable")
    assert code == 0, err
    etc = root / "etc" / "kassa"
    expected = {
        etc / "kassa.toml": bundle / "kassa.toml",
        etc / "keys" / "journal_ed25519.pem": bundle / "journal_ed25519.pem",
        etc / "tls" / "ca.crt": bundle / "ca.crt",
        etc / "tls" / "client.crt": bundle / "client.crt",
        etc / "tls" / "client.key": bundle / "client.key",
    }
    for dest, src in expected.items():
        assert dest.read_bytes() == src.read_bytes(), dest
        assert _mode(dest) == 0o600, dest
    assert _mode(etc / "keys") == 0o700
    assert _mode(etc) == _mode(etc / "tls") == 0o750
    assert (root / "var" / "lib" / "kassa").is_dir()
    units = root / "etc" / "systemd" / "system"
    for name in ("kassa-till.service", "kassa-uplink.service"):
        assert (units / name).read_bytes() == (REPO / "systemd" / name).read_bytes()
        link = units / "multi-user.target.wants" / name
        assert link.is_symlink(), f"{name} not enabled"
    rules = sorted((REPO / "provisioning" / "udev").glob("*.rules"))
    for rule in rules:
        assert (root / "etc" / "udev" / "rules.d" / rule.name).read_bytes() == rule.read_bytes()

    # the installed config, read the way the till reads it, points at the installed files
    config = load_config(etc / "kassa.toml")
    for path in (config.mqtt.ca_file, config.mqtt.cert_file, config.mqtt.key_file,
                 str(config.signing_key_path)):
        assert (root / path.lstrip("/")).is_file(), path


def test_apply_twice_is_harmless(capsys, tmp_path, bundle) -> None:
    root = tmp_path / "root"
    assert _apply(capsys, bundle, root)[0] == 0
    assert _apply(capsys, bundle, root)[0] == 0


def test_a_damaged_bundle_installs_nothing(capsys, tmp_path, bundle) -> None:
    toml = bundle / "kassa.toml"
    toml.write_text(toml.read_text().replace('host = "127.0.0.1"', 'host = "evil.example"'))
    root = tmp_path / "root"
    code, _, err = _apply(capsys, bundle, root)
    assert code == 1 and "kassa.toml does not match bundle.json" in err
    assert not root.exists()


def test_not_a_bundle(capsys, tmp_path) -> None:
    code, _, err = _apply(capsys, tmp_path, tmp_path / "root")
    assert code == 1 and "not an enrollment bundle" in err


def test_another_journal_key_is_not_replaced_silently(capsys, tmp_path, bundle) -> None:
    root = tmp_path / "root"
    key = root / "etc" / "kassa" / "keys" / "journal_ed25519.pem"
    key.parent.mkdir(parents=True)
    key.write_bytes(b"another terminal's key")
    code, _, err = _apply(capsys, bundle, root)
    assert code == 1 and "holds another journal key" in err
    assert key.read_bytes() == b"another terminal's key"
    code, _, err = _apply(capsys, bundle, root, "--force")
    assert code == 0, err
    assert key.read_bytes() == (bundle / "journal_ed25519.pem").read_bytes()


def _secret_lines(*paths: Path) -> set[str]:
    """The base64 lines of private keys: none of them may be printed or logged."""
    lines: set[str] = set()
    for path in paths:
        text = path.read_text()
        assert "PRIVATE KEY" in text
        lines |= {ln for ln in text.splitlines() if ln and not ln.startswith("-----")}
    return lines


def test_private_keys_never_reach_output_or_logs(capsys, caplog, tmp_path) -> None:
    caplog.set_level(logging.DEBUG)
    fleet = init_fleet(capsys, tmp_path)
    seen: list[str] = []
    for argv in (
        ["enroll", "--store", "s1", "--terminal", "t1", "--no-register", "--stores",
         str(stores_file(tmp_path / "stores.toml", "s1"))],
        ["broker-config", "--out", str(tmp_path / "broker"), "--data-dir", str(tmp_path)],
        ["list"],
        ["revoke", "t1", "--no-register"],
        ["crl"],
    ):
        code, out, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), *argv)
        assert code == 0, err
        seen += [out, err]
    code, out, err = run_cli(capsys, "provision", "apply", str(fleet / "bundles" / "t1"),
                             "--root", str(tmp_path / "root"))
    assert code == 0, err
    seen += [out, err, caplog.text]
    bundle = fleet / "bundles" / "t1"
    secrets = _secret_lines(fleet / "ca" / "ca.key", fleet / "broker" / "server.key",
                            fleet / "ingest" / "ingest.key", bundle / "client.key",
                            bundle / "journal_ed25519.pem")
    text = "\n".join(seen)
    assert "PRIVATE KEY" not in text
    leaked = [s for s in secrets if s in text]
    assert leaked == []
    # what is printed is useful: ids, paths and the public journal key
    assert re.search(r"enrolled t1 \(store s1\): cert serial [0-9a-f]+, journal key [0-9a-f]{64}",
                     text)
