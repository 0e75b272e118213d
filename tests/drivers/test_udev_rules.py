"""provisioning/udev/99-kassa.rules: well-formed lines covering every device the till opens."""

from __future__ import annotations

import re
from pathlib import Path

RULES = Path(__file__).resolve().parents[2] / "provisioning" / "udev" / "99-kassa.rules"
PART = re.compile(r'^(?:[A-Z_]+(?:\{[A-Za-z_]+\})?)\s*(==|!=|=|\+=)\s*"[^"]*"$')


def rules() -> list[list[str]]:
    lines = [line.strip() for line in RULES.read_text().splitlines()]
    return [[part.strip() for part in line.split(",")] for line in lines
            if line and not line.startswith("#")]


def test_every_rule_is_well_formed_and_grants_group_kassa():
    assert rules()
    for parts in rules():
        for part in parts:
            assert PART.match(part), part
        assert 'GROUP="kassa"' in parts
        assert any(p.startswith("SUBSYSTEM==") for p in parts)
        assert any(p.startswith("MODE=") and p.endswith('0"') for p in parts)  # never world access


def test_rules_cover_scanner_lp_usb_printer_and_gpiochip():
    subsystems = {p for parts in rules() for p in parts if p.startswith("SUBSYSTEM==")}
    assert subsystems == {'SUBSYSTEM=="input"', 'SUBSYSTEM=="usbmisc"', 'SUBSYSTEM=="usb"',
                          'SUBSYSTEM=="gpio"'}
    text = RULES.read_text()
    assert 'KERNEL=="lp[0-9]*"' in text and 'KERNEL=="gpiochip[0-9]*"' in text
    assert 'ENV{ID_USB_INTERFACES}=="*:0701??:*"' in text
