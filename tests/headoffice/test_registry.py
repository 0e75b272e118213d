"""The terminal registry, on SQLite and PostgreSQL, and its `kassa office terminal` CLI."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cli import main
from contract.keys import public_key_hex
from headoffice import registry
from headoffice.registry import RegistryError


def _key() -> str:
    return public_key_hex(Ed25519PrivateKey.generate())


def test_add_is_idempotent_and_refuses_a_second_key(office_db_url):
    key = _key()
    info = registry.add_terminal("till-1", "amsterdam", key)
    assert (info.terminal_id, info.store, info.status, info.public_key) == (
        "till-1", "amsterdam", "active", key)
    assert registry.add_terminal("till-1", "amsterdam", key.upper()).enrolled == info.enrolled
    with pytest.raises(RegistryError, match="revoke it first"):
        registry.add_terminal("till-1", "amsterdam", _key())
    assert [t.terminal_id for t in registry.list_terminals()] == ["till-1"]


def test_revoke_then_enroll_again_with_a_new_key(office_db_url):
    registry.add_terminal("till-1", "amsterdam", _key())
    revoked = registry.revoke_terminal("till-1")
    assert revoked.status == "revoked" and revoked.revoked
    new_key = _key()
    again = registry.add_terminal("till-1", "amsterdam", new_key)
    assert again.status == "active" and again.public_key == new_key and again.revoked is None
    with pytest.raises(RegistryError, match="not enrolled"):
        registry.revoke_terminal("nobody")


@pytest.mark.parametrize(("terminal", "store", "key", "reason"), [
    ("till 1", "s", None, "terminal id"),
    ("t", "a/b", None, "store"),
    ("t", "s", "abcd", "32 bytes"),
    ("t", "s", "zz" * 32, "32 bytes"),
])
def test_bad_enrollments_are_refused(office_db_url, terminal, store, key, reason):
    with pytest.raises(RegistryError, match=reason):
        registry.add_terminal(terminal, store, key or _key())
    assert registry.list_terminals() == []


def test_cli_add_list_revoke(office_db_url, capsys):
    key = _key()
    assert main(["office", "--db", office_db_url, "terminal", "add", "till-9", "--store",
                 "utrecht", "--key", key]) == 0
    assert main(["office", "--db", office_db_url, "terminal", "add", "till-9", "--store",
                 "utrecht", "--key", _key()]) == 1
    assert main(["office", "--db", office_db_url, "terminal", "revoke", "till-9"]) == 0
    assert main(["office", "--db", office_db_url, "terminal", "list"]) == 0
    out = capsys.readouterr().out
    assert "enrolled till-9 for store utrecht" in out and "revoke it first" in out
    assert "till-9" in out.splitlines()[-2] and "revoked" in out.splitlines()[-2]
    assert out.splitlines()[-1] == "1 terminal(s)"


def test_cli_list_columns_line_up(office_db_url, capsys):
    """Ids and store names of any length: every column starts at the header's offset."""
    registry.add_terminal("t1", "s1", _key())
    registry.add_terminal("utrecht-oudegracht-kassa-12", "utrecht-oudegracht", _key())
    registry.add_terminal("t2", "amsterdam-centrum-noord", _key())
    registry.revoke_terminal("t2")
    capsys.readouterr()
    assert main(["office", "--db", office_db_url, "terminal", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header, body = lines[0], lines[1:-1]
    assert lines[-1] == "3 terminal(s)" and len(body) == 3
    starts = {name: header.index(name) for name in ("store", "status", "link", "last seen")}
    for line in body:
        terminal, store, status, link = line.split()[:4]
        assert line.index(store, len(terminal)) == starts["store"], line
        assert line[starts["status"]:].startswith(status), line
        assert line[starts["link"]:].startswith(link), line
        assert line[starts["last seen"]:].startswith("-"), line  # never seen
    acked_end = header.index("acked") + len("acked")
    backlog_end = header.index("backlog") + len("backlog")
    for line in body:  # numbers right-aligned under their header
        assert line[acked_end - 1] == "0" and line[acked_end] == " ", line
        assert line[backlog_end - 1] == " ", line  # no backlog reported yet: blank
    assert {line.split()[2] for line in body} == {"active", "revoked"}


def test_cli_list_shows_key_fingerprints_and_prints_the_keys(office_db_url, capsys, tmp_path):
    import hashlib

    key = _key()
    registry.add_terminal("t1", "s1", key)
    digest = hashlib.sha256(bytes.fromhex(key)).hexdigest()
    grouped = " ".join(digest[i:i + 4] for i in range(0, 64, 4))
    assert registry.list_terminals()[0].fingerprint == grouped
    capsys.readouterr()
    assert main(["office", "--db", office_db_url, "terminal", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "key fingerprint" in lines[0]
    assert lines[1].endswith(grouped)
    assert lines[1].index(grouped) == lines[0].index("key fingerprint")
    assert main(["office", "--db", office_db_url, "terminal", "list", "--keys"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[1:] == [f"t1 {key}"]
    from headoffice.exports.journal import parse_keys
    from headoffice.signing import raw_public

    (tmp_path / "keys.txt").write_text(text)  # the file verify-export --public-key reads
    keys = parse_keys([str(tmp_path / "keys.txt")])
    assert list(keys) == ["t1"] and raw_public(keys["t1"]).hex() == key
