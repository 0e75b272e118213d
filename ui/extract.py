"""Lists the texts the UI translates: every call of _ and N_ with a literal in ui/*.py and ui/**/*.kv,
the device state words the status bar translates with _(state), and the template of every
error type the till and the devices raise (ui/errors.py translates errors by type). Used to
check the catalogs are complete."""

from __future__ import annotations

import re
from pathlib import Path

from firmware import permissions
from firmware.errors import TillError
from firmware.ports import DRAWER_STATES, PRINTER_STATES, SCANNER_STATES, DeviceError
from firmware.status import NOT_FITTED, UNREADABLE

STATE_WORDS = (*PRINTER_STATES, *DRAWER_STATES, *SCANNER_STATES, NOT_FITTED, UNREADABLE)

UI_DIR = Path(__file__).resolve().parent
_CALL = re.compile(r"""\bN?_\(\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*\)""")


def error_types() -> list[type[Exception]]:
    """Every TillError and DeviceError class (ApprovalRequired, in firmware.permissions, too)."""
    assert issubclass(permissions.ApprovalRequired, TillError)
    found: list[type[Exception]] = []
    todo: list[type[Exception]] = [TillError, DeviceError]
    while todo:
        kind = todo.pop()
        found.append(kind)
        todo.extend(kind.__subclasses__())
    return found


def messages() -> set[str]:
    found: set[str] = set(STATE_WORDS) | {kind.template for kind in error_types()}
    for path in [*UI_DIR.rglob("*.py"), *UI_DIR.rglob("*.kv")]:
        for match in _CALL.finditer(path.read_text(encoding="utf-8")):
            text = match.group(1) if match.group(1) is not None else match.group(2)
            found.add(text.encode().decode("unicode_escape").encode("latin-1").decode("utf-8"))
    return found


if __name__ == "__main__":
    for message in sorted(messages()):
        print(message)
