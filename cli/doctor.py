"""`kassa doctor`: what peripherals this terminal has, whether the till may use them, and a
live test of each configured one (pulse the drawer, print a test page, wait for one scan).

Every problem is printed with what fixes it: the group to join or the udev rule to install
(provisioning/udev/99-kassa.rules). Exit status 0 only when every test passed.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cli.wiring import PortPrinter

Out = Callable[[str], None]
TESTS = ("printer", "drawer", "scanner")


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
    problems = list_hardware(config, out, roots, access)
    if not test:
        return 1 if problems else 0
    failures = run_tests(config, out, skip=skip, scan_timeout=scan_timeout,
                         on_scanner_started=on_scanner_started)
    out("all tests passed" if not failures else f"{failures} test(s) failed")
    return 1 if failures else 0


def list_hardware(config: Any, out: Out, roots: dict[str, str],
                  access: Callable[[str, int], bool]) -> int:
    """Prints what is attached; returns the number of permission problems found."""
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
    if s.kind == "evdev" and not wanted:
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
    return problems


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
              on_scanner_started: Callable[[Any], None] | None = None) -> int:
    """Tests each configured device, each built on its own through the wiring (a printer that
    cannot be set up does not keep the drawer and scanner from being tested); returns the
    number of failures."""
    from cli import wiring
    from firmware.ports import DeviceError

    failures = 0
    printer: PortPrinter | None = None
    out("tests:")
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
            out(f"  printer: test page sent ({config.printer.kind}); check accents, € and QR")
        except DeviceError as exc:
            failures += 1
            out(f"  printer: FAILED: {exc}")
    elif "printer" not in skip and config.printer.kind == "none":
        out("  printer: none configured")
    if "drawer" not in skip:
        failures += _test_drawer(config, printer, out)
    if "scanner" not in skip:
        failures += _test_scanner(config, out, scan_timeout, on_scanner_started)
    if printer is not None:
        printer.close()
    return failures


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
                  on_started: Callable[[Any], None] | None) -> int:
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
