"""Receipt documents as the core lays them out (firmware/ports.py docstring)."""

from __future__ import annotations

from typing import Any


def ticket(lines: int = 3, columns: int = 42) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"kind": "text", "text": "Bakkerij Één", "align": "center", "bold": True, "double": True},
        {"kind": "text", "text": "Dorpsstraat 1, Utrecht", "align": "center"},
        {"kind": "rule"},
    ]
    for i in range(lines):
        name = f"Crème brûlée {i}"
        price = f"€ {i + 1},95"
        blocks.append({"kind": "text", "text": name + price.rjust(columns - len(name))})
    blocks += [
        {"kind": "rule"},
        {"kind": "text", "text": "TOTAAL € 12,34", "align": "right", "bold": True},
        {"kind": "qr", "data": "https://kassa.example/r/dev-till-1/42"},
        {"kind": "feed", "lines": 2},
        {"kind": "cut"},
    ]
    return {"columns": columns, "copy": False, "blocks": blocks}
