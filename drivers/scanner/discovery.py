"""Finds input devices through sysfs, which needs no permission, so "not plugged in" and
"plugged in but not allowed to read" can be told apart and reported as such."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from drivers.sysfs import read_attr

FIX_PERMISSION = ("add the till user to group 'kassa' and install provisioning/udev/99-kassa.rules "
                  "(or add it to group 'input'), then replug the scanner")


@dataclass(frozen=True)
class InputInfo:
    path: str  # /dev/input/eventN
    name: str
    vendor_id: int
    product_id: int
    by_id: tuple[str, ...]  # /dev/input/by-id/... symlinks pointing at it
    readable: bool


def _hex(text: str) -> int:
    try:
        return int(text, 16)
    except ValueError:
        return 0


def list_inputs(input_dir: str = "/dev/input", sys_dir: str = "/sys/class/input") -> list[InputInfo]:
    """Every evdev node with its name and USB ids, readable or not."""
    by_id: dict[str, list[str]] = {}
    links = Path(input_dir) / "by-id"
    if links.is_dir():
        for link in sorted(links.iterdir()):
            by_id.setdefault(os.path.realpath(link), []).append(str(link))
    found = []
    for node in sorted(Path(input_dir).glob("event*"), key=lambda p: int(p.name[5:] or 0)
                       if p.name[5:].isdigit() else 0):
        device = Path(sys_dir) / node.name / "device"
        found.append(InputInfo(
            path=str(node), name=read_attr(device / "name"),
            vendor_id=_hex(read_attr(device / "id" / "vendor")),
            product_id=_hex(read_attr(device / "id" / "product")),
            by_id=tuple(by_id.get(os.path.realpath(node), ())),
            readable=os.access(node, os.R_OK)))
    return found


def matching(inputs: list[InputInfo], *, path: str = "", name: str = "", vendor_id: int = 0,
             product_id: int = 0) -> list[InputInfo]:
    """The nodes that fit the configured path, name or vendor/product id (in that order)."""
    if path:
        real = os.path.realpath(path)
        return [i for i in inputs if os.path.realpath(i.path) == real]
    if name:
        exact = [i for i in inputs if i.name == name]
        return exact or [i for i in inputs if name.lower() in i.name.lower()]
    if vendor_id:
        return [i for i in inputs if i.vendor_id == vendor_id
                and (not product_id or i.product_id == product_id)]
    return []


def describe(path: str = "", name: str = "", vendor_id: int = 0, product_id: int = 0) -> str:
    if path:
        return path
    if name:
        return f"name {name!r}"
    return f"USB id {vendor_id:04x}:{product_id:04x}" if product_id else f"USB vendor {vendor_id:04x}"
