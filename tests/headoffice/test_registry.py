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
