"""init, enroll (single and CSV), revoke and list through the CLI, with head office's registry."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from provkit import enroll, init_fleet, run_cli, stores_file

from contract.config import parse_config
from contract.keys import public_key_hex
from firmware.signing import load_or_create_key

REPO = Path(__file__).resolve().parents[2]
BUNDLE_FILES = {"kassa.toml", "journal_ed25519.pem", "ca.crt", "client.crt", "client.key",
                "office_ed25519.pub", "user-data", "meta-data", "bundle.json"}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_init_makes_a_p256_ca_and_the_broker_and_ingest_identities(capsys, tmp_path) -> None:
    fleet = init_fleet(capsys, tmp_path)
    ca = _cert(fleet / "ca" / "ca.crt")
    assert isinstance(ca.public_key(), ec.EllipticCurvePublicKey)
    assert ca.public_key().curve.name == "secp256r1"
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    server = _cert(fleet / "broker" / "server.crt")
    server.verify_directly_issued_by(ca)
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in sans.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    eku = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    ingest = _cert(fleet / "ingest" / "ingest.crt")
    ingest.verify_directly_issued_by(_cert(fleet / "ingest" / "ingest-ca.crt"))  # not the fleet CA
    with pytest.raises(ValueError):
        ingest.verify_directly_issued_by(ca)
    assert ingest.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "kassa-ingest"
    for key in ("ca/ca.key", "broker/server.key", "ingest/ingest.key", "ingest/ingest-ca.key",
                "fleet.json"):
        assert _mode(fleet / key) == 0o600, key
    for d in ("", "ca", "broker", "ingest", "bundles"):
        assert _mode(fleet / d) == 0o700, d
    crl = x509.load_pem_x509_crl((fleet / "ca" / "crl.pem").read_bytes())
    assert crl.is_signature_valid(ca.public_key()) and len(crl) == 0


def test_init_refuses_to_replace_a_fleet(capsys, tmp_path) -> None:
    fleet = init_fleet(capsys, tmp_path)
    before = (fleet / "ca" / "ca.key").read_bytes()
    code, _, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "init",
                           "--broker-host", "x")
    assert code == 1 and "already holds a fleet" in err
    assert (fleet / "ca" / "ca.key").read_bytes() == before


def test_enroll_writes_a_private_complete_bundle(capsys, tmp_path) -> None:
    fleet = init_fleet(capsys, tmp_path)
    bundle = enroll(capsys, fleet, "utrecht-1", "till-01", "--no-register")
    assert {p.name for p in bundle.iterdir()} == BUNDLE_FILES
    assert _mode(bundle) == 0o700
    assert all(_mode(p) == 0o600 for p in bundle.iterdir())

    config = parse_config((bundle / "kassa.toml").read_text(), "bundle")
    assert (config.terminal.store, config.terminal.terminal) == ("utrecht-1", "till-01")
    assert config.terminal.signing_key == "/etc/kassa/keys/journal_ed25519.pem"
    assert config.mqtt.enabled and config.mqtt.host == "127.0.0.1" and config.mqtt.port == 8883
    assert config.mqtt.ca_file == "/etc/kassa/tls/ca.crt"
    assert config.mqtt.cert_file == "/etc/kassa/tls/client.crt"
    assert config.mqtt.key_file == "/etc/kassa/tls/client.key"
    # head office's key, pinned: the one the fleet holds (from `kassa office public-key`)
    assert config.mqtt.office_public_key == "/etc/kassa/office_ed25519.pub"
    pinned = (tmp_path / "office-key" / "office_ed25519.pub").read_bytes()
    assert (bundle / "office_ed25519.pub").read_bytes() == pinned
    assert (fleet / "office_ed25519.pub").read_bytes() == pinned

    key = load_or_create_key(bundle / "journal_ed25519.pem")  # the firmware's own loader
    index = json.loads((fleet / "fleet.json").read_text())
    (entry,) = index["terminals"]
    assert entry["public_key"] == public_key_hex(key)
    assert entry["status"] == "active"

    cert = _cert(bundle / "client.crt")
    cert.verify_directly_issued_by(_cert(fleet / "ca" / "ca.crt"))
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "till-01"
    assert cert.serial_number == entry["certs"][0]["serial"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]

    manifest = json.loads((bundle / "bundle.json").read_text())
    assert (manifest["store"], manifest["terminal"]) == ("utrecht-1", "till-01")


def test_cloud_init_user_data_installs_kassa_and_applies_the_bundle(capsys, tmp_path) -> None:
    fleet = init_fleet(capsys, tmp_path, "--source", "https://git.example.nl/kassa.git",
                       "--ref", "v1.2")
    bundle = enroll(capsys, fleet, "s1", "t1", "--no-register")
    text = (bundle / "user-data").read_text()
    assert text.startswith("#cloud-config\n")
    doc = yaml.safe_load(text)
    assert doc["hostname"] == "t1"
    kassa = next(u for u in doc["users"] if isinstance(u, dict))
    assert kassa["name"] == "kassa" and kassa["system"] is True
    assert {"input", "lp", "gpio"} <= set(kassa["groups"])
    assert "python3-venv" in doc["packages"]
    staged = {Path(f["path"]).name: base64.b64decode(f["content"]) for f in doc["write_files"]}
    for name in ("kassa.toml", "journal_ed25519.pem", "ca.crt", "client.crt", "client.key",
                 "bundle.json"):
        assert staged[name] == (bundle / name).read_bytes(), name
    assert all(f["permissions"] == "0600" for f in doc["write_files"])
    (command,) = doc["runcmd"]
    script = command[2]
    assert "git clone --depth 1 --branch v1.2 https://git.example.nl/kassa.git" in script
    assert ("kassa provision apply /root/kassa-bundle --source /opt/kassa/src --enable"
            in script)
    assert script.index("pip install") < script.index("provision apply") < script.index("rm -rf")
    meta = yaml.safe_load((bundle / "meta-data").read_text())
    assert meta == {"instance-id": "kassa-t1", "local-hostname": "t1"}

    # what cloud-init stages is a bundle `apply` accepts, with the checked-out units and rules
    staging = tmp_path / "staging"
    staging.mkdir()
    for name, data in staged.items():
        (staging / name).write_bytes(data)
    code, out, err = run_cli(capsys, "provision", "apply", str(staging), "--root",
                             str(tmp_path / "pi"), "--source", str(REPO))
    assert code == 0, err
    assert (tmp_path / "pi/etc/kassa/keys/journal_ed25519.pem").read_bytes() == staged[
        "journal_ed25519.pem"]
    assert (tmp_path / "pi/etc/systemd/system/kassa-till.service").is_file()


def test_apply_needs_a_source_tree(capsys, tmp_path) -> None:
    fleet = init_fleet(capsys, tmp_path)
    bundle = enroll(capsys, fleet, "s1", "t1", "--no-register")
    code, _, err = run_cli(capsys, "provision", "apply", str(bundle), "--root",
                           str(tmp_path / "pi"), "--source", str(tmp_path))
    assert code == 1 and "not a Kassa source tree" in err
    assert not (tmp_path / "pi").exists()


def test_hardware_profile_goes_into_the_config(capsys, tmp_path) -> None:
    fleet = init_fleet(capsys, tmp_path)
    hw = tmp_path / "hw.toml"
    hw.write_text('[drawer]\nkind = "gpio"\npin = 17\n\n[printer]\nkind = "network"\nhost = "10.0.0.5"\n')
    bundle = enroll(capsys, fleet, "s1", "t1", "--no-register", "--hardware", str(hw))
    config = parse_config((bundle / "kassa.toml").read_text())
    assert config.drawer.kind == "gpio" and config.printer.kind == "network"


def test_bad_hardware_profile_enrolls_nothing(capsys, tmp_path) -> None:
    fleet = init_fleet(capsys, tmp_path)
    hw = tmp_path / "hw.toml"
    hw.write_text('[drawer]\nkind = "relay"\n')
    office = tmp_path / "office.sqlite3"
    code, _, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "enroll",
                           "--store", "s1", "--terminal", "t1", "--hardware", str(hw),
                           "--demo-identity",
                           "--office-db", str(office))
    assert code == 2 and "drawer.kind" in err
    assert not (fleet / "bundles" / "t1").exists()
    assert json.loads((fleet / "fleet.json").read_text())["terminals"] == []
    from headoffice.db import open_office_db
    from headoffice.registry import list_terminals

    open_office_db(str(office))
    assert list_terminals() == []


@pytest.mark.parametrize(("store", "terminal", "reason"), [
    ("s1", "till/1", "letters, digits"),
    ("s 1", "t1", "letters, digits"),
    ("s1", "", "letters, digits"),
    ("s1", "catalogue", "reserved"),
    ("fleet", "t1", "reserved"),
    ("s1", "kassa-ingest", "reserved"),
    ("s1", "config", "reserved"),  # its root would hold the store's config topic
    ("journal", "t1", "reserved"),
])
def test_enroll_refuses_ids_that_would_break_topics(capsys, tmp_path, store, terminal,
                                                    reason) -> None:
    fleet = init_fleet(capsys, tmp_path)
    code, _, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "enroll",
                           "--store", store, "--terminal", terminal, "--no-register")
    assert code == 1 and reason in err


def test_enroll_twice_is_refused_and_keeps_the_first_keys(capsys, tmp_path) -> None:
    fleet = init_fleet(capsys, tmp_path)
    bundle = enroll(capsys, fleet, "s1", "t1", "--no-register")
    key = (bundle / "journal_ed25519.pem").read_bytes()
    code, _, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "enroll",
                           "--store", "s2", "--terminal", "t1", "--no-register")
    assert code == 1 and "already enrolled" in err
    assert (bundle / "journal_ed25519.pem").read_bytes() == key


def test_enroll_without_a_fleet_says_run_init(capsys, tmp_path) -> None:
    code, _, err = run_cli(capsys, "provision", "--fleet-dir", str(tmp_path / "none"), "enroll",
                           "--store", "s1", "--terminal", "t1", "--no-register")
    assert code == 1 and "kassa provision init" in err


def test_enroll_registers_the_public_key_at_head_office(capsys, tmp_path) -> None:
    from headoffice.db import open_office_db
    from headoffice.registry import list_terminals

    office = tmp_path / "office.sqlite3"
    fleet = init_fleet(capsys, tmp_path, "--office-db", str(office))
    bundle = enroll(capsys, fleet, "s1", "t1")
    open_office_db(str(office))
    (row,) = list_terminals()
    key = load_or_create_key(bundle / "journal_ed25519.pem")
    assert (row.terminal_id, row.store, row.status) == ("t1", "s1", "active")
    assert row.public_key == public_key_hex(key)


def test_bulk_enrollment_from_csv(capsys, tmp_path) -> None:
    from headoffice.db import open_office_db
    from headoffice.registry import list_terminals

    office = tmp_path / "office.sqlite3"
    fleet = init_fleet(capsys, tmp_path, "--office-db", str(office))
    sheet = tmp_path / "shops.csv"
    sheet.write_text("store,terminal\n# Utrecht\nutrecht,utr-1\nutrecht, utr-2\n\nzwolle,zwl-1\n")
    code, out, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "enroll",
                             "--csv", str(sheet), "--stores",
                             str(stores_file(tmp_path / "stores.toml", "utrecht", "zwolle")))
    assert code == 0, err
    assert "3 terminals enrolled" in out
    assert {p.name for p in (fleet / "bundles").iterdir()} == {"utr-1", "utr-2", "zwl-1"}
    open_office_db(str(office))
    assert [(t.store, t.terminal_id) for t in list_terminals()] == [
        ("utrecht", "utr-1"), ("utrecht", "utr-2"), ("zwolle", "zwl-1")]
    keys = {t.public_key for t in list_terminals()}
    assert len(keys) == 3


@pytest.mark.parametrize(("text", "reason"), [
    ("s1,t1\ns1,t1\n", ":2: terminal 't1' appears twice"),
    ("s1,t1,extra\n", ":1: expected 2 columns"),
    ("s1,t/1\n", ":1: terminal id"),
    ("# nothing\n", "no store,terminal rows"),
])
def test_bad_csv_enrolls_nothing(capsys, tmp_path, text, reason) -> None:
    fleet = init_fleet(capsys, tmp_path)
    sheet = tmp_path / "shops.csv"
    sheet.write_text(text)
    code, _, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "enroll",
                           "--csv", str(sheet), "--no-register")
    assert code == 1 and reason in err
    assert not any((fleet / "bundles").iterdir())


def test_csv_with_an_enrolled_terminal_enrolls_nothing(capsys, tmp_path) -> None:
    fleet = init_fleet(capsys, tmp_path)
    enroll(capsys, fleet, "s1", "t2", "--no-register")
    sheet = tmp_path / "shops.csv"
    sheet.write_text("s1,t1\ns1,t2\n")
    code, _, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "enroll",
                           "--csv", str(sheet), "--no-register")
    assert code == 1 and "already enrolled: t2" in err
    assert not (fleet / "bundles" / "t1").exists()


def test_revoke_lists_the_serial_in_the_crl_and_marks_head_office(capsys, tmp_path) -> None:
    from headoffice.db import open_office_db
    from headoffice.registry import list_terminals

    office = tmp_path / "office.sqlite3"
    fleet = init_fleet(capsys, tmp_path, "--office-db", str(office))
    enroll(capsys, fleet, "s1", "t1")
    bundle2 = enroll(capsys, fleet, "s1", "t2")
    code, out, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "revoke", "t2")
    assert code == 0, err
    assert "head office registry: revoked" in out
    ca = _cert(fleet / "ca" / "ca.crt")
    crl = x509.load_pem_x509_crl((fleet / "ca" / "crl.pem").read_bytes())
    assert crl.is_signature_valid(ca.public_key())
    assert [r.serial_number for r in crl] == [_cert(bundle2 / "client.crt").serial_number]
    open_office_db(str(office))
    assert {t.terminal_id: t.status for t in list_terminals()} == {"t1": "active",
                                                                    "t2": "revoked"}
    code, out, _ = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["STORE", "TERMINAL", "STATUS", "LAST", "SEEN", "ENROLLED",
                                "VERSION", "UPDATE"]
    assert lines[1].split()[:4] == ["s1", "t1", "active", "never"]
    assert lines[1].split()[-1] == "?"  # no status and no update report yet: version unknown
    assert lines[2].split()[:4] == ["s1", "t2", "revoked", "never"]


def test_revoke_unknown_terminal(capsys, tmp_path) -> None:
    fleet = init_fleet(capsys, tmp_path)
    code, _, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "revoke", "ghost",
                           "--no-register")
    assert code == 1 and "'ghost' is not enrolled" in err


def test_list_shows_last_seen_from_head_office(capsys, tmp_path) -> None:
    from headoffice.db import open_office_db
    from headoffice.models import TerminalState

    office = tmp_path / "office.sqlite3"
    fleet = init_fleet(capsys, tmp_path, "--office-db", str(office))
    enroll(capsys, fleet, "s1", "t1")
    open_office_db(str(office))
    TerminalState.insert(terminal="t1", store="s1", online=True, last_seen="2026-11-27T10:00:00.000+00:00"
                         ).execute()
    code, out, _ = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "list")
    assert code == 0
    assert out.splitlines()[1].split()[:4] == ["s1", "t1", "active",
                                               "2026-11-27T10:00:00.000+00:00"]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_sync_registry_fills_a_new_head_office_database(capsys, tmp_path, engine,
                                                        request) -> None:
    from headoffice.db import open_office_db
    from headoffice.registry import list_terminals

    first = tmp_path / "office.sqlite3"
    fleet = init_fleet(capsys, tmp_path, "--office-db", str(first))
    for terminal in ("t1", "t2", "t3"):
        enroll(capsys, fleet, "s1", terminal)
    assert run_cli(capsys, "provision", "--fleet-dir", str(fleet), "revoke", "t2")[0] == 0
    new = (request.getfixturevalue("postgres_database")() if engine == "postgresql"
           else str(tmp_path / "new.sqlite3"))
    code, out, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "sync-registry",
                             "--office-db", new)
    assert code == 0, err
    assert "holds the fleet's 3 terminals" in out
    index = {t["terminal"]: t for t in json.loads((fleet / "fleet.json").read_text())["terminals"]}
    open_office_db(new)
    rows = {t.terminal_id: (t.store, t.status, t.public_key) for t in list_terminals()}
    assert rows == {name: ("s1", t["status"], t["public_key"]) for name, t in index.items()}
    assert rows["t2"][1] == "revoked"
    # a second run changes nothing and says so
    code, out, _ = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "sync-registry",
                           "--office-db", new)
    assert code == 0 and out.splitlines() == ["head office registry holds the fleet's 3 terminals"]


def test_list_without_head_office_still_lists_the_fleet(capsys, tmp_path) -> None:
    fleet = init_fleet(capsys, tmp_path)
    enroll(capsys, fleet, "s1", "t1", "--no-register")
    code, out, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "list",
                             "--office-db", "mysql://nowhere/db")
    assert code == 0
    assert "warning: no last-seen times" in err and "mysql" in err
    assert out.splitlines()[1].split()[:4] == ["s1", "t1", "active", "never"]
