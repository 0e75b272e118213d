"""Builds a printer of a given kind from plain keyword arguments (the wiring passes config)."""

from __future__ import annotations

import os

from escpos.escpos import Escpos
from escpos.printer import Dummy, Network

from drivers.errors import SettingRejected, StateCallback, no_state
from drivers.printer.escpos_printer import EscposPrinter, check_profile
from drivers.printer.lp import LpFile
from drivers.printer.sim import SimPrinter

KINDS = ("usb", "network", "file", "dummy", "sim")


def open_printer(kind: str, *, on_state: StateCallback = no_state, profile: str = "default",
                 columns: int = 42, code_page: str = "", vendor_id: int = 0, product_id: int = 0,
                 host: str = "", port: int = 9100, device: str = "/dev/usb/lp0",
                 timeout_seconds: float = 5, var_dir: str | os.PathLike[str] = "var"
                 ) -> EscposPrinter | SimPrinter:
    """A printer of `kind`; nothing is opened yet (the first job opens the link)."""
    check_profile(profile)
    common = dict(profile=profile, columns=columns, code_page=code_page, on_state=on_state)
    if kind == "sim":
        return SimPrinter(var_dir, **common)  # type: ignore[arg-type]
    if kind == "dummy":
        dummy = Dummy(profile=profile)
        printer = EscposPrinter(lambda: dummy, name="dummy printer", keep_open=True, **common)
        printer.dummy = dummy  # type: ignore[attr-defined]
        return printer
    if kind == "network":
        if not host:
            raise SettingRejected("printer.host", "a network printer needs a host")
        return EscposPrinter(
            lambda: Network(host, port, timeout=timeout_seconds, profile=profile),
            name=f"network printer {host}:{port}", query_status=True, **common)
    if kind == "file":
        return EscposPrinter(lambda: LpFile(device, timeout=timeout_seconds, profile=profile),
                             name=f"printer {device}", **common)
    if kind == "usb":
        if not (vendor_id and product_id):
            raise SettingRejected("printer.vendor_id",
                                  "a USB printer needs vendor_id and product_id (see `lsusb`)")
        return EscposPrinter(
            lambda: _usb(vendor_id, product_id, timeout_seconds, profile),
            name=f"USB printer {vendor_id:04x}:{product_id:04x}", keep_open=True,
            query_status=True, **common)
    raise SettingRejected("printer.kind", f"unknown printer kind {kind!r} (known: {', '.join(KINDS)})")


def _usb(vendor_id: int, product_id: int, timeout_seconds: float, profile: str) -> Escpos:
    """A USB printer with its bulk endpoints read from the device (they differ per model)."""
    from escpos.printer import Usb

    printer = Usb(vendor_id, product_id, timeout=int(timeout_seconds * 1000), profile=profile)
    printer.open()
    _use_device_endpoints(printer)
    return printer


def _use_device_endpoints(printer: Escpos) -> None:
    import usb.util

    try:
        interface = printer.device.get_active_configuration()[(0, 0)]
    except Exception:  # keep escpos' defaults when the descriptor cannot be read
        return
    for endpoint in interface:
        if usb.util.endpoint_type(endpoint.bmAttributes) != usb.util.ENDPOINT_TYPE_BULK:
            continue
        if usb.util.endpoint_direction(endpoint.bEndpointAddress) == usb.util.ENDPOINT_OUT:
            printer.out_ep = endpoint.bEndpointAddress
        else:
            printer.in_ep = endpoint.bEndpointAddress
