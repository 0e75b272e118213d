"""Config -> drivers: every kind builds into one Peripherals, errors arrive as
firmware.ports.DeviceError subclasses, translated by type with their parameters."""

from __future__ import annotations

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory
from sample_receipts import ticket

from cli import wiring
from contract.config import parse_config
from firmware import ports
from firmware.ports import DeviceError, Drawer, Peripherals, Printer, Scanner


def config(tmp_path, text: str = ""):
    return parse_config(text, "kassa.toml", var_dir=str(tmp_path))


def test_sim_everywhere_needs_no_hardware(tmp_path):
    states: list = []
    devices, sims = wiring.build_simulated(config(tmp_path), lambda *a: states.append(a))
    assert isinstance(devices, Peripherals)
    assert isinstance(devices.printer, Printer) and isinstance(devices.drawer, Drawer)
    assert isinstance(devices.scanner, Scanner)
    assert not any(hasattr(type(device), "__getattr__")
                   for device in (devices.printer, devices.drawer, devices.scanner))
    devices.printer.print_document(ticket(2))
    assert (tmp_path / "printer" / "receipt-1.txt").exists()
    devices.drawer.open()
    codes: list = []
    devices.scanner.start(codes.append)
    sims.printer.simulate("paper_out")
    with pytest.raises(DeviceError, match="out of paper") as raised:  # the core's DeviceError
        devices.printer.print_document(ticket(1))
    assert type(raised.value) is ports.PaperOut and raised.value.state == "paper_out"
    devices.close()
    assert ("printer", "paper_out", "the printer is out of paper: load a new roll") in states
    assert ("scanner", "connected", "simulated scanner") in states


def test_none_kinds_give_none(tmp_path):
    devices = wiring.build_peripherals(config(tmp_path, '[printer]\nkind = "none"\n'
                                   '[drawer]\nkind = "none"\n[scanner]\nkind = "none"\n'))
    assert (devices.printer, devices.drawer, devices.scanner) == (None, None, None)


def test_printer_kick_drawer_uses_the_configured_printer(tmp_path):
    cfg = config(tmp_path, '[printer]\nkind = "dummy"\n[drawer]\nkind = "printer"\n'
                 'kick_pin = 5\npulse_ms = 100\n')
    printer = wiring.build_printer(cfg)
    drawer = wiring.build_drawer(cfg, printer)
    drawer.open()
    assert printer.driver.dummy.output == b"\x1bp\x01\x32\x64"
    with pytest.raises(DeviceError, match="needs a \\[printer\\]"):
        wiring.build_drawer(config(tmp_path, '[drawer]\nkind = "printer"\n'), None)


def test_gpio_drawer_from_config_and_pin_in_use(tmp_path):
    factory = MockFactory()
    previous = Device.pin_factory
    Device.pin_factory = factory
    try:
        cfg = config(tmp_path, '[drawer]\nkind = "gpio"\npin = 23\nactive_high = false\n'
                     'pulse_ms = 20\nsensor_pin = 24\n')
        drawer = wiring.build_drawer(cfg)
        factory.pin(23).clear_states()
        drawer.open()
        assert [s.state for s in factory.pin(23).states] == [True, False, True]
        assert drawer.state == "open"  # sensor pulled up, open when high
        with pytest.raises(DeviceError, match="GPIO23 \\(drawer relay\\) is already in use") as raised:
            wiring.build_drawer(cfg)
        assert type(raised.value) is ports.PinUnavailable and raised.value.params["pin"] == 23
        drawer.close()
    finally:
        Device.pin_factory = previous
        factory.reset()


def test_evdev_scanner_and_network_printer_build_without_touching_hardware(tmp_path):
    cfg = config(tmp_path, '[scanner]\nkind = "evdev"\npath = "/dev/input/by-id/none"\n'
                 'layout = "be"\n[printer]\nkind = "network"\nhost = "127.0.0.1"\nport = 1\n')
    scanner = wiring.build_scanner(cfg)
    assert scanner.state == "disconnected"
    printer = wiring.build_printer(cfg)
    with pytest.raises(DeviceError, match="cannot reach the printer") as raised:
        printer.print_document(ticket(1))
    assert printer.state == "offline" and type(raised.value) is ports.PrinterOffline


def test_bad_driver_settings_are_core_device_errors(tmp_path):
    with pytest.raises(DeviceError, match="unknown printer profile 'TM-X'") as raised:
        wiring.build_printer(config(tmp_path, '[printer]\nprofile = "TM-X"\n'))
    assert raised.value.params["setting"] == "printer.profile"
    with pytest.raises(DeviceError, match="code page 'CP1251'"):
        wiring.build_printer(config(tmp_path, '[printer]\ncode_page = "CP1251"\n'))
    with pytest.raises(DeviceError, match="KEY_FOO"):
        wiring.build_scanner(config(tmp_path, '[scanner]\nkind = "evdev"\nname = "x"\n'
                                    'gs_key = "KEY_FOO"\n'))


def test_columns_the_printer_profile_cannot_print_stop_start_up(tmp_path):
    """48 columns on a 58 mm profile (fonts of 32 and 42 columns) is refused when the till
    builds its printer, naming profile, columns and what fits; the default profile prints 48
    in its font B."""
    with pytest.raises(ports.SettingRejected) as raised:
        wiring.build_printer(config(tmp_path, '[printer]\nprofile = "NT-5890K"\ncolumns = 48\n'))
    assert raised.value.params["setting"] == "printer.columns"
    assert "'NT-5890K' cannot print 48 columns" in str(raised.value)
    assert "Font A 32, Font B 42" in str(raised.value) and "columns = 32 or 42" in str(raised.value)
    printer = wiring.build_printer(config(tmp_path, "[printer]\ncolumns = 48\n"))
    assert printer is not None and printer.driver.columns == 48
