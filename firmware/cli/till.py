"""`kassa till`: the touchscreen till (Kivy) with the configured drivers, or simulated ones.

This is the composition root for the kiosk: config -> drivers -> till service -> UI. Kivy is
imported only inside the handler, after the window size and kiosk settings are made.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("till", help="start the touchscreen till (Kivy kiosk)")
    parser.add_argument("--sim", action="store_true",
                        help="simulated scanner, printer and drawer whatever the config says")
    parser.add_argument("--demo", action="store_true",
                        help="create demo users (PIN 1111, manager 9999) and a catalogue if empty")
    parser.add_argument("--windowed", action="store_true", help="a window instead of fullscreen")
    parser.add_argument("--size", default="", help="window size WxH, e.g. 1280x800")
    parser.add_argument("--language", choices=("nl", "en"), help="screen language (default: config)")
    parser.add_argument("--scanner-stdin", action="store_true",
                        help="with the simulated scanner: read codes typed on this terminal")
    parser.set_defaults(handler=run)


@dataclass
class Devices:
    scanner: Any = None
    printer: Any = None
    drawer: Any = None


def parse_size(text: str, default: tuple[int, int]) -> tuple[int, int]:
    if not text:
        return default
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"kassa till: --size {text!r} is not WIDTHxHEIGHT, e.g. 800x480") from None
    if width < 320 or height < 240:
        raise SystemExit(f"kassa till: --size {text!r} is smaller than 320x240")
    return width, height


def sim_devices(config: Any, *, scanner_stdin: bool = False) -> Devices:
    """Simulated hardware: previews under var/printer, a drawer with a sensor, an injectable
    scanner. Used by `--sim`, the UI tests and the benchmarks."""
    from drivers.drawer.sim import SimDrawer
    from drivers.printer.sim import SimPrinter
    from drivers.scanner.sim import SimScanner

    return Devices(
        scanner=SimScanner(stdin=scanner_stdin),
        printer=SimPrinter(config.var_dir, columns=config.printer.columns),
        drawer=SimDrawer(pulse_ms=config.drawer.pulse_ms,
                         open_alert_seconds=config.drawer.open_alert_seconds),
    )


def configured_devices(config: Any) -> Devices:
    """The drivers the config names, through the shared wiring."""
    from firmware.cli import wiring

    return Devices(**{k: v for k, v in vars(wiring.build_devices(config)).items()
                      if k in ("scanner", "printer", "drawer")})


class _Drawer:
    """Translates the drivers' DeviceError into the core's (drivers import nothing from firmware)."""

    def __init__(self, drawer: Any) -> None:
        self._drawer = drawer

    def open(self) -> None:
        from drivers.errors import DeviceError as DriverError
        from firmware.ports import DeviceError

        try:
            self._drawer.open()
        except DriverError as exc:
            raise DeviceError(str(exc)) from exc

    @property
    def state(self) -> str:
        return self._drawer.state

    def close(self) -> None:
        self._drawer.close()


def build_app(config: Any, devices: Devices, *, language: str | None = None, kiosk: bool = True,
              demo: bool = False) -> Any:
    """The till service wired to the devices and the Kivy app around it (kivy must be set up)."""
    from firmware.print_queue import PrintQueue
    from firmware.runtime import build_till
    from ui.app import Hardware, KassaApp

    holder: list[Any] = []
    queue = PrintQueue(devices.printer, on_job=lambda job: holder and holder[0].print_job_update(job))
    drawer = _Drawer(devices.drawer) if devices.drawer is not None else None
    till = build_till(config, drawer=drawer, print_queue=queue)
    if demo:
        from firmware.sim import ensure_demo_data

        ensure_demo_data(till)
    app = KassaApp(till, Hardware(devices.scanner, devices.printer, devices.drawer),
                   language=language, kiosk=kiosk)
    holder.append(app)
    return app


def run(args: argparse.Namespace) -> int:
    from firmware.config import load_config
    from ui.kivy_setup import configure_kivy

    config = load_config(args.config)
    fullscreen = config.ui.fullscreen and not args.windowed
    width, height = parse_size(args.size, (config.ui.width, config.ui.height))
    configure_kivy(fullscreen, width, height, config.ui.show_cursor)
    if args.sim or all(kind == "sim" for kind in (config.scanner.kind, config.printer.kind,
                                                   config.drawer.kind)):
        devices = sim_devices(config, scanner_stdin=args.scanner_stdin)
    else:
        try:
            devices = configured_devices(config)
        except ImportError as exc:
            print(f"kassa till: real drivers need firmware/cli/wiring.py ({exc}); use --sim",
                  file=sys.stderr)
            return 2
    app = build_app(config, devices, language=args.language, demo=args.demo)
    app.run()
    app.till.print_queue.wait_idle(5)
    return 0
