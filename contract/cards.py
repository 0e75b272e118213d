"""Loyalty card numbers: EAN-13 under the shop's prefix, the same at the till and head office."""

from __future__ import annotations

from contract.gtin import gs1_check_digit


def card_number(prefix: str, number: int) -> str:
    """An EAN-13 loyalty card: prefix + zero-padded number + GS1 check digit."""
    if not prefix.isdigit() or not 1 <= len(prefix) <= 6:
        raise ValueError(f"loyalty prefix {prefix!r} must be 1 to 6 digits")
    body = prefix + str(number).zfill(12 - len(prefix))
    if len(body) != 12:
        raise ValueError(f"card number {number} does not fit after prefix {prefix}")
    return body + str(gs1_check_digit(body))


def is_card(code: str, prefix: str) -> bool:
    """True when a scanned code is one of our loyalty cards (the configured prefix)."""
    code = code.strip()
    return bool(prefix) and code.startswith(prefix) and code.isdigit() and len(code) == 13
