"""Who may see what at head office: the four roles and what a user may reach.

Kept free of Starlette so the user table, the CLI and the views share one definition.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(enum.StrEnum):
    OWNER = "owner"            # everything
    MANAGER = "manager"        # only the assigned shops: turnover, Z archive, stock, alerts
    ACCOUNTANT = "accountant"  # read-only reports and exports of the company, no customer data
    FLEET = "fleet"            # terminals, releases, catalogue push and assortment


ANY_ROLE = tuple(Role)
DUTCH = {Role.OWNER: "eigenaar", Role.MANAGER: "bedrijfsleider", Role.ACCOUNTANT: "boekhouder",
         Role.FLEET: "beheerder"}  # the message ids of the role names on the pages
NEEDS_SHOPS = {Role.MANAGER}


class RoleError(ValueError):
    """An unknown role name, or a shop manager without shops."""

    def __init__(self, role: str, reason: str) -> None:
        super().__init__(f"role {role!r}: {reason}")
        self.role, self.reason = role, reason


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise RoleError(text, "unknown; use one of " + ", ".join(r.value for r in Role)) from None


@dataclass(frozen=True)
class Access:
    """A signed-in user's reach: `shops` is None for every shop, else the assigned ones."""

    user: str
    role: Role
    shops: frozenset[str] | None = None

    def sees_shop(self, store: str) -> bool:
        return self.shops is None or store in self.shops

    @classmethod
    def of(cls, user: str, role: Role, shops: tuple[str, ...] | list[str] = ()) -> Access:
        return cls(user, role, frozenset(shops) if role in NEEDS_SHOPS else None)
