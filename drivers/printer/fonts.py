"""Which printer font gives the configured number of columns on a given printer profile.

`columns` in the config is the width the receipt is laid out at; the printer only prints that
many characters on a line in a font at least that narrow. python-escpos profiles list each
font's columns (`profile.profile_data['fonts']`: TM-T88III font A 42, font B 56; TM-T20II
font A 48, font B 64), so the widest font that still holds the columns is chosen, and a
width no font of the profile holds is refused when the printer is set up, not wrapped on paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from escpos.capabilities import get_profile

from drivers.errors import SettingRejected


@dataclass(frozen=True)
class Font:
    """One font of a profile: its ESC M number, its name and its columns on the paper."""

    number: int
    name: str
    columns: int


class ColumnsDoNotFit(SettingRejected):
    """No text font of the printer profile prints `columns` characters on one line."""

    def __init__(self, profile: str, columns: int, fonts: tuple[Font, ...]) -> None:
        self.profile, self.columns, self.fonts = profile, columns, fonts
        offered = ", ".join(f"{f.name} {f.columns}" for f in fonts) or "no font list"
        fitting = [c for c in (32, 42, 48) if any(f.columns >= c for f in fonts)]
        fix = (f"set [printer] columns = {' or '.join(map(str, fitting))}" if fitting
               else "no receipt width (32, 42, 48) fits it")
        super().__init__("printer.columns", (
            f"printer profile {profile!r} cannot print {columns} columns on a line (its fonts: "
            f"{offered}): {fix}; or set [printer] profile to the printer you have"))


def text_fonts(profile: Any) -> tuple[Font, ...]:
    """The profile's fonts for Latin text (a Kanji font is for CJK only), by number."""
    fonts = []
    for key, value in sorted(profile.profile_data.get("fonts", {}).items()):
        name = str(value.get("name", f"Font {key}"))
        columns = value.get("columns")
        if not str(key).isdigit() or not isinstance(columns, int) or "kanji" in name.lower():
            continue
        fonts.append(Font(int(key), name, columns))
    return tuple(fonts)


def pick_font(profile_name: str, columns: int) -> Font:
    """The font with the fewest columns that are still at least `columns` (the largest
    letters that fit); raises ColumnsDoNotFit naming the profile, the columns and the fonts."""
    fonts = text_fonts(get_profile(profile_name or "default"))
    fitting = [f for f in fonts if f.columns >= columns]
    if not fitting:
        raise ColumnsDoNotFit(profile_name or "default", columns, fonts)
    return min(fitting, key=lambda f: (f.columns, f.number))
