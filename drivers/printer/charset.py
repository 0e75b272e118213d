"""Turns any Unicode text into text a thermal printer's code pages can print.

Product names come from a catalogue that anyone may edit: a control character would be sent
to the printer as an ESC/POS command, and a character no code page holds would otherwise make
escpos switch code pages blindly (or to GB18030 for CJK). Here every character is kept when
the profile can print it, folded to its base letter when it cannot (ő -> o), else replaced.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from escpos.codepages import CodePages
from escpos.magicencode import Encoder

from drivers.errors import SettingRejected

# Western European pages holding é, ë and the euro sign, best first. CP437/CP850 lack the euro.
PREFERRED_CODE_PAGES = ("CP858", "CP1252", "ISO_8859-15", "CP850", "CP437")
REPLACEMENT = "?"


class CodePageError(SettingRejected):
    """A configured code page the printer profile does not offer."""

    def __init__(self, message: str) -> None:
        super().__init__("printer.code_page", message)


def pick_code_page(available: Iterable[str], wanted: str = "") -> str:
    """The code page to select at the start of every receipt."""
    names = list(available)
    if wanted:
        canonical = CodePages.get_encoding_name(wanted)
        if canonical not in names:
            raise CodePageError(
                f"code page {wanted!r} is not offered by this printer profile "
                f"(it has: {', '.join(n for n in names if n != 'Unknown')})")
        return canonical
    for name in PREFERRED_CODE_PAGES:
        if name in names:
            return name
    raise CodePageError("the printer profile offers none of " + ", ".join(PREFERRED_CODE_PAGES))


@lru_cache(maxsize=16)
def printable_characters(code_pages: tuple[str, ...]) -> frozenset[str]:
    """Every non-ASCII character at least one of the profile's code pages can print."""
    encoder = Encoder({name: 0 for name in code_pages})
    chars: set[str] = set()
    for name in code_pages:
        try:
            chars.update(encoder._get_codepage_char_map(name))
        except (LookupError, AssertionError, KeyError):
            continue  # a page escpos knows by number only: never chosen for text
    chars.discard(" ")
    # escpos writes any CJK run as GB18030 bytes; a western printer prints garbage for that.
    return frozenset(c for c in chars if not "\u4e00" <= c <= "\u9fa5")


class _CharMap(dict):
    """str.translate table filled on first sight of each character (C-speed afterwards)."""

    def __init__(self, printable: frozenset[str]) -> None:
        super().__init__()
        self._printable = printable

    def __missing__(self, codepoint: int) -> str:
        mapped = self[codepoint] = _map(chr(codepoint), self._printable)
        return mapped


class TextCleaner:
    """Maps arbitrary text to printable text for one printer profile (cached per character)."""

    def __init__(self, code_pages: Iterable[str]) -> None:
        self._table = _CharMap(printable_characters(tuple(sorted(code_pages))))

    def clean(self, text: str) -> str:
        if text.isascii() and text.isprintable():
            return text
        return text.translate(self._table)


def _map(char: str, printable: frozenset[str]) -> str:
    if char in "\t\n\r\f\v":
        return " "
    if char.isascii():
        return char if char.isprintable() else REPLACEMENT
    if char in printable:
        return char
    if not char.isprintable():
        return REPLACEMENT if unicodedata.category(char) != "Zs" else " "
    folded = "".join(
        c for c in unicodedata.normalize("NFKD", char)
        if (c.isascii() and c.isprintable()) or c in printable
    )
    return folded or REPLACEMENT


def python_codec(code_page: str) -> str | None:
    """The Python codec of an escpos code page, for encoding whole lines at once."""
    return CodePages.get_encoding(code_page).get("python_encode")
