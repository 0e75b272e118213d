"""The errors drivers raise: a small tree of types that carry what went wrong as attributes.

Modelled on gpiozero's exc.py: code that must tell cases apart (the printer's state, the
wiring's translation into firmware.ports errors, the UI's texts) branches on the type and
reads the attributes, never the message. str() stays an English sentence with the fix, for
the log, `kassa doctor` and head office's terminals page.

drivers/ imports nothing from firmware, so these are its own types; the composition root
(cli/wiring.py) translates them into firmware.ports' DeviceError subclasses for the till.
"""

from __future__ import annotations

from collections.abc import Callable

StateCallback = Callable[[str, str], None]
"""on_state(state, detail): a device reports a state change (detail is human-readable)."""


class DeviceError(Exception):
    """A device refused or failed an operation (the base of every driver error)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SettingRejected(DeviceError):
    """A configured value the driver cannot use (a pulse length, a profile, a layout...)."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(message)
        self.setting = setting


class PermissionDenied(DeviceError):
    """The till's user may not open the device; `fix` names the group or udev rule."""

    def __init__(self, device: str, fix: str, message: str = "") -> None:
        super().__init__(message or f"permission denied on {device}: {fix}")
        self.device, self.fix = device, fix


class BackendMissing(DeviceError):
    """A library the device needs is not installed (lgpio, libusb)."""

    def __init__(self, backend: str, fix: str, message: str = "") -> None:
        super().__init__(message or f"{backend} is missing - {fix}")
        self.backend, self.fix = backend, fix


class DeviceNotFound(DeviceError):
    """The configured device is not attached (or vanished while opening it)."""

    def __init__(self, device: str, message: str = "") -> None:
        super().__init__(message or f"no device found at {device}: is it plugged in?")
        self.device = device


class DeviceBusy(DeviceError):
    """Another program holds the device."""

    def __init__(self, device: str, message: str = "") -> None:
        super().__init__(message or f"{device} is in use by another program")
        self.device = device


class DeviceClosed(DeviceError):
    """The driver was closed; it takes no more work."""

    def __init__(self, device: str) -> None:
        super().__init__(f"the {device} driver is closed")
        self.device = device


# --- GPIO --------------------------------------------------------------------------------

class PinUnavailable(DeviceBusy):
    """A GPIO pin is already used by another device or program."""

    def __init__(self, pin: int, role: str, reason: str = "") -> None:
        super().__init__(f"GPIO{pin}", f"GPIO{pin} ({role}) is already in use by another device "
                         f"or program{': ' + reason if reason else ''}; choose another pin in "
                         "[drawer] or stop the other user")
        self.pin, self.role = pin, role


class PinFailed(DeviceError):
    """A GPIO pin could not be set up or switched, for a reason the pin library gives."""

    def __init__(self, pin: int, role: str, reason: str) -> None:
        super().__init__(f"cannot use GPIO{pin} for the {role}: {reason}; check that no other "
                         "program uses it and that the till user may use /dev/gpiochip*")
        self.pin, self.role, self.reason = pin, role, reason


# --- drawer ------------------------------------------------------------------------------

class DrawerFailed(DeviceError):
    """The drawer was not pulsed open (the relay could not be switched, a simulated fault)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DrawerKickFailed(DrawerFailed):
    """The printer refused the drawer kick; `cause` is the printer's own error."""

    def __init__(self, cause: DeviceError) -> None:
        super().__init__(f"could not kick the drawer through the printer: {cause}")
        self.cause = cause


# --- printer -----------------------------------------------------------------------------

class PrinterProblem(DeviceError):
    """A printer fault; `state` is the printer state it puts the printer in."""

    state = "error"


class PaperOut(PrinterProblem):
    state = "paper_out"

    def __init__(self) -> None:
        super().__init__("the printer is out of paper: load a new roll")


class CoverOpen(PrinterProblem):
    state = "cover_open"

    def __init__(self) -> None:
        super().__init__("the printer cover is open: close it")


class PrinterFault(PrinterProblem):
    """The printer itself reports an error (cutter jam, overheating...)."""

    state = "error"

    def __init__(self, message: str = "the printer reports an error: switch it off and on") -> None:
        super().__init__(message)


class PrinterOffline(PrinterProblem):
    """The printer cannot be reached or stopped answering; `detail` says how."""

    state = "offline"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class PrinterPermissionDenied(PermissionDenied, PrinterProblem):
    state = "error"


class PrinterBackendMissing(BackendMissing, PrinterProblem):
    state = "error"


def no_state(state: str, detail: str) -> None:
    """The default on_state: a driver always has someone to tell, even if nobody listens."""
