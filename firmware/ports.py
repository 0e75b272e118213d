"""What the till needs from its hardware, as small Protocols the drivers satisfy structurally.

drivers/ never imports firmware: it only has to provide objects of these shapes. Everything
crossing this seam is plain Python data (str, int, dict, list), so a driver can be tested
alone and a simulator can stand in for any device.

Receipt documents (what a printer gets) are plain dicts, laid out by the core for the
printer's column width:

    {"columns": 42, "copy": False, "blocks": [block, ...]}

with blocks

    {"kind": "text", "text": str, "align": "left"|"center"|"right",
     "bold": bool, "double": bool}            one line, already at most `columns` wide
                                              (half that when double)
    {"kind": "rule"}                          a full-width separator line
    {"kind": "qr", "data": str}               a QR code
    {"kind": "feed", "lines": int}            blank lines
    {"kind": "cut"}                           cut the paper (last block)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

DRAWER_STATES = ("open", "closed", "unknown")
PRINTER_STATES = ("ready", "printing", "paper_out", "cover_open", "offline", "error")
SCANNER_STATES = ("connected", "disconnected", "error")

StateCallback = Callable[[str, str], None]
"""on_state(state, detail): a device reports a state change (detail is human-readable)."""


class DeviceError(Exception):
    """A device refused or failed an operation; the message says what the cashier can do."""


@runtime_checkable
class Drawer(Protocol):
    """A cash drawer: pulsed open by the till, optionally reporting open/closed."""

    def open(self) -> None:
        """Pulse the drawer open. Raises DeviceError if the pulse cannot be given."""

    @property
    def state(self) -> str:
        """'open', 'closed' or 'unknown' (no sensor)."""

    def close(self) -> None:
        """Release the pins or port."""


@runtime_checkable
class Printer(Protocol):
    """A receipt printer that renders receipt documents (see module docstring)."""

    def print_document(self, document: dict[str, Any]) -> None:
        """Print one document; raises DeviceError (paper out, cover open, offline...)."""

    @property
    def state(self) -> str:
        """One of PRINTER_STATES."""

    def close(self) -> None:
        """Release the device."""


@runtime_checkable
class Scanner(Protocol):
    """A barcode scanner handing complete codes to a callback, from its own thread."""

    def start(self, on_code: Callable[[str], None]) -> None:
        """Begin reading; on_code(code) is called from the scanner's thread per scan."""

    def stop(self) -> None:
        """Stop reading and release the device."""

    @property
    def state(self) -> str:
        """One of SCANNER_STATES."""
