"""Config -> driver objects: the one place that knows both the config and the drivers.

Each driver gets plain keyword arguments from its config section (drivers never import
firmware). The objects handed back satisfy firmware.ports and raise firmware.ports.DeviceError:
the drivers' own DeviceError is translated here. Kind `sim` everywhere needs no hardware;
kind `none` gives None.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from contract.config import Config
from firmware.ports import DeviceError, StateCallback

DeviceStateCallback = Callable[[str, str, str], None]
"""on_state(device, state, detail) with device 'printer', 'drawer' or 'scanner'."""


@contextmanager
def _translated() -> Iterator[None]:
    from drivers.errors import DeviceError as DriverError

    try:
        yield
    except DriverError as exc:
        raise DeviceError(str(exc)) from exc


class PrinterAdapter:
    """A driver printer seen through firmware.ports.Printer."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver

    @property
    def state(self) -> str:
        return self.driver.state

    def print_document(self, document: dict[str, Any]) -> None:
        with _translated():
            self.driver.print_document(document)

    def send_raw(self, data: bytes) -> None:
        with _translated():
            self.driver.send_raw(data)

    def refresh_state(self) -> str:
        with _translated():
            return self.driver.refresh_state()

    def close(self) -> None:
        self.driver.close()

    def __getattr__(self, name: str) -> Any:  # simulate(), directory, dummy ... of the driver
        return getattr(self.driver, name)


class DrawerAdapter:
    """A driver drawer seen through firmware.ports.Drawer."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver

    @property
    def state(self) -> str:
        return self.driver.state

    def open(self) -> None:
        with _translated():
            self.driver.open()

    def close(self) -> None:
        self.driver.close()

    def __getattr__(self, name: str) -> Any:  # push_closed(), pulses ... of the simulator
        return getattr(self.driver, name)


def _quiet(state: str, detail: str) -> None:
    """Nobody listening."""


def build_printer(config: Config, on_state: StateCallback | None = None) -> PrinterAdapter | None:
    p = config.printer
    if p.kind == "none":
        return None
    from drivers.printer.factory import open_printer

    with _translated():
        driver = open_printer(
            p.kind, on_state=on_state or _quiet, profile=p.profile, columns=p.columns,
            code_page=p.code_page, vendor_id=p.vendor_id, product_id=p.product_id, host=p.host,
            port=p.port, device=p.device, timeout_seconds=p.timeout_seconds,
            var_dir=config.var_dir)
    return PrinterAdapter(driver)


def build_drawer(config: Config, printer: Any = None,
                 on_state: StateCallback | None = None) -> DrawerAdapter | None:
    d = config.drawer
    if d.kind == "none":
        return None
    on_state = on_state or _quiet
    with _translated():
        if d.kind == "sim":
            from drivers.drawer.sim import SimDrawer

            driver: Any = SimDrawer(pulse_ms=d.pulse_ms, debounce_ms=d.debounce_ms,
                                    open_alert_seconds=d.open_alert_seconds, on_state=on_state)
        elif d.kind == "printer":
            from drivers.drawer.printer_kick import PrinterKickDrawer

            if printer is None:
                raise DeviceError("[drawer] kind 'printer' needs a [printer] (kind is 'none')")
            raw = printer.driver if isinstance(printer, PrinterAdapter) else printer
            driver = PrinterKickDrawer(raw, pin=d.kick_pin, pulse_ms=d.pulse_ms)
        else:
            from drivers.drawer.gpio import GpioDrawer

            driver = GpioDrawer(d.pin, active_high=d.active_high, pulse_ms=d.pulse_ms,
                                sensor_pin=d.sensor_pin,
                                sensor_open_when_high=d.sensor_open_when_high,
                                debounce_ms=d.debounce_ms,
                                open_alert_seconds=d.open_alert_seconds, on_state=on_state)
    return DrawerAdapter(driver)


def build_scanner(config: Config, on_state: StateCallback | None = None, *,
                  stdin: bool = False) -> Any:
    s = config.scanner
    if s.kind == "none":
        return None
    with _translated():
        if s.kind == "sim":
            from drivers.scanner.sim import SimScanner

            return SimScanner(on_state=on_state or _quiet, stdin=stdin)
        from drivers.scanner.evdev_scanner import EvdevScanner

        return EvdevScanner(path=s.path, name=s.name, vendor_id=s.vendor_id,
                            product_id=s.product_id, layout=s.layout, suffix_key=s.suffix_key,
                            gs_key=s.gs_key, timeout_ms=s.timeout_ms, on_state=on_state or _quiet)


@dataclass
class Devices:
    printer: Any = None
    drawer: Any = None
    scanner: Any = None

    def close(self) -> None:
        """Releases everything (scanner first: it may be mid-read)."""
        for device, method in ((self.scanner, "stop"), (self.drawer, "close"),
                               (self.printer, "close")):
            if device is not None:
                getattr(device, method)()


def build_devices(config: Config, on_state: DeviceStateCallback | None = None, *,
                  scanner_stdin: bool = False) -> Devices:
    """All three devices; a device that fails to build releases the ones already built."""
    def report(device: str) -> StateCallback | None:
        if on_state is None:
            return None
        return lambda state, detail: on_state(device, state, detail)

    devices = Devices()
    try:
        devices.printer = build_printer(config, report("printer"))
        devices.drawer = build_drawer(config, devices.printer, report("drawer"))
        devices.scanner = build_scanner(config, report("scanner"), stdin=scanner_stdin)
    except BaseException:
        devices.close()
        raise
    return devices
