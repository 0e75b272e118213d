"""The one place provisioning talks to head office's terminal registry.

The registry (headoffice/registry.py) is head office's; provisioning only adds terminals,
revokes them and reads them back for `kassa provision list`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


class RegistryError(Exception):
    """Head office's registry could not be reached or refused the change."""


def _plain(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat(sep=" ", timespec="seconds") if isinstance(
            value, dt.datetime) else value.isoformat()
    if isinstance(value, int | float) and value > 10**9:  # epoch seconds or milliseconds
        seconds = value / 1000 if value > 10**12 else value
        return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(sep=" ", timespec="seconds")
    return str(value)


class Registry:
    def __init__(self, url: str) -> None:
        if not url:
            raise RegistryError("no head-office database URL: pass --office-db URL (or set it "
                                "at init), or --no-register to skip the registry")
        try:
            from headoffice import db, registry
        except ImportError as exc:
            raise RegistryError(f"head office registry is not available: {exc}") from None
        self._registry = registry
        try:
            self._db = db.open_office_db(url)
        except Exception as exc:  # any driver error: name the URL scheme, never credentials
            scheme = url.split(":", 1)[0]
            raise RegistryError(f"cannot open the head-office database ({scheme}): {exc}") from None

    def add(self, terminal: str, store: str, public_key_hex: str) -> None:
        try:
            self._registry.add_terminal(terminal, store, public_key_hex)
        except Exception as exc:
            raise RegistryError(f"head office refused terminal {terminal!r}: {exc}") from None

    def revoke(self, terminal: str) -> None:
        try:
            self._registry.revoke_terminal(terminal)
        except Exception as exc:
            raise RegistryError(f"head office could not revoke {terminal!r}: {exc}") from None

    def list(self) -> list[dict[str, str]]:
        rows = []
        for row in self._registry.list_terminals():
            get = row.get if isinstance(row, dict) else (lambda k, r=row: getattr(r, k, None))
            rows.append({
                "terminal": _plain(get("terminal_id") or get("terminal")),
                "store": _plain(get("store")),
                "status": _plain(get("status")),
                "last_seen": _plain(get("last_seen")),
            })
        return rows

    def close(self) -> None:
        close = getattr(self._db, "close", None)
        if close is not None:
            close()
