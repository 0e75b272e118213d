"""`kassa doctor` on a fake /dev and /sys tree and simulated devices."""

from __future__ import annotations

import os
import time
from pathlib import Path

from cli import build_parser
from cli.doctor import doctor
from contract.config import parse_config


def fake_tree(root: Path) -> dict[str, str]:
    dev, sys_root = root / "dev", root / "sys"
    (dev / "input" / "by-id").mkdir(parents=True)
    (dev / "input" / "event5").write_bytes(b"")
    os.symlink("../event5", dev / "input" / "by-id" / "usb-Honeywell_1900-event-kbd")
    ids = sys_root / "class" / "input" / "event5" / "device" / "id"
    ids.mkdir(parents=True)
    (ids.parent / "name").write_text("Honeywell Imaging 1900\n")
    (ids / "vendor").write_text("0c2e\n")
    (ids / "product").write_text("0b61\n")
    usb = sys_root / "bus" / "usb" / "devices"
    (usb / "1-1.3").mkdir(parents=True)
    for name, value in (("idVendor", "04b8"), ("idProduct", "0202"), ("busnum", "1"),
                        ("devnum", "4"), ("manufacturer", "EPSON"), ("product", "TM-T88V")):
        (usb / "1-1.3" / name).write_text(value + "\n")
    (usb / "1-1.3:1.0" / "usbmisc" / "lp0").mkdir(parents=True)
    (usb / "1-1.3:1.0" / "bInterfaceClass").write_text("07\n")
    (usb / "1-1.2:1.0").mkdir()
    (usb / "1-1.2:1.0" / "bInterfaceClass").write_text("03\n")  # a keyboard, not a printer
    (dev / "usb").mkdir()
    (dev / "usb" / "lp0").write_bytes(b"")
    (dev / "gpiochip0").write_bytes(b"")
    (sys_root / "bus" / "gpio" / "devices" / "gpiochip0").mkdir(parents=True)
    (sys_root / "bus" / "gpio" / "devices" / "gpiochip0" / "label").write_text("pinctrl-rp1\n")
    return {"dev": str(dev), "sys": str(sys_root)}


def config(tmp_path: Path, text: str = ""):
    return parse_config(text, "kassa.toml", var_dir=str(tmp_path / "var"))


def test_lists_devices_and_names_the_fix_for_missing_permissions(tmp_path):
    lines: list[str] = []
    cfg = config(tmp_path, '[scanner]\nkind = "evdev"\nvendor_id = 0x0c2e\n')
    status = doctor(cfg, out=lines.append, test=False, roots=fake_tree(tmp_path),
                    access=lambda path, mode: False)
    text = "\n".join(lines)
    assert "event5  0c2e:0b61  Honeywell Imaging 1900 <- configured scanner" in text
    assert "usb-Honeywell_1900-event-kbd" in text
    assert "04b8:0202  EPSON TM-T88V" in text and "/bus/usb/001/004" in text
    assert "gpiochip0  pinctrl-rp1" in text
    assert text.count("NO PERMISSION") == 4
    assert "group 'input', or to 'kassa' with provisioning/udev/99-kassa.rules" in text
    assert "group 'gpio'" in text and "group 'lp'" in text
    assert status == 1
    lines.clear()
    assert doctor(cfg, out=lines.append, test=False, roots=fake_tree(tmp_path / "again"),
                  access=lambda path, mode: True) == 0
    assert "NO PERMISSION" not in "\n".join(lines)


def test_tests_every_simulated_device(tmp_path):
    lines: list[str] = []
    status = doctor(config(tmp_path), out=lines.append, roots=fake_tree(tmp_path),
                    scan_timeout=5, on_scanner_started=lambda s: s.inject("0104012345678901"))
    text = "\n".join(lines)
    assert "printer: test page sent (sim)" in text
    assert "drawer: pulsed (sim, 100 ms); sensor closed -> open" in text
    assert "scanner: read '0104012345678901' (16 characters)" in text
    assert status == 0 and "all tests passed" in text
    preview = (tmp_path / "var" / "printer" / "receipt-1.txt").read_text(encoding="utf-8")
    assert "Café, Één, Noël, € 1.234,56" in preview


def test_failures_are_reported_with_reasons(tmp_path):
    lines: list[str] = []
    cfg = config(tmp_path, '[printer]\nkind = "network"\nhost = "127.0.0.1"\nport = 1\n'
                 'timeout_seconds = 1\n[drawer]\nkind = "printer"\n')
    status = doctor(cfg, out=lines.append, roots=fake_tree(tmp_path), scan_timeout=0.2,
                    on_scanner_started=lambda s: None)
    text = "\n".join(lines)
    assert "printer: FAILED: cannot reach the printer" in text
    assert "drawer: FAILED: could not kick the drawer through the printer" in text
    assert "scanner: FAILED: no scan within 0.2 s" in text
    assert status == 1 and "3 test(s) failed" in text


def test_cli_parses_doctor_options():
    args = build_parser().parse_args(["doctor", "--no-test", "--skip", "printer,drawer"])
    assert args.no_test and args.skip == "printer,drawer" and args.handler.__name__ == "run"


def _pin_libraries_missing(monkeypatch, *, then=None):
    """gpiozero on a Pi whose venv lacks lgpio: a PinFactoryFallback warning per library it
    tries, then BadPinFactory (or, with `then`, the library that did load)."""
    import warnings

    from gpiozero import Device
    from gpiozero.exc import BadPinFactory, PinFactoryFallback

    def default_pin_factory():
        for name, reason in (("lgpio", "No module named 'lgpio'"),
                             ("rpigpio", "No module named 'RPi'")):
            warnings.warn(PinFactoryFallback(f"Falling back from {name}: {reason}"), stacklevel=2)
        if then is None:
            raise BadPinFactory("Unable to load any default pin factory!")
        return then

    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    monkeypatch.setattr(Device, "pin_factory", None)
    monkeypatch.setattr(Device, "_default_pin_factory", staticmethod(default_pin_factory))


def run_doctor(cfg, tmp_path, **kwargs) -> tuple[int, str, list]:
    """The doctor's output, and any warning that got past it (none should)."""
    import warnings

    lines: list[str] = []
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        status = doctor(cfg, out=lines.append, roots=fake_tree(tmp_path), **kwargs)
    return status, "\n".join(lines), escaped


def test_gpio_fallback_warnings_are_one_line_and_the_fix_works_in_the_venv(tmp_path, monkeypatch,
                                                                           capsys):
    import sys

    _pin_libraries_missing(monkeypatch)
    cfg = config(tmp_path, '[drawer]\nkind = "gpio"\npin = 17\n')
    status, text, escaped = run_doctor(cfg, tmp_path, skip={"printer", "scanner"})
    assert escaped == [] and capsys.readouterr().err == ""
    notes = [line for line in text.splitlines() if "note:" in line]
    assert notes == ["  drawer: note: gpiozero could not load lgpio: No module named 'lgpio'; "
                     "rpigpio: No module named 'RPi'"]
    assert "PinFactoryFallback" not in text and "warnings.warn" not in text
    failed = next(line for line in text.splitlines() if "drawer: FAILED" in line)
    assert f"{sys.executable} -m pip install lgpio" in failed and "Kassa's venv" in failed
    assert "apt" not in failed and "python3-lgpio" not in failed
    assert status == 1


def test_gpio_fallback_to_a_working_library_is_a_note_not_a_failure(tmp_path, monkeypatch):
    from gpiozero.pins.mock import MockFactory

    _pin_libraries_missing(monkeypatch, then=MockFactory())
    cfg = config(tmp_path, '[drawer]\nkind = "gpio"\npin = 17\nsensor_pin = -1\n')
    status, text, escaped = run_doctor(cfg, tmp_path, skip={"printer", "scanner"})
    assert escaped == []
    assert "drawer: pulsed (gpio, 100 ms)" in text
    assert "drawer: note: gpiozero could not load lgpio" in text and status == 0


def test_a_scanner_the_listing_did_not_find_fails_at_once(tmp_path):
    cfg = config(tmp_path, '[scanner]\nkind = "evdev"\nname = "Datalogic QuickScan"\n')
    started = time.monotonic()
    status, text, escaped = run_doctor(cfg, tmp_path, skip={"printer", "drawer"},
                                       scan_timeout=30)
    assert time.monotonic() - started < 5  # not the 30 s scan timeout
    assert "the configured scanner is not attached" in text.split("tests:")[0]
    assert "scanner: FAILED: the configured scanner is not attached" in text
    assert "scan any barcode" not in text and status == 1 and escaped == []


def test_printer_test_says_where_a_sim_or_file_page_went(tmp_path):
    status, text, _ = run_doctor(config(tmp_path), tmp_path, skip={"drawer", "scanner"})
    page = (tmp_path / "var" / "printer" / "receipt-1.txt").resolve()
    assert f"printer: test page sent (sim) to {page} (ESC/POS bytes in receipt-1.bin)" in text
    assert status == 0
    spool = tmp_path / "spool.bin"
    spool.write_bytes(b"")
    cfg = config(tmp_path / "f", f'[printer]\nkind = "file"\ndevice = "{spool}"\n')
    sizes = []
    for run in range(2):
        status, text, _ = run_doctor(cfg, tmp_path / f"f{run}", skip={"drawer", "scanner"})
        sizes.append(spool.stat().st_size)
        assert status == 0
        assert (f"printer: test page sent (file) - appended to the file {spool.resolve()} "
                f"({sizes[-1]} bytes now)") in text
    assert sizes[1] == 2 * sizes[0] > 0  # the second page went after the first
