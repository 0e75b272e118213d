"""Gives freed C heap back to the system between customers.

glibc keeps memory freed by Python, Kivy and SQLite inside the process (a sale's ticket
rows, label textures, receipt rendering, journal pages); on a till that runs all day that
shows up as resident memory that is never used again. malloc_trim(0) returns the free pages
(~5 MB after a few hundred sales here) and takes well under a millisecond, so it runs once
per sale while the done screen is shown. Not glibc (musl, macOS): a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)
_libc: ctypes.CDLL | None = None
_missing = False


def trim() -> bool:
    """True when the C library was asked to give free heap pages back."""
    global _libc, _missing
    if _missing:
        return False
    if _libc is None:
        try:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _libc.malloc_trim.argtypes = [ctypes.c_size_t]
        except (OSError, AttributeError) as exc:
            log.info("no malloc_trim here (%s): freed heap stays with the process", exc)
            _missing = True
            return False
    _libc.malloc_trim(0)
    return True
