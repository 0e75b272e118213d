"""Babel locales that hold only the number and currency data Kassa formats.

A Babel `Locale` reads the whole CLDR data of its locale (nl_NL: root + nl, ~2.3 MB resident
as Python objects) and Babel's global data (aliases, time zones, territories: another ~2.3 MB)
the first time one of its properties is read, and keeps both for the life of the process.
Amounts, weights and VAT rates need four entries of that data: the number symbols, the
currency symbols, the currency patterns and the decimal patterns. `number_locale` gives a
Babel `Locale` whose four properties of those names answer from a copy of just these entries,
so Babel's own formatting (format_currency, format_decimal: its patterns, grouping, rounding
and symbols) runs unchanged with the rest of the data never loaded. Anything else asked of it
(a date pattern, a language name) still loads Babel's full data, as any Locale does.

The entries are copied from Babel once per Babel version into a small JSON file in a cache
directory (KASSA_LOCALE_CACHE_DIR, which the till's systemd unit sets to /var/lib/kassa/babel,
else ~/.cache/kassa/babel), written atomically so a second process starting at the same
moment never reads half a file. The process that writes it loads Babel's data once to do so;
where nothing can be written the copy is made in memory at every start (the same texts, the
memory not saved).
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import babel
from babel.core import Locale
from babel.numbers import NumberPattern, get_currency_symbol, parse_pattern

CACHE_DIR_ENV = "KASSA_LOCALE_CACHE_DIR"
NUMBERING_SYSTEM = "latn"
"""The digits Kassa writes (Babel's default numbering system for formatting)."""


def cache_dir() -> Path:
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kassa" / "babel"


class NumberLocale(Locale):
    """A Babel Locale for formatting numbers and amounts, from the entries `entries` copied."""

    def __init__(self, parts: Mapping[str, str | None], entries: Mapping[str, Any]) -> None:
        super().__init__(parts["language"] or "", parts["territory"], parts["script"],
                         parts["variant"])
        # named apart from every attribute of Babel's Locale (which has `currencies`)
        self.kept_symbols = {NUMBERING_SYSTEM: dict(entries["number_symbols"])}
        self.kept_currency_symbols = dict(entries["currency_symbols"])
        self.kept_currency_formats = {k: parse_pattern(v) for k, v in entries["currency_formats"].items()}
        self.kept_decimal_formats = {None if k == "" else k: parse_pattern(v)
                                     for k, v in entries["decimal_formats"].items()}

    @property
    def number_symbols(self) -> Mapping[str, Mapping[str, str]]:  # type: ignore[override]
        return self.kept_symbols

    @property
    def currency_symbols(self) -> Mapping[str, str]:  # type: ignore[override]
        return self.kept_currency_symbols

    @property
    def currency_formats(self) -> Mapping[str, NumberPattern]:  # type: ignore[override]
        return self.kept_currency_formats

    @property
    def decimal_formats(self) -> Mapping[str | None, NumberPattern]:  # type: ignore[override]
        return self.kept_decimal_formats


def copy_entries(name: str) -> dict[str, Any]:
    """The entries of locale `name` a NumberLocale needs, read from Babel (loads its data)."""
    full = Locale.parse(name)
    return {
        "parts": {"language": full.language, "territory": full.territory,
                  "script": full.script, "variant": full.variant},
        "number_symbols": dict(full.number_symbols[NUMBERING_SYSTEM]),
        "currency_symbols": dict(full.currency_symbols),
        "currency_formats": {k: p.pattern for k, p in full.currency_formats.items()},
        "decimal_formats": {k or "": p.pattern for k, p in full.decimal_formats.items()},
    }


def _cache_file(directory: Path) -> Path:
    return directory / f"numbers-{babel.__version__}.json"


def _read_cache(path: Path) -> dict[str, Any]:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _write_cache(path: Path, locales: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(locales, out, ensure_ascii=False, sort_keys=True)
        os.replace(tmp, path)
    except OSError:
        pass  # nowhere to keep it: copied again at the next start


@functools.cache
def number_locale(name: str) -> NumberLocale:
    """The NumberLocale of `name` ('nl_NL', 'en_IE'); an unknown name raises Babel's
    UnknownLocaleError, as Locale.parse does."""
    path = _cache_file(cache_dir())
    entries = _read_cache(path).get(name)
    try:
        return NumberLocale(entries["parts"], entries)  # type: ignore[index]
    except (KeyError, TypeError, ValueError, AttributeError):  # not kept yet, or damaged
        entries = copy_entries(name)
        _write_cache(path, {**_read_cache(path), name: entries})
        return NumberLocale(entries["parts"], entries)


@functools.cache
def currency_pattern(name: str, currency: str) -> NumberPattern | None:
    """Locale `name`'s standard currency pattern with `currency`'s symbol written into it as
    quoted text (`'€' #,##0.00`), for Babel's format_decimal: what format_currency does with
    the pattern, without format_currency's look-up of the currency's name and plural rules,
    which loads the locale's full data every time. None for a pattern this does not cover
    (quoted text, or the ISO code or name instead of the symbol): use format_currency."""
    locale = number_locale(name)
    pattern = locale.currency_formats["standard"].pattern
    if "'" in pattern or "¤¤" in pattern or "¤" not in pattern:
        return None
    symbol = get_currency_symbol(currency, locale).replace("'", "''")
    return parse_pattern(pattern.replace("¤", f"'{symbol}'"))
