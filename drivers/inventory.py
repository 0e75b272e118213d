"""What hardware a terminal has, found through sysfs and /dev, with who may use it.

Used by `kassa doctor`. Reading sysfs needs no permission, so a device that is present but
not accessible is reported as such, with the group or udev rule that fixes it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from drivers.sysfs import read_attr

UDEV_RULE = "provisioning/udev/99-kassa.rules"
Access = Callable[[str, int], bool]


@dataclass(frozen=True)
class UsbPrinter:
    vendor_id: int
    product_id: int
    name: str
    node: str  # /dev/bus/usb/BBB/DDD (what python-escpos / libusb opens)
    lp_nodes: tuple[str, ...]  # /dev/usb/lpN bound to it by the usblp driver
    accessible: bool


@dataclass(frozen=True)
class GpioChip:
    path: str
    label: str
    accessible: bool


def usb_printers(sys_usb: str = "/sys/bus/usb/devices", dev_root: str = "/dev",
                 access: Access = os.access) -> list[UsbPrinter]:
    """USB devices with a printer-class interface (class 07), e.g. every ESC/POS printer."""
    found = []
    for interface in sorted(Path(sys_usb).glob("*:*")):
        if read_attr(interface / "bInterfaceClass") != "07":
            continue
        device = interface.parent if (interface.parent / "idVendor").exists() else (
            Path(sys_usb) / interface.name.split(":")[0])
        bus, dev = read_attr(device / "busnum"), read_attr(device / "devnum")
        node = f"{dev_root}/bus/usb/{int(bus or 0):03d}/{int(dev or 0):03d}"
        lp = tuple(sorted(f"{dev_root}/usb/{p.name}" for p in (interface / "usbmisc").glob("lp*")))
        name = " ".join(filter(None, (read_attr(device / "manufacturer"), read_attr(device / "product"))))
        usable = access(node, os.R_OK | os.W_OK) or any(access(p, os.W_OK) for p in lp)
        found.append(UsbPrinter(int(read_attr(device / "idVendor") or "0", 16),
                                int(read_attr(device / "idProduct") or "0", 16),
                                name or "USB printer", node, lp, usable))
    return found


def lp_nodes(dev_root: str = "/dev", access: Access = os.access) -> list[tuple[str, bool]]:
    return [(str(p), access(str(p), os.W_OK)) for p in sorted(Path(dev_root, "usb").glob("lp*"))]


def gpio_chips(dev_root: str = "/dev", sys_bus: str = "/sys/bus/gpio/devices",
               access: Access = os.access) -> list[GpioChip]:
    chips = []
    for node in sorted(Path(dev_root).glob("gpiochip*")):
        label = read_attr(Path(sys_bus) / node.name / "label") or read_attr(
            Path("/sys/class/gpio") / node.name / "label")
        chips.append(GpioChip(str(node), label, access(str(node), os.R_OK | os.W_OK)))
    return chips


def fix_for(kind: str) -> str:
    """The one-line fix for a permission problem on a kind of device."""
    fixes = {
        "input": "add the till user to group 'input', or to 'kassa' with " + UDEV_RULE,
        "usb": "install " + UDEV_RULE + " (group 'kassa' may then open USB printers), replug",
        "lp": "add the till user to group 'lp', or to 'kassa' with " + UDEV_RULE,
        "gpio": "add the till user to group 'gpio' (Raspberry Pi OS), or to 'kassa' with "
                + UDEV_RULE,
    }
    return fixes[kind]
