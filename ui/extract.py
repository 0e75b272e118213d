"""Lists the texts the UI translates: every call of _ and N_ with a literal in ui/*.py and ui/**/*.kv,
plus the device state words the status bar translates with _(state). Used to check the
catalogs are complete."""

from __future__ import annotations

import re
from pathlib import Path

from firmware.ports import DRAWER_STATES, PRINTER_STATES, SCANNER_STATES
from firmware.status import NOT_FITTED, UNREADABLE

STATE_WORDS = (*PRINTER_STATES, *DRAWER_STATES, *SCANNER_STATES, NOT_FITTED, UNREADABLE)

UI_DIR = Path(__file__).resolve().parent
_CALL = re.compile(r"""\bN?_\(\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*\)""")


def messages() -> set[str]:
    found: set[str] = set(STATE_WORDS)
    for path in [*UI_DIR.rglob("*.py"), *UI_DIR.rglob("*.kv")]:
        for match in _CALL.finditer(path.read_text(encoding="utf-8")):
            text = match.group(1) if match.group(1) is not None else match.group(2)
            found.add(text.encode().decode("unicode_escape").encode("latin-1").decode("utf-8"))
    return found


if __name__ == "__main__":
    for message in sorted(messages()):
        print(message)
