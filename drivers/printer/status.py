"""Decodes the printer's real-time status bytes (ESC/POS DLE EOT n) into a printer state.

Every status byte has bit 1 and bit 4 set and bits 0 and 7 clear; a byte that does not is
not an answer to our question (or a printer that does not implement it) and means "unknown".
"""

from __future__ import annotations

from drivers.errors import CoverOpen, PaperOut, PrinterFault, PrinterProblem

DLE_EOT_PRINTER = b"\x10\x04\x01"  # bit 3: offline
DLE_EOT_OFFLINE_CAUSE = b"\x10\x04\x02"  # bit 2: cover open, bit 5: stopped by paper end, bit 6: error
DLE_EOT_PAPER = b"\x10\x04\x04"  # bits 2+3: paper near end, bits 5+6: paper end


def is_status_byte(value: int) -> bool:
    return value & 0x93 == 0x12


def state_from_offline_cause(value: int) -> PrinterProblem | None:
    """The problem a DLE EOT 2 answer reports, or None when nothing is wrong."""
    if value & 0x04:
        return CoverOpen()
    if value & 0x20:
        return PaperOut()
    if value & 0x40:
        return PrinterFault()
    return None


def state_from_paper(value: int) -> PrinterProblem | None:
    """The problem a DLE EOT 4 answer reports; near-end is a warning, not a stop."""
    if value & 0x60:
        return PaperOut()
    return None


def paper_near_end(value: int) -> bool:
    return bool(value & 0x0C)


def is_offline(value: int) -> bool:
    """From a DLE EOT 1 answer."""
    return bool(value & 0x08)
