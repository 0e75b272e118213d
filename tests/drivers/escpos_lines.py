"""Reads ESC/POS bytes back the way a printer does: which font, size and code page each
printed character is in, line by line, so tests can check what the paper shows and how
much of the paper's width each line takes.

Only the commands Kassa's renderer sends are understood; any other command fails the test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from escpos.capabilities import get_profile
from escpos.codepages import CodePages

ESC, GS = 0x1B, 0x1D


@dataclass
class Line:
    """One printed line: its text and the share of the paper width it takes (1 = full)."""

    text: str = ""
    width: Fraction = Fraction(0)
    fonts: set[int] = field(default_factory=set)
    double: bool = False


@dataclass
class Paper:
    lines: list[Line]
    font_selects: list[int]  # every ESC M n, in order
    cuts: int

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def widest(self) -> Line:
        return max(self.lines, key=lambda line: line.width)


def read_paper(data: bytes, profile: str) -> Paper:
    """The lines `data` prints on a printer of `profile` (its font columns and code pages)."""
    prof = get_profile(profile)
    columns = {int(k): v["columns"] for k, v in prof.profile_data["fonts"].items()}
    codecs = {int(num): CodePages.get_encoding(name).get("python_encode")
              for name, num in prof.get_code_pages().items() if name != "Unknown"}
    font, wide, codec = 0, False, "ascii"
    lines: list[Line] = []
    line = Line()
    selects: list[int] = []
    cuts = 0
    i = 0

    def end_line() -> None:
        nonlocal line
        lines.append(line)
        line = Line()

    while i < len(data):
        byte = data[i]
        if byte == 0x0A:
            end_line()
            i += 1
        elif byte == ESC:
            cmd = data[i + 1]
            if cmd == ord("@"):
                font, wide = 0, False
                i += 2
            elif cmd == ord("t"):
                codec = codecs[data[i + 2]]
                i += 3
            elif cmd == ord("M"):
                font = data[i + 2]
                selects.append(font)
                i += 3
            elif cmd == ord("!"):
                font, wide = data[i + 2] & 0x01, bool(data[i + 2] & 0x20)
                i += 3
            elif cmd in (ord("E"), ord("a")):
                i += 3
            elif cmd == ord("d"):
                for _ in range(data[i + 2]):
                    end_line()
                i += 3
            elif cmd == ord("p"):
                i += 5
            else:
                raise AssertionError(f"unexpected ESC {chr(cmd)!r} at byte {i}")
        elif byte == GS:
            cmd = data[i + 1]
            if cmd == ord("V"):
                cuts += 1
                i += 3 if data[i + 2] in (0, 1, 48, 49) else 4
            elif cmd == ord("(") and data[i + 2] == ord("k"):
                i += 5 + data[i + 3] + 256 * data[i + 4]
            elif cmd == ord("v") and data[i + 2] == ord("0"):
                x_bytes = data[i + 4] + 256 * data[i + 5]
                y_dots = data[i + 6] + 256 * data[i + 7]
                i += 8 + x_bytes * y_dots
            elif cmd == ord("!"):
                wide = bool(data[i + 2] & 0xF0)
                i += 3
            else:
                raise AssertionError(f"unexpected GS {chr(cmd)!r} at byte {i}")
        elif byte < 0x20:
            raise AssertionError(f"unexpected control byte {byte:#04x} at byte {i}")
        else:
            line.text += bytes([byte]).decode(codec)
            line.width += Fraction(2 if wide else 1, columns[font])
            line.fonts.add(font)
            line.double = line.double or wide
            i += 1
    if line.text:
        end_line()
    return Paper(lines, selects, cuts)
