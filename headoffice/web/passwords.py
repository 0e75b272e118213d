"""The password rule: a minimum length and not one of the commonly used passwords."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

MIN_LENGTH = 12
COMMON_FILE = Path(__file__).parent / "common_passwords.txt"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    return frozenset(line.strip().lower() for line in COMMON_FILE.read_text().splitlines()
                     if line.strip() and not line.startswith("#"))


def check_strength(password: str, name: str = "") -> str:
    """"" when the password may be used, else the reason it may not."""
    if len(password) < MIN_LENGTH:
        return f"a password has at least {MIN_LENGTH} characters"
    lowered = password.lower()
    if lowered in common_passwords():
        return "this password is on the list of commonly used passwords"
    if name and lowered == name.strip().lower():
        return "a password may not be the user name"
    if len(set(lowered)) < 4:
        return "a password needs more than three different characters"
    return ""
