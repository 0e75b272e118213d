"""Reading one sysfs attribute the way device discovery needs it."""

from __future__ import annotations

from pathlib import Path


def read_attr(path: Path) -> str:
    """The attribute's text, stripped; "" when it is missing or unreadable (a device that
    vanished mid-scan, or an attribute this kernel does not have)."""
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""
