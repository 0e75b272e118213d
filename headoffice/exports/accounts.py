"""The chart of accounts the auditfile books to; every account can be renamed in settings.

Settings `[accounts]` map a role to "ID description", e.g. `cash = "1000 Kas"`.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULTS: dict[str, tuple[str, str, str]] = {  # role -> (id, description, B balance | P p&l)
    "cash": ("1000", "Kas", "B"),
    "card": ("1100", "Kruisposten pinbetalingen", "B"),
    "voucher": ("1300", "Tegoedbonnen en cadeaukaarten", "B"),
    "vat_1a": ("1500", "Te betalen btw hoog tarief", "B"),
    "vat_1b": ("1510", "Te betalen btw laag tarief", "B"),
    "vat_1c": ("1520", "Te betalen btw overige tarieven", "B"),
    "revenue_1a": ("8000", "Omzet hoog tarief", "P"),
    "revenue_1b": ("8010", "Omzet laag tarief", "P"),
    "revenue_1c": ("8020", "Omzet overige tarieven", "P"),
    "revenue_1e": ("8030", "Omzet 0% of niet belast", "P"),
    "revenue_exempt": ("8040", "Omzet vrijgesteld van btw", "P"),
    "rounding": ("8900", "Afrondingsverschillen contant", "P"),
    "cash_difference": ("8910", "Kasverschillen", "P"),
}


class AccountsError(ValueError):
    """A chart-of-accounts setting that cannot be used."""


@dataclass(frozen=True)
class Account:
    id: str
    description: str
    kind: str


def chart(overrides: dict[str, str] | None = None) -> dict[str, Account]:
    accounts = {role: Account(*value) for role, value in DEFAULTS.items()}
    for role, text in (overrides or {}).items():
        if role not in DEFAULTS:
            raise AccountsError(f"accounts.{role}: unknown role (known: {', '.join(DEFAULTS)})")
        parts = text.strip().split(None, 1)
        if not parts or len(parts[0]) > 35:
            raise AccountsError(f"accounts.{role}: {text!r} is not 'ID description'")
        accounts[role] = Account(parts[0], parts[1] if len(parts) > 1 else DEFAULTS[role][1],
                                 DEFAULTS[role][2])
    ids = [a.id for a in accounts.values()]
    if len(set(ids)) != len(ids):
        raise AccountsError("accounts: two roles share one account id")
    return accounts
