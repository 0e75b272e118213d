"""Translations for the till UI: gettext catalogs (nl default, en), compiled with Babel.

The .po files are the source; the .mo files are produced on first run (or by
`python -m ui.i18n`) with babel.messages, so no Debian gettext package is needed. When the
package directory is read-only the compiled catalogs go to a cache directory instead.
"""

from __future__ import annotations

import functools
import gettext
import os
import tempfile
from pathlib import Path

from contract.money import format_money

DOMAIN = "kassa"
LANGUAGES = ("nl", "en")
SOURCE_DIR = Path(__file__).resolve().parent / "locale"
MONEY_LOCALES = {"nl": "nl_NL", "en": "en_IE"}

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "nl"


def _po_path(language: str) -> Path:
    return SOURCE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _writable(directory: Path) -> bool:
    return os.access(directory, os.W_OK)


def compile_catalogs(target: Path | None = None) -> Path:
    """Compiles every .po newer than its .mo; returns the locale directory to load from.
    Babel is imported only when a catalog needs compiling (its import costs the till ~3 MB)."""
    if target is None:
        target = SOURCE_DIR if _writable(SOURCE_DIR) else Path(tempfile.gettempdir()) / "kassa-locale"
    for language in LANGUAGES:
        po = _po_path(language)
        mo = target / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        with po.open("rb") as source:
            catalog = read_po(source, locale=language, domain=DOMAIN)
        mo.parent.mkdir(parents=True, exist_ok=True)
        tmp = mo.with_name(mo.name + ".tmp")
        with tmp.open("wb") as out:
            write_mo(out, catalog)
        os.replace(tmp, mo)
    return target


def set_language(language: str) -> None:
    """Loads the catalog of `language`; an unknown language is refused by name."""
    global _translation, _language
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    directory = compile_catalogs()
    _translation = gettext.translation(DOMAIN, str(directory), [language])
    _language = language


def language() -> str:
    return _language


def _(text: str) -> str:
    """The translation of `text` in the current language (text itself when not catalogued)."""
    return _translation.gettext(text)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for `n` in the current language ("1 line", "2 lines")."""
    return _translation.ngettext(singular, plural, n)


def N_(text: str) -> str:
    """Marks a string for the catalog where it is defined; translated later with _()."""
    return text


def money(cents: int) -> str:
    """Every amount on screen goes through the core's Babel formatting (memoised: a ticket
    redraw formats every line, and Babel takes tens of microseconds per amount)."""
    return _money(cents, MONEY_LOCALES[_language])


@functools.lru_cache(maxsize=4096)
def _money(cents: int, locale: str) -> str:
    return format_money(cents, locale)


if __name__ == "__main__":
    print(compile_catalogs())


DECIMAL_SIGN = {"nl": ",", "en": "."}
MAX_EUROS = 99_999


def decimal_sign() -> str:
    return DECIMAL_SIGN[_language]


def type_euros(text: str, key: str) -> str:
    """`text` with one more keypad key, for an amount typed in euros: digits, one decimal
    sign (the key ','), at most two decimals; a key that makes no sense is ignored."""
    whole, sep, cents = text.partition(",")
    if key == ",":
        return text if sep else (text or "0") + ","
    if not key.isdigit():
        return text
    if sep:
        return text + key if len(cents) < 2 else text
    if whole == "0":
        return key  # no leading zero: 0 then 7 is 7
    return text if len(whole) >= len(str(MAX_EUROS)) else text + key


def euros_to_cents(text: str) -> int | None:
    """'12,5' -> 1250, '100' -> 10000; None for nothing typed."""
    whole, _sep, cents = text.partition(",")
    if not whole and not cents:
        return None
    return int(whole or "0") * 100 + int((cents + "00")[:2])


def euros_shown(text: str) -> str:
    """What the cashier typed, as typed, with the language's decimal sign: '€ 12,5'."""
    return "€ " + text.replace(",", decimal_sign())
