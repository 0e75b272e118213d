"""Users: slow salted PIN hashes, unique PINs, lockout after repeated wrong PINs."""

import pytest

from firmware.db import open_database
from firmware.models import User
from firmware.users import AuthError, Users, hash_pin, pin_matches


@pytest.fixture
def users(tmp_path):
    db = open_database(tmp_path / "u.sqlite3")
    now = [1000.0]
    users = Users(max_attempts=3, lockout_seconds=60, clock=lambda: now[0])
    users.now = now
    yield users
    db.close()


def test_pin_hash_is_salted_scrypt() -> None:
    a, b = hash_pin("1234"), hash_pin("1234")
    assert a != b and a.startswith("scrypt$16384$8$1$")
    assert pin_matches("1234", a) and not pin_matches("1235", a)
    assert "1234" not in a


def test_add_and_authenticate(users: Users) -> None:
    users.add("Sanne", "cashier", "1111")
    users.add("Bram", "manager", "9999")
    assert users.authenticate("1111").name == "Sanne"
    assert users.authenticate("9999", role="manager").is_manager
    with pytest.raises(AuthError, match="not a manager"):
        users.authenticate("1111", role="manager")
    with pytest.raises(ValueError, match="already in use"):
        users.add("Kim", "cashier", "1111")
    with pytest.raises(ValueError, match="4 to 8 digits"):
        users.add("Kim", "cashier", "12")
    with pytest.raises(ValueError, match="role"):
        users.add("Kim", "boss", "4444")
    assert User.get(User.name == "Sanne").pin_hash != "1111"


def test_lockout_after_wrong_pins_then_release(users: Users) -> None:
    users.add("Sanne", "cashier", "1111")
    for _ in range(3):
        with pytest.raises(AuthError, match="wrong PIN"):
            users.authenticate("0000")
    with pytest.raises(AuthError, match="locked"):
        users.authenticate("1111")
    users.now[0] += 61
    assert users.authenticate("1111").name == "Sanne"


def test_success_resets_the_counter(users: Users) -> None:
    users.add("Sanne", "cashier", "1111")
    for _ in range(2):
        with pytest.raises(AuthError):
            users.authenticate("0000")
    users.authenticate("1111")
    for _ in range(2):
        with pytest.raises(AuthError, match="wrong PIN"):
            users.authenticate("0000")
    assert users.authenticate("1111").name == "Sanne"
