"""Config -> driver objects: the one place that knows both the config and the drivers, and the
only place that builds a till's Peripherals.

Each driver gets plain keyword arguments from its config section (drivers never import
firmware). The objects handed back satisfy firmware.ports and raise firmware.ports' DeviceError
subclasses: the drivers' typed errors (drivers/errors.py) are translated here, by type, with
their parameters. Kind `sim` everywhere needs no hardware; kind `none` gives None.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from contract.config import Config
from drivers import errors as driver_errors
from drivers.drawer.sim import SimDrawer
from drivers.scanner.sim import SimScanner
from firmware import ports
from firmware.ports import Peripherals, StateCallback

if TYPE_CHECKING:  # the hardware drivers are imported when a config asks for them
    from drivers.drawer.gpio import GpioDrawer
    from drivers.drawer.printer_kick import PrinterKickDrawer
    from drivers.printer.escpos_printer import EscposPrinter
    from drivers.printer.remote import RemotePrinter
    from drivers.printer.sim import SimPrinter
    from drivers.scanner.evdev_scanner import EvdevScanner

    DriverPrinter = EscposPrinter | SimPrinter | RemotePrinter
    DriverDrawer = GpioDrawer | PrinterKickDrawer | SimDrawer

DeviceStateCallback = Callable[[str, str, str], None]
"""on_state(device, state, detail) with device 'printer', 'drawer' or 'scanner'."""


def translate(exc: driver_errors.DeviceError) -> ports.DeviceError:
    """The till's typed DeviceError for a driver's typed error (most specific type first)."""
    detail = str(exc)
    if isinstance(exc, driver_errors.PaperOut):
        return ports.PaperOut(detail)
    if isinstance(exc, driver_errors.CoverOpen):
        return ports.CoverOpen(detail)
    if isinstance(exc, driver_errors.PrinterOffline):
        return ports.PrinterOffline(detail)
    if isinstance(exc, driver_errors.PermissionDenied):
        return ports.PermissionDenied(detail, device=exc.device)
    if isinstance(exc, driver_errors.BackendMissing):
        return ports.BackendMissing(detail, backend=exc.backend)
    if isinstance(exc, driver_errors.PrinterFault):
        return ports.PrinterError(detail)
    if isinstance(exc, driver_errors.PinUnavailable):
        return ports.PinUnavailable(detail, pin=exc.pin, device=exc.device)
    if isinstance(exc, driver_errors.DeviceBusy):
        return ports.DeviceBusy(detail, device=exc.device)
    if isinstance(exc, driver_errors.DeviceNotFound):
        return ports.DeviceNotFound(detail, device=exc.device)
    if isinstance(exc, driver_errors.SettingRejected):
        return ports.SettingRejected(detail, setting=exc.setting)
    if isinstance(exc, driver_errors.DrawerFailed):
        return ports.DrawerFailed(detail)
    return ports.DeviceFault(detail)


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except driver_errors.DeviceError as exc:
        raise translate(exc) from exc


class PortPrinter:
    """A driver printer seen through firmware.ports.Printer (errors translated)."""

    def __init__(self, driver: DriverPrinter) -> None:
        self.driver = driver

    @property
    def state(self) -> str:
        return self.driver.state

    def print_document(self, document: dict[str, Any]) -> None:
        with _translated():
            self.driver.print_document(document)

    def ready(self) -> None:
        """Waits until a printer in its own process has checked its settings (the driver's
        refusal arrives translated, as from build_printer); in-process drivers already have."""
        wait = getattr(self.driver, "wait_ready", None)
        if wait is not None:
            with _translated():
                wait()

    def close(self) -> None:
        self.driver.close()


class PortDrawer:
    """A driver drawer seen through firmware.ports.Drawer (errors translated)."""

    def __init__(self, driver: DriverDrawer) -> None:
        self.driver = driver

    @property
    def state(self) -> str:
        return self.driver.state

    def open(self) -> None:
        with _translated():
            self.driver.open()

    def close(self) -> None:
        self.driver.close()


def _quiet(state: str, detail: str) -> None:
    """Nobody listening."""


def build_printer(config: Config, on_state: StateCallback | None = None, *,
                  own_process: bool = False) -> PortPrinter | None:
    """The configured printer; with `own_process` its driver runs in a print process
    (drivers/printer/remote.py): the till's screen process then never loads python-escpos.
    The settings are then checked in that process: PortPrinter.ready() waits for the answer."""
    p = config.printer
    if p.kind == "none":
        return None
    settings: dict[str, Any] = dict(
        profile=p.profile, columns=p.columns, code_page=p.code_page, vendor_id=p.vendor_id,
        product_id=p.product_id, host=p.host, port=p.port, device=p.device,
        timeout_seconds=p.timeout_seconds, var_dir=str(config.var_dir))
    driver: DriverPrinter
    if own_process:
        from drivers.printer.remote import RemotePrinter

        with _translated():
            driver = RemotePrinter(p.kind, on_state=on_state or _quiet, **settings)
        return PortPrinter(driver)
    from drivers.printer.factory import open_printer

    with _translated():
        driver = open_printer(p.kind, on_state=on_state or _quiet, **settings)
    return PortPrinter(driver)


def build_drawer(config: Config, printer: PortPrinter | None = None,
                 on_state: StateCallback | None = None) -> PortDrawer | None:
    d = config.drawer
    if d.kind == "none":
        return None
    on_state = on_state or _quiet
    with _translated():
        driver: DriverDrawer
        if d.kind == "sim":
            driver = SimDrawer(pulse_ms=d.pulse_ms, debounce_ms=d.debounce_ms,
                               open_alert_seconds=d.open_alert_seconds, on_state=on_state)
        elif d.kind == "printer":
            from drivers.drawer.printer_kick import PrinterKickDrawer

            if printer is None:
                raise ports.SettingRejected(
                    "[drawer] kind 'printer' needs a [printer] (kind is 'none')", setting="drawer.kind")
            driver = PrinterKickDrawer(printer.driver, pin=d.kick_pin, pulse_ms=d.pulse_ms)
        else:
            from drivers.drawer.gpio import GpioDrawer

            driver = GpioDrawer(d.pin, active_high=d.active_high, pulse_ms=d.pulse_ms,
                                sensor_pin=d.sensor_pin,
                                sensor_open_when_high=d.sensor_open_when_high,
                                debounce_ms=d.debounce_ms,
                                open_alert_seconds=d.open_alert_seconds, on_state=on_state)
    return PortDrawer(driver)


def build_scanner(config: Config, on_state: StateCallback | None = None, *,
                  stdin: bool = False) -> EvdevScanner | SimScanner | None:
    s = config.scanner
    if s.kind == "none":
        return None
    with _translated():
        if s.kind == "sim":
            return SimScanner(on_state=on_state or _quiet, stdin=stdin)
        from drivers.scanner.evdev_scanner import EvdevScanner

        return EvdevScanner(path=s.path, name=s.name, vendor_id=s.vendor_id,
                            product_id=s.product_id, layout=s.layout, suffix_key=s.suffix_key,
                            gs_key=s.gs_key, timeout_ms=s.timeout_ms, on_state=on_state or _quiet)


def build_peripherals(config: Config, on_state: DeviceStateCallback | None = None, *,
                      scanner_stdin: bool = False, printer_process: bool = False) -> Peripherals:
    """All three devices; a device that fails to build releases the ones already built.
    `printer_process`: the printer driver in a process of its own (the till's screen)."""
    def report(device: str) -> StateCallback | None:
        if on_state is None:
            return None
        return lambda state, detail: on_state(device, state, detail)

    printer = drawer = None
    try:
        printer = build_printer(config, report("printer"), own_process=printer_process)
        drawer = build_drawer(config, printer, report("drawer"))
        scanner = build_scanner(config, report("scanner"), stdin=scanner_stdin)
    except BaseException:
        Peripherals(printer=printer, drawer=drawer).close()
        raise
    return Peripherals(printer=printer, drawer=drawer, scanner=scanner)


def simulated(config: Config) -> Config:
    """The same config with every device kind set to `sim` (`--sim`, tests, benchmarks)."""
    return dataclasses.replace(
        config, scanner=dataclasses.replace(config.scanner, kind="sim"),
        printer=dataclasses.replace(config.printer, kind="sim"),
        drawer=dataclasses.replace(config.drawer, kind="sim"))


@dataclass(frozen=True)
class Simulators:
    """The simulator drivers behind simulated Peripherals: what tests, benchmarks and a --sim
    till use to play the world (a scan, paper out, the drawer pushed shut). The till itself
    only ever sees the Peripherals."""

    printer: SimPrinter | RemotePrinter
    drawer: SimDrawer
    scanner: SimScanner


def build_simulated(config: Config, on_state: DeviceStateCallback | None = None, *,
                    scanner_stdin: bool = False, printer_process: bool = False
                    ) -> tuple[Peripherals, Simulators]:
    """Simulated hardware whatever the config says: previews under var/printer, a drawer with
    a sensor, an injectable scanner; and the simulators that drive them (with
    `printer_process`, the printer simulator runs in the print process and its `simulate`
    is passed on to it)."""
    peripherals = build_peripherals(simulated(config), on_state, scanner_stdin=scanner_stdin,
                                    printer_process=printer_process)
    printer, drawer, scanner = peripherals.printer, peripherals.drawer, peripherals.scanner
    if printer_process:
        from drivers.printer.remote import RemotePrinter as simulator
    else:  # only now: drivers.printer.sim imports python-escpos
        from drivers.printer.sim import SimPrinter as simulator  # type: ignore[assignment]
    if not (isinstance(printer, PortPrinter) and isinstance(printer.driver, simulator)
            and isinstance(drawer, PortDrawer) and isinstance(drawer.driver, SimDrawer)
            and isinstance(scanner, SimScanner)):
        peripherals.close()
        raise TypeError("build_peripherals did not build simulators for a simulated config")
    return peripherals, Simulators(printer=printer.driver, drawer=drawer.driver, scanner=scanner)
