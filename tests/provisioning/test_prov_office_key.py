"""Head office's public key in the enrollment: pinned in the fleet, carried by every bundle,
installed 0644 beside kassa.toml and named by `[mqtt] office_public_key`."""

from __future__ import annotations

import stat

from provkit import enroll, init_fleet, run_cli, stores_file

from contract.config import load_config
from contract.keys import public_key_pem
from firmware.office_key import pinned_office_key
from headoffice.signing import office_key


def test_the_bundle_pins_head_offices_key_and_apply_installs_it_readable(capsys, tmp_path):
    fleet = init_fleet(capsys, tmp_path)
    bundle = enroll(capsys, fleet, "s1", "t1", "--no-register")
    root = tmp_path / "root"
    code, _, err = run_cli(capsys, "provision", "apply", str(bundle), "--root", str(root))
    assert code == 0, err
    installed = root / "etc" / "kassa" / "office_ed25519.pub"
    assert stat.S_IMODE(installed.stat().st_mode) == 0o644  # public: the uplink's user reads it
    assert installed.read_bytes() == (tmp_path / "office-key" / "office_ed25519.pub").read_bytes()
    config = load_config(root / "etc" / "kassa" / "kassa.toml")
    assert config.mqtt.office_public_key == "/etc/kassa/office_ed25519.pub"
    # the firmware's loader reads the installed file as head office's key
    mqtt = config.mqtt.__class__(office_public_key=str(installed))
    key = office_key(tmp_path / "office-key" / "office_ed25519.pem")
    assert pinned_office_key(mqtt, "test").public_bytes_raw() == key.public_key().public_bytes_raw()


def test_enroll_needs_a_pinned_key_which_office_key_pins(capsys, tmp_path, monkeypatch):
    fleet = tmp_path / "fleet"
    code, _, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "init",
                           "--broker-host", "127.0.0.1")
    assert code == 0, err
    stores = stores_file(tmp_path / "stores.toml", "s1")
    code, _, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "enroll", "--store",
                           "s1", "--terminal", "t1", "--no-register", "--stores", str(stores))
    assert code == 1
    assert "no head-office public key is pinned" in err and "office-key" in err
    assert not (fleet / "bundles" / "t1").exists()

    # head office exports its key; the fleet admin pins it
    monkeypatch.setenv("KASSA_OFFICE_KEY", str(tmp_path / "office.pem"))
    code, out, err = run_cli(capsys, "office", "public-key", "--out", str(tmp_path / "office.pub"))
    assert code == 0, err
    assert "fingerprint" in err
    pem = public_key_pem(office_key(tmp_path / "office.pem"))
    assert (tmp_path / "office.pub").read_bytes() == pem
    (tmp_path / "garbage.pub").write_text("not a key")
    code, _, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "office-key",
                           str(tmp_path / "garbage.pub"))
    assert code == 1 and "not a PEM public key" in err
    code, _, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "office-key",
                           str(tmp_path / "missing.pub"))
    assert code == 1 and "missing.pub" in err
    code, out, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "office-key",
                             str(tmp_path / "office.pub"))
    assert code == 0, err
    bundle = enroll(capsys, fleet, "s1", "t1", "--no-register")
    assert (bundle / "office_ed25519.pub").read_bytes() == pem
