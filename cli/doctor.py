"""`kassa doctor`: what peripherals this terminal has, whether the till may use them, and a
live test of each configured one (pulse the drawer, print a test page, wait for one scan).

Every problem is printed with what fixes it: the group to join or the udev rule to install
(provisioning/udev/99-kassa.rules). Exit status 0 only when every test passed. Python
warnings raised by a device's libraries (gpiozero's PinFactoryFallback for each pin library
it could not load) are caught and shown as one line per device, never as raw warnings.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from cli.wiring import PortPrinter

Out = Callable[[str], None]
TESTS = ("printer", "drawer", "scanner")


class Listing(NamedTuple):
    """What the listing found: permission problems, and whether an evdev scanner is there."""

    problems: int
    scanner_missing: bool


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("doctor", help="list and test the scanner, printer and drawer")
    parser.add_argument("--no-test", action="store_true", help="only list, test nothing")
    parser.add_argument("--skip", default="", help="comma-separated: printer,drawer,scanner")
    parser.add_argument("--scan-timeout", type=float, default=20.0,
                        help="seconds to wait for a test scan (default 20)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from contract.config import load_config

    config = load_config(args.config)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = skip - set(TESTS)
    if unknown:
        raise SystemExit(f"kassa doctor: --skip {','.join(sorted(unknown))}: not one of "
                         f"{', '.join(TESTS)}")
    return doctor(config, out=print, test=not args.no_test, skip=skip,
                  scan_timeout=args.scan_timeout)


def doctor(config: Any, *, out: Out, test: bool = True, skip: set[str] | frozenset[str] = frozenset(),
           scan_timeout: float = 20.0, roots: dict[str, str] | None = None,
           access: Callable[[str, int], bool] = os.access,
           on_scanner_started: Callable[[Any], None] | None = None) -> int:
    roots = {"dev": "/dev", "sys": "/sys", **(roots or {})}
    out(f"config: {config.source}")
    out(f"  printer {config.printer.kind}, drawer {config.drawer.kind}, "
        f"scanner {config.scanner.kind} (layout {config.scanner.layout})")
    key_problem = office_key_report(config, out)
    listing = list_hardware(config, out, roots, access)
    if not test:
        return 1 if listing.problems or key_problem else 0
    failures = run_tests(config, out, skip=skip, scan_timeout=scan_timeout,
                         on_scanner_started=on_scanner_started,
                         scanner_missing=listing.scanner_missing)
    out("all tests passed" if not failures else f"{failures} test(s) failed")
    return 1 if failures or key_problem else 0


def office_key_report(config: Any, out: Out) -> bool:
    """Says which head-office key checks downstream seals; True when the uplink will refuse
    everything from head office (no key, or a key file it cannot use) while MQTT is on."""
    from contract.config import ConfigError
    from firmware.office_key import fingerprint, pinned_office_key

    try:
        key = pinned_office_key(config.mqtt, config.source)
    except ConfigError as exc:
        out(f"  head-office key: PROBLEM {exc}")
        return True
    if key is not None:
        out(f"  head-office key {config.mqtt.office_public_key} (fingerprint {fingerprint(key)}):"
            " catalogue, prices, offers and config are applied only when sealed with it")
        return False
    if not config.mqtt.enabled:
        out("  head-office key: none pinned; no uplink ([mqtt] enabled = false), so nothing"
            " comes from head office")
        return False
    out("  head-office key: PROBLEM none pinned ([mqtt] office_public_key): the uplink refuses"
        " every catalogue, price, offers and config message; install office_ed25519.pub from"
        " the enrollment bundle")
    return True


def list_hardware(config: Any, out: Out, roots: dict[str, str],
                  access: Callable[[str, int], bool]) -> Listing:
    """Prints what is attached; returns the permission problems found and whether the
    configured evdev scanner is missing (then its test need not wait for a scan)."""
    from drivers import inventory
    from drivers.scanner.discovery import list_inputs, matching

    problems = 0
    dev, sys_root = roots["dev"], roots["sys"]
    out("input devices:")
    inputs = list_inputs(f"{dev}/input", f"{sys_root}/class/input")
    s = config.scanner
    wanted = {i.path for i in matching(inputs, path=s.path, name=s.name, vendor_id=s.vendor_id,
                                       product_id=s.product_id)}
    for info in inputs:
        readable = access(info.path, os.R_OK)
        mark = " <- configured scanner" if info.path in wanted else ""
        out(f"  {info.path}  {info.vendor_id:04x}:{info.product_id:04x}  {info.name}{mark}")
        for link in info.by_id:
            out(f"      {link}")
        if not readable and (mark or info.vendor_id):
            problems += 1
            out(f"      NO PERMISSION: {inventory.fix_for('input')}")
    if not inputs:
        out("  (none)")
    scanner_missing = s.kind == "evdev" and not wanted
    if scanner_missing:
        out("  the configured scanner is not attached (check [scanner] path/name/vendor_id)")
    out("USB printers:")
    printers = inventory.usb_printers(f"{sys_root}/bus/usb/devices", dev, access)
    for p in printers:
        out(f"  {p.vendor_id:04x}:{p.product_id:04x}  {p.name}  {p.node} "
            f"{' '.join(p.lp_nodes)}".rstrip())
        if not p.accessible:
            problems += 1
            out(f"      NO PERMISSION: {inventory.fix_for('usb')}")
    for node, writable in inventory.lp_nodes(dev, access):
        if not any(node in p.lp_nodes for p in printers):
            out(f"  {node}")
        if not writable:
            problems += 1
            out(f"      NO PERMISSION on {node}: {inventory.fix_for('lp')}")
    if not printers and not inventory.lp_nodes(dev, access):
        out("  (none)")
    out("GPIO chips:")
    chips = inventory.gpio_chips(dev, f"{sys_root}/bus/gpio/devices", access)
    for chip in chips:
        out(f"  {chip.path}  {chip.label}")
        if not chip.accessible:
            problems += 1
            out(f"      NO PERMISSION: {inventory.fix_for('gpio')}")
    if not chips:
        out("  (none)")
    if chips and config.drawer.kind == "gpio" and not os.access(
            os.environ.get("LG_WD", os.getcwd()), os.W_OK):
        problems += 1
        out("  lgpio needs a writable working directory for its notification pipes: set "
            "LG_WD=/var/lib/kassa (or WorkingDirectory=) for the till")
    return Listing(problems, scanner_missing)


TEST_PAGE = {
    "columns": 42, "copy": False,
    "blocks": [
        {"kind": "text", "text": "KASSA TEST", "align": "center", "bold": True, "double": True},
        {"kind": "rule"},
        {"kind": "text", "text": "Café, Één, Noël, € 1.234,56", "align": "left"},
        {"kind": "text", "text": "left", "align": "left"},
        {"kind": "text", "text": "centre", "align": "center"},
        {"kind": "text", "text": "right", "align": "right"},
        {"kind": "qr", "data": "https://kassa.invalid/doctor"},
        {"kind": "feed", "lines": 1},
        {"kind": "cut"},
    ],
}


def run_tests(config: Any, out: Out, *, skip: set[str] | frozenset[str] = frozenset(),
              scan_timeout: float = 20.0,
              on_scanner_started: Callable[[Any], None] | None = None,
              scanner_missing: bool = False) -> int:
    """Tests each configured device, each built on its own through the wiring (a printer that
    cannot be set up does not keep the drawer and scanner from being tested); returns the
    number of failures."""
    from cli import wiring
    from firmware.ports import DeviceError

    failures = 0
    printer: PortPrinter | None = None
    out("tests:")
    with warnings_as_one_line("printer", out):
        try:
            printer = wiring.build_printer(config)
        except DeviceError as exc:
            if "printer" not in skip:
                failures += 1
                out(f"  printer: FAILED to set up: {exc}")
        if "printer" not in skip and printer is not None:
            document = dict(TEST_PAGE, columns=config.printer.columns)
            try:
                printer.print_document(document)
                out(f"  printer: test page sent ({config.printer.kind}){_destination(config, printer)}"
                    "; check accents, € and QR")
            except DeviceError as exc:
                failures += 1
                out(f"  printer: FAILED: {exc}")
        elif "printer" not in skip and config.printer.kind == "none":
            out("  printer: none configured")
    if "drawer" not in skip:
        with warnings_as_one_line("drawer", out):
            failures += _test_drawer(config, printer, out)
    if "scanner" not in skip:
        with warnings_as_one_line("scanner", out):
            failures += _test_scanner(config, out, scan_timeout, on_scanner_started,
                                      missing=scanner_missing)
    if printer is not None:
        printer.close()
    return failures


def _destination(config: Any, printer: PortPrinter) -> str:
    """Where a test page that no paper shows went: the simulator's files, the file kind's
    file (appended to, when it is a regular file), or nowhere (dummy)."""
    from drivers.printer.sim import SimPrinter

    driver = printer.driver
    if isinstance(driver, SimPrinter) and driver.last_receipt is not None:
        text = driver.last_receipt.resolve()
        return f" to {text} (ESC/POS bytes in {text.with_suffix('.bin').name})"
    if config.printer.kind == "file":
        device = Path(config.printer.device)
        if device.is_file():
            return f" - appended to the file {device.resolve()} ({device.stat().st_size} bytes now)"
        return f" to {device}"
    if config.printer.kind == "dummy":
        return " - kept in memory only, nothing printed"
    return ""


@contextmanager
def warnings_as_one_line(device: str, out: Out) -> Iterator[None]:
    """Catches the Python warnings a device's test raises and prints them as one line, so a
    technician sees "gpiozero could not load lgpio: ..." instead of raw warnings."""
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        line = summarise_warnings(caught)
        if line:
            out(f"  {device}: note: {line}")


def summarise_warnings(caught: list[warnings.WarningMessage]) -> str:
    """One line for a list of warnings: gpiozero's pin-library fallbacks as one list of
    "library: reason", any other warning once, with its type."""
    fallback = _gpiozero_fallback_type()
    tried: list[str] = []
    others: list[str] = []
    for item in caught:
        text = " ".join(str(item.message).split())
        if fallback is not None and issubclass(item.category, fallback):
            tried.append(text.removeprefix("Falling back from "))
        else:
            other = f"{item.category.__name__}: {text}"
            if other not in others:
                others.append(other)
    parts = [f"gpiozero could not load {'; '.join(tried)}"] if tried else []
    return "; ".join(parts + others)


def _gpiozero_fallback_type() -> type[Warning] | None:
    try:
        from gpiozero.exc import PinFactoryFallback
    except ImportError:  # no gpiozero: none of its warnings either
        return None
    return PinFactoryFallback


def _test_drawer(config: Any, printer: PortPrinter | None, out: Out) -> int:
    from cli import wiring
    from firmware.ports import DeviceError

    try:
        drawer = wiring.build_drawer(config, printer)
    except DeviceError as exc:
        out(f"  drawer: FAILED to set up: {exc}")
        return 1
    if drawer is None:
        out("  drawer: none configured")
        return 0
    try:
        before = drawer.state
        drawer.open()
        time.sleep(0.3)
        out(f"  drawer: pulsed ({config.drawer.kind}, {config.drawer.pulse_ms} ms); "
            f"sensor {before} -> {drawer.state}")
        return 0
    except DeviceError as exc:
        out(f"  drawer: FAILED: {exc}")
        return 1
    finally:
        drawer.close()


def _test_scanner(config: Any, out: Out, timeout: float,
                  on_started: Callable[[Any], None] | None, *, missing: bool = False) -> int:
    from cli import wiring
    from firmware.ports import DeviceError

    states: list[tuple[str, str]] = []
    try:
        scanner = wiring.build_scanner(config, lambda s, d: states.append((s, d)),
                                       stdin=config.scanner.kind == "sim" and on_started is None)
    except DeviceError as exc:
        out(f"  scanner: FAILED to set up: {exc}")
        return 1
    if scanner is None:
        out("  scanner: none configured")
        return 0
    if missing:  # the listing found no such input device: waiting for a scan is pointless
        out("  scanner: FAILED: the configured scanner is not attached (see input devices "
            "above); plug it in or fix [scanner] path/name/vendor_id, then test again")
        return 1
    got: list[str] = []
    done = threading.Event()
    scanner.start(lambda code: (got.append(code), done.set()))
    try:
        hint = " (simulated: type a code and Enter)" if config.scanner.kind == "sim" else ""
        out(f"  scanner: scan any barcode within {timeout:g} s{hint}")
        if on_started is not None:
            on_started(scanner)
        done.wait(timeout)
        last = next((f"{s}: {d}" for s, d in reversed(states) if s != "connected"), "")
    finally:
        scanner.stop()
    if got:
        out(f"  scanner: read {got[0]!r} ({len(got[0])} characters)")
        return 0
    out(f"  scanner: FAILED: no scan within {timeout:g} s" + (f" (last state {last})" if last else ""))
    return 1
