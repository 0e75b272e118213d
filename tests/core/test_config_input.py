"""Config from a careless or hostile hand: each bad value is a ConfigError naming the file and
the key, never a traceback; a journal key that is gone is never replaced by a new one."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cli.assemble import open_terminal
from contract.config import MAX_CASH_CENTS, ConfigError, load_config
from contract.keys import public_key_hex

ROOT = Path(__file__).resolve().parents[2]


def _load(tmp_path: Path, text: str):
    path = tmp_path / "kassa.toml"
    path.write_text(text, encoding="utf-8")
    return path, load_config(path)


def _refused(tmp_path: Path, text: str) -> ConfigError:
    path = tmp_path / "kassa.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.file == str(path) and str(path) in str(info.value)
    assert len(str(info.value)) < 400 + len(str(path))  # a huge value is not echoed back
    return info.value


def test_a_10000_character_store_id(tmp_path: Path) -> None:
    error = _refused(tmp_path, f'[terminal]\nstore = "{"s" * 10_000}"\n')
    assert error.key == "terminal.store" and "10000 characters, at most 4096" in error.reason
    error = _refused(tmp_path, f'[terminal]\nstore = "{"s" * 65}"\n')
    assert error.key == "terminal.store" and "1 to 64 ASCII letters" in error.reason


@pytest.mark.parametrize("word", ["catalogue", "prices", "offers", "config", "fleet", "journal",
                                  "status", "ack", "cmd", "release", "Catalogue"])
@pytest.mark.parametrize("key", ["terminal", "store"])
def test_topic_words_are_not_ids(tmp_path: Path, key: str, word: str) -> None:
    error = _refused(tmp_path, f'[terminal]\n{key} = "{word}"\n')
    assert error.key == f"terminal.{key}" and "is a word of the MQTT topics" in error.reason


@pytest.mark.parametrize("word", ["+", "#", "/", "a/b", "t+", "#t", "kassa/v1", "", " ", "tïll",
                                  "t\u202e1"])
def test_topic_characters_are_not_ids(tmp_path: Path, word: str) -> None:
    error = _refused(tmp_path, f'[terminal]\nterminal = "{word}"\n')
    assert error.key == "terminal.terminal"


@pytest.mark.parametrize(("value", "reason"), [
    ("1e30", "expected an integer"),
    ("1.0", "expected an integer"),
    ("inf", "expected an integer"),
    ("nan", "expected an integer"),
    ("1" + "0" * 30, "out of range"),
    ("-1", f"must be 0..{MAX_CASH_CENTS}"),
    (str(MAX_CASH_CENTS + 1), f"must be 0..{MAX_CASH_CENTS}"),
    ('"100"', "expected an integer"),
])
def test_default_float_is_a_bounded_integer(tmp_path: Path, value: str, reason: str) -> None:
    error = _refused(tmp_path, f"[cash]\ndefault_float_cents = {value}\n")
    assert error.key == "cash.default_float_cents" and reason in error.reason


def test_every_integer_key_is_bounded(tmp_path: Path) -> None:
    error = _refused(tmp_path, f"[mqtt]\nwindow = {10**400}\n")
    assert error.key == "mqtt.window" and "out of range" in error.reason
    error = _refused(tmp_path, f"[cash]\nquick_amounts_cents = [{10**20}]\n")
    assert error.key == "cash.quick_amounts_cents[0]"
    error = _refused(tmp_path, f"[cash]\nquick_amounts_cents = [{', '.join(['5'] * 500)}]\n")
    assert error.key == "cash.quick_amounts_cents" and "500 items" in error.reason


@pytest.mark.parametrize(("text", "key"), [
    ("[cash]\nquick_amounts_cents = " + "[" * 100_000 + "]" * 100_000, "cash.quick_amounts_cents"),
    ("[cash]\nquick_amounts_cents = " + "[" * 900 + "]" * 900, "cash.quick_amounts_cents"),
    ("[terminal]\nname = " + "{a = " * 5000 + "1" + "}" * 5000, "terminal.name"),
    ("x = " + "[" * 50_000, "x"),
    ("a" + ".a" * 100_000 + " = 1", "a.a.a.a"),
    ("[" + "a." * 20_000 + "b]\nx = 1", "a.a.a"),
])
def test_deeply_nested_toml_is_refused_quickly(tmp_path: Path, text: str, key: str) -> None:
    started = time.perf_counter()
    error = _refused(tmp_path, text)
    assert time.perf_counter() - started < 1.0
    assert error.key.startswith(key)
    assert "nested more than" in error.reason or "dotted key of more than" in error.reason


def test_ordinary_nesting_still_reads(tmp_path: Path) -> None:
    _path, config = _load(tmp_path, '[[scanner.variable_measure]]\nprefix = "23"\nkind = "price"\n'
                          '[ui]\nlanguage = "en"  # a comment with [[[[ and ....... in it\n'
                          '[terminal]\nname = "Kassa [1] {a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r}"\n')
    assert config.scanner.variable_measure[0].prefix == "23" and config.ui.language == "en"
    assert config.terminal.name.startswith("Kassa [1]")


@pytest.mark.parametrize("value", ['"Bakkerij\\u001b[2J"', '"Bakkerij\\u202eB.V."',
                                   '"Bakkerij\\u0000"', '"Bakkerij\\u0085"'])
def test_control_characters_in_strings_are_refused(tmp_path: Path, value: str) -> None:
    error = _refused(tmp_path, f"[terminal]\nshop_name = {value}\n")
    assert error.key == "terminal.shop_name" and "control character" in error.reason


def test_huge_string_and_huge_file(tmp_path: Path) -> None:
    error = _refused(tmp_path, f'[terminal]\naddress = "{"x" * 100_000}"\n')
    assert error.key == "terminal.address" and "at most 4096" in error.reason
    error = _refused(tmp_path, "# padding\n" * 500_000)
    assert error.key == "(file)"


def test_config_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "kassa.toml").mkdir()
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "kassa.toml")
    assert info.value.key == "(file)" and "cannot be read: it is a directory" in info.value.reason


def test_config_that_never_ends() -> None:
    with pytest.raises(ConfigError) as info:
        load_config("/dev/zero")
    assert info.value.key == "(file)" and "not a regular file" in info.value.reason


# --- the journal key ---------------------------------------------------------------------


def _config(tmp_path: Path, key: Path, enrolled: bool = False) -> Path:
    mqtt = ""
    if enrolled:  # what an enrollment bundle writes (provisioning/bundle.py)
        mqtt = (f'[mqtt]\nenabled = true\ncert_file = "{tmp_path / "client.crt"}"\n'
                f'key_file = "{tmp_path / "client.key"}"\n')
    path = tmp_path / "kassa.toml"
    path.write_text(f'[terminal]\nstore = "s1"\nterminal = "t1"\nsigning_key = "{key}"\n'
                    f'[database]\npath = "{tmp_path / "kassa.sqlite3"}"\n{mqtt}')
    return path


def _kassa(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", "--config", str(config), *args],
                          capture_output=True, text=True, cwd=ROOT)


def _key_error(config_path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        open_terminal(load_config(config_path))
    assert info.value.file == str(config_path) and info.value.key == "terminal.signing_key"
    return info.value


def test_dev_till_makes_its_key_on_first_start_only(tmp_path: Path) -> None:
    key = tmp_path / "keys" / "journal.pem"
    config = _config(tmp_path, key)
    opened = open_terminal(load_config(config))
    assert key.exists() and key.stat().st_mode & 0o777 == 0o600
    with opened.journal.transaction():
        opened.journal.append("no_sale", {"reason": "test"})
    opened.db.close()
    key.unlink()
    error = _key_error(config)
    assert "already holds entries signed with it" in error.reason
    assert "never made in its place" in error.reason
    assert not key.exists()  # not silently replaced
    run = _kassa(config, "journal", "verify")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert f"kassa: configuration error: {config}: terminal.signing_key: {key} does not exist" \
        in run.stderr
    assert not key.exists()


def test_enrolled_till_never_makes_a_key(tmp_path: Path) -> None:
    key = tmp_path / "keys" / "journal.pem"
    config = _config(tmp_path, key, enrolled=True)
    error = _key_error(config)
    assert "this terminal is enrolled with it" in error.reason and not key.exists()


def test_the_existing_key_is_used(tmp_path: Path) -> None:
    key = tmp_path / "journal.pem"
    private = Ed25519PrivateKey.generate()
    key.write_bytes(private.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    opened = open_terminal(load_config(_config(tmp_path, key, enrolled=True)))
    assert public_key_hex(opened.journal.public_key) == public_key_hex(private)


def _rsa_like(path: Path) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(other.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()))


def _encrypted(path: Path) -> None:
    path.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret")))


@pytest.mark.parametrize(("make", "reason"), [
    (lambda p: p.write_bytes(b"garbage\x00\xff" * 10), "is not a PEM private key"),
    (lambda p: p.write_bytes(b""), "is not a PEM private key"),
    (lambda p: p.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
     "is not a PEM private key"),
    (lambda p: p.write_bytes(b"x" * 1_000_000), "larger than"),
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.symlink_to(p.parent / "nowhere.pem"), "does not exist"),
    (_rsa_like, "not an Ed25519 private key"),
    (_encrypted, "is encrypted"),
])
def test_an_unusable_key_is_a_config_error(tmp_path: Path, make, reason: str) -> None:
    key = tmp_path / "journal.pem"
    make(key)
    config = _config(tmp_path, key)
    before = {p.name for p in tmp_path.iterdir()}
    error = _key_error(config)
    assert reason in error.reason and str(key) in error.reason
    assert {p.name for p in tmp_path.iterdir()} - before <= {  # no new key anywhere
        "kassa.sqlite3", "kassa.sqlite3-wal", "kassa.sqlite3-shm"}
    run = _kassa(config, "journal", "verify")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "terminal.signing_key" in run.stderr


@pytest.mark.parametrize(("text", "key"), [
    ("[cash]\nquick_amounts_cents = " + "[" * 100_000 + "]" * 100_000, "cash.quick_amounts_cents"),
    (f'[terminal]\nstore = "{"s" * 10_000}"\n', "terminal.store"),
    ('[terminal]\nterminal = "catalogue"\n', "terminal.terminal"),
    ("[cash]\ndefault_float_cents = 1e30\n", "cash.default_float_cents"),
])
def test_the_command_line_names_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    config = tmp_path / "kassa.toml"
    config.write_text(text)
    run = _kassa(config, "journal", "verify")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.startswith(f"kassa: configuration error: {config}: {key}: ")
    assert len(run.stderr) < 500
