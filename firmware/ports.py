"""What the till needs from its hardware, as small Protocols the drivers satisfy structurally.

drivers/ never imports firmware: it only has to provide objects of these shapes. Everything
crossing this seam is plain Python data (str, int, dict, list), so a driver can be tested
alone and a simulator can stand in for any device.

Receipt documents (what a printer gets) are plain dicts, laid out by the core for the
printer's column width:

    {"columns": 42, "copy": False, "blocks": [block, ...]}

with blocks

    {"kind": "text", "text": str, "align": "left"|"center"|"right",
     "bold": bool, "double": bool}            one line, already at most `columns` wide
                                              (half that when double)
    {"kind": "rule"}                          a full-width separator line
    {"kind": "qr", "data": str}               a QR code
    {"kind": "feed", "lines": int}            blank lines
    {"kind": "cut"}                           cut the paper (last block)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

log = logging.getLogger(__name__)

DRAWER_STATES = ("open", "closed", "unknown", "open_too_long")
PRINTER_STATES = ("ready", "printing", "paper_out", "cover_open", "offline", "error")
SCANNER_STATES = ("connected", "disconnected", "error")

StateCallback = Callable[[str, str], None]
"""on_state(state, detail): a device reports a state change (detail is human-readable)."""


class DeviceError(Exception):
    """A device refused or failed an operation.

    Like the till's errors, each subclass has a `template`: the English text for the screen,
    with {name} placeholders filled from `params` (the UI translates the template by type and
    fills in the params). str() is the driver's own English sentence with the fix, for the
    log and `kassa doctor`; `params["detail"]` holds it too."""

    template: ClassVar[str] = "the device reports a fault"

    def __init__(self, detail: str = "", **params: Any) -> None:
        super().__init__(detail or self.template.format(**params))
        self.params: dict[str, Any] = {"detail": str(self), **params}


class DeviceFault(DeviceError):
    """Any other device failure (a closed driver, a malformed receipt document...)."""

    template = "the device reports a fault"


class SettingRejected(DeviceError):
    """A configured device setting the driver cannot use (params: setting, e.g. drawer.pulse_ms)."""

    template = "the device setting {setting} cannot be used: see the configuration"


class PermissionDenied(DeviceError):
    """The till's user may not open the device (params: device)."""

    template = "the till may not use {device}: the system administrator must give access"


class BackendMissing(DeviceError):
    """A library the device needs is missing (params: backend, e.g. lgpio or libusb)."""

    template = "the software library {backend} is missing on this till"


class DeviceNotFound(DeviceError):
    """The configured device is not attached (params: device)."""

    template = "{device} was not found: is it plugged in?"


class DeviceBusy(DeviceError):
    """Another program holds the device (params: device)."""

    template = "{device} is in use by another program"


class PinUnavailable(DeviceBusy):
    """A GPIO pin is already in use (params: pin, the BCM number; device)."""

    template = "GPIO pin {pin} is already in use"


class DrawerFailed(DeviceError):
    """The drawer was not pulsed open."""

    template = "the drawer did not open"


class PrinterError(DeviceError):
    """A printer fault; `state` is the printer state it stands for."""

    state: ClassVar[str] = "error"
    template = "the printer reports an error: switch it off and on"


class PaperOut(PrinterError):
    state = "paper_out"
    template = "the printer is out of paper: load a new roll"


class CoverOpen(PrinterError):
    state = "cover_open"
    template = "the printer cover is open: close it"


class PrinterOffline(PrinterError):
    """The printer cannot be reached or stopped answering (params: detail says how)."""

    state = "offline"
    template = "the printer cannot be reached: check the cable and the power"


@runtime_checkable
class Drawer(Protocol):
    """A cash drawer: pulsed open by the till, optionally reporting open/closed."""

    def open(self) -> None:
        """Pulse the drawer open. Raises DeviceError if the pulse cannot be given."""

    @property
    def state(self) -> str:
        """'open', 'closed' or 'unknown' (no sensor)."""

    def close(self) -> None:
        """Release the pins or port."""


@runtime_checkable
class Printer(Protocol):
    """A receipt printer that renders receipt documents (see module docstring)."""

    def print_document(self, document: dict[str, Any]) -> None:
        """Print one document; raises DeviceError (paper out, cover open, offline...)."""

    @property
    def state(self) -> str:
        """One of PRINTER_STATES."""

    def close(self) -> None:
        """Release the device."""


@runtime_checkable
class Scanner(Protocol):
    """A barcode scanner handing complete codes to a callback, from its own thread."""

    def start(self, on_code: Callable[[str], None]) -> None:
        """Begin reading; on_code(code) is called from the scanner's thread per scan."""

    def stop(self) -> None:
        """Stop reading and release the device."""

    @property
    def state(self) -> str:
        """One of SCANNER_STATES."""


PAYMENT_RESULTS = ("approved", "declined", "cancelled", "aborted", "in_progress", "not_found",
                   "failed")


@runtime_checkable
class PaymentTerminal(Protocol):
    """A PIN terminal (drivers/payment: Adyen Terminal API or its simulator).

    Outcomes are plain dicts: {"result": one of PAYMENT_RESULTS, "reason", "service_id",
    "transaction_ref", "amount" (cents), "psp_reference", "poi_transaction_id", "brand",
    "masked_pan", "receipt": [cardholder lines], "merchant_receipt": [lines]}. Any OSError
    means "no answer": the outcome is unknown and must be asked for with status()."""

    def pay(self, amount_cents: int, service_id: str, transaction_ref: str) -> dict[str, Any]:
        """Asks the shopper to pay; blocks until the terminal answers (or its timeout)."""

    def status(self, service_id: str, category: str = "Payment") -> dict[str, Any]:
        """What became of the payment (category "Reversal": the refund) sent with service_id
        (TransactionStatus)."""

    def abort(self, service_id: str) -> None:
        """Asks the terminal to stop the payment sent with service_id."""

    def refund(self, service_id: str, poi_transaction_id: str, amount_cents: int) -> dict[str, Any]:
        """A referenced refund back to the original payment (its POITransactionID)."""

    def totals(self) -> dict[str, Any]:
        """The terminal's own totals of its open period: {"result", "reason", "brands":
        {brand: {"count", "amount" (cents, refunds subtracted)}}} (nexo GetTotals)."""

    def reconcile(self) -> dict[str, Any]:
        """Closes the terminal's period (nexo Reconciliation), after the Z."""

    def close(self) -> None:
        """Release the connection."""


@dataclass(frozen=True)
class Peripherals:
    """The one set of devices a till has; built only by the composition root (cli/wiring.py).
    None is a device the config leaves out (kind "none")."""

    printer: Printer | None = None
    drawer: Drawer | None = None
    scanner: Scanner | None = None

    def close(self) -> None:
        """Releases everything (scanner first: it may be mid-read); one failure does not keep
        the others open."""
        steps: tuple[tuple[str, Callable[[], None] | None], ...] = (
            ("scanner", self.scanner.stop if self.scanner else None),
            ("drawer", self.drawer.close if self.drawer else None),
            ("printer", self.printer.close if self.printer else None))
        for name, release in steps:
            if release is not None:
                try:
                    release()
                except Exception:
                    log.exception("releasing the %s failed", name)
