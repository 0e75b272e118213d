"""`kassa till`: the touchscreen till (Kivy) with the configured drivers, or simulated ones.

This is the composition root for the kiosk: config -> drivers -> till service -> UI. Kivy is
imported only inside the handler, after the window size and kiosk settings are made.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from firmware.ports import Peripherals

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
    parser.add_argument("--headless", action="store_true",
                        help="no screen and no devices: journal, READY, status (tests, bench)")
    parser.set_defaults(handler=run)


class StateRelay:
    """The wiring's on_state(device, state, detail), called on driver threads before and after
    the till exists: it keeps each device's last report and forwards to the till's runtime
    once attached (drivers are built before the till they report to)."""

    def __init__(self) -> None:
        self.last: dict[str, tuple[str, str]] = {}
        self._target: Callable[[str, str, str], None] | None = None
        self._lock = threading.Lock()

    def __call__(self, device: str, state: str, detail: str) -> None:
        with self._lock:
            self.last[device] = (state, detail)
            target = self._target
        if target is not None:
            target(device, state, detail)

    def attach(self, target: Callable[[str, str, str], None]) -> None:
        with self._lock:
            self._target = target
            earlier = list(self.last.items())
        for device, (state, detail) in earlier:
            target(device, state, detail)


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


def open_peripherals(config: Any, relay: StateRelay, *, sim: bool = False,
                     scanner_stdin: bool = False) -> Peripherals:
    """The devices the config names (all simulated with `sim`), through the shared wiring;
    their state reports go to the relay (and from there to the till's runtime). The printer
    driver runs in a print process of its own, so the screen's process never loads escpos."""
    from cli import wiring

    if sim:
        return wiring.build_simulated(config, relay, scanner_stdin=scanner_stdin,
                                      printer_process=True)[0]
    return wiring.build_peripherals(config, relay, scanner_stdin=scanner_stdin,
                                    printer_process=True)


def build_app(config: Any, peripherals: Peripherals, relay: StateRelay | None = None, *,
              language: str | None = None, kiosk: bool = True, demo: bool = False) -> Any:
    """The till service and its runtime on the peripherals, and the Kivy app around them (kivy
    must be set up). Device reports that reach `relay` become the till's 'device' events."""
    # peewee imports psycopg2 when it is installed (head office needs it); the till only
    # speaks SQLite, and libpq with its TLS stack costs ~7 MB of resident memory here.
    sys.modules.setdefault("psycopg2", None)  # type: ignore[arg-type]
    logging.getLogger("peewee").setLevel(logging.WARNING)  # no SQL in the till's log
    from cli.assemble import build_till
    from firmware.device_state import Recorder
    from firmware.print_queue import PrintQueue
    from firmware.runtime import TillRuntime
    from ui.app import KassaApp

    holder: list[Any] = []
    queue = PrintQueue(peripherals.printer,
                       on_job=lambda job: holder and holder[0].print_job_update(job))
    till = build_till(config, drawer=peripherals.drawer, print_queue=queue)
    from cli.payment_wiring import build_terminal

    build_terminal(config, till)  # [payment]: Pin through the terminal; kind none leaves it typed
    if demo:
        from firmware.sim import ensure_demo_data

        ensure_demo_data(till, shop=True)  # weighed goods and a loyalty card too
    # device states also go to the database, where the uplink reads them for `status`
    till.subscribe(Recorder(till.db).till_event)
    runtime = TillRuntime(till, peripherals)
    app = KassaApp(runtime, language=language, kiosk=kiosk)
    holder.append(app)
    if relay is not None:
        relay.attach(runtime.device_report)
    ready = getattr(peripherals.printer, "ready", None)
    if ready is not None:  # a print process checks its settings while the above was built
        ready()
    return app


def run(args: argparse.Namespace) -> int:
    from contract.config import load_config, require_own_identity

    config = load_config(args.config)
    if args.headless:
        from cli.till_headless import run_headless

        return run_headless(config)
    if not (args.demo or args.sim):  # a real till prints the shop's own legal identity
        require_own_identity(config)
    from cli.assemble import window_settings
    from ui.kivy_setup import configure_kivy

    window = window_settings(config)  # head office's config may have changed them
    fullscreen = window.fullscreen and not args.windowed
    width, height = parse_size(args.size, (window.width, window.height))
    configure_kivy(fullscreen, width, height, window.show_cursor)
    from firmware.ports import DeviceError

    relay = StateRelay()
    try:
        peripherals = open_peripherals(config, relay, sim=args.sim,
                                       scanner_stdin=args.scanner_stdin)
    except DeviceError as exc:
        print(f"kassa till: a device could not be set up: {exc} (see docs/peripherals.md; "
              "--sim runs on simulated hardware)", file=sys.stderr)
        return 2
    try:
        app = build_app(config, peripherals, relay, language=args.language, demo=args.demo)
    except DeviceError as exc:
        peripherals.close()
        print(f"kassa till: a device could not be set up: {exc} (see docs/peripherals.md; "
              "--sim runs on simulated hardware)", file=sys.stderr)
        return 2
    try:
        app.run()
        app.till.print_queue.wait_idle(5)
    finally:
        app.runtime.close()
    return 0
