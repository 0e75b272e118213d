"""Plain-text tables for command output."""

from __future__ import annotations


def table(header: tuple[str, ...], rows: list[tuple[str, ...]], right: set[str]) -> list[str]:
    """Lines of a plain-text table whose columns line up whatever the widths of the values
    (a long store name or terminal id pushes its column wider instead of shifting the rest)."""
    widths = [max(len(str(v)) for v in column) for column in zip(header, *rows, strict=True)]

    def line(values: tuple[str, ...]) -> str:
        cells = [str(v).rjust(w) if name in right else str(v).ljust(w)
                 for name, v, w in zip(header, values, widths, strict=True)]
        return "  ".join(cells).rstrip()

    return [line(header), *(line(r) for r in rows)]
