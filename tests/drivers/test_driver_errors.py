"""Drivers raise typed errors with parameters and sort faults by type and errno, never by text."""

from __future__ import annotations

import errno
import re
from pathlib import Path

import pytest
from escpos.exceptions import DeviceNotFoundError
from usb.core import NoBackendError, USBError

from drivers import errors
from drivers.drawer.gpio import _claim
from drivers.printer import status as st
from drivers.printer.escpos_printer import _classify

ROOT = Path(__file__).resolve().parents[2]


def test_status_bytes_become_printer_problem_types():
    assert type(st.state_from_offline_cause(0x12 | 0x04)) is errors.CoverOpen
    assert type(st.state_from_offline_cause(0x12 | 0x20)) is errors.PaperOut
    assert type(st.state_from_offline_cause(0x12 | 0x40)) is errors.PrinterFault
    assert st.state_from_offline_cause(0x12) is None
    assert st.state_from_paper(0x12 | 0x60).state == "paper_out"


def _wrapped(cause: BaseException) -> DeviceNotFoundError:
    """What python-escpos raises: its own error, raised while handling pyusb's."""
    try:
        try:
            raise cause
        except USBError:
            raise DeviceNotFoundError("Unable to open USB printer on (1208, 514):\nsomething") from None
    except DeviceNotFoundError as exc:
        return exc


@pytest.mark.parametrize("exc, kind, state", [
    (OSError(errno.ENOSPC, "No space left on device"), errors.PaperOut, "paper_out"),
    (OSError(errno.EACCES, "Permission denied"), errors.PrinterPermissionDenied, "error"),
    (_wrapped(USBError("Access denied (insufficient permissions)", errno=errno.EACCES)),
     errors.PrinterPermissionDenied, "error"),
    (NoBackendError("No backend available"), errors.PrinterBackendMissing, "error"),
    (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), errors.PrinterOffline,
     "offline"),
    # the words alone decide nothing: a text that says "permission" is still just offline
    (RuntimeError("Permission denied, No backend available"), errors.PrinterOffline, "offline"),
])
def test_printer_link_failures_are_sorted_by_type_and_errno(exc, kind, state):
    problem = _classify(exc, "cannot reach the printer", "USB printer 04b8:0202")
    assert type(problem) is kind and problem.state == state
    assert kind is errors.PaperOut or "USB printer 04b8:0202" in str(problem)


def test_printer_permission_and_backend_carry_their_parameters():
    denied = _classify(OSError(errno.EPERM, "x"), "cannot reach the printer", "printer /dev/usb/lp0")
    assert denied.device == "printer /dev/usb/lp0" and "99-kassa.rules" in denied.fix
    missing = _classify(NoBackendError("x"), "cannot reach the printer", "USB printer")
    assert missing.backend == "libusb" and "libusb-1.0-0" in str(missing)


class LibraryError(Exception):
    """Like lgpio.error: a pin library's own exception with only a text."""


@pytest.mark.parametrize("raised, kind", [
    (OSError(errno.EBUSY, "Device or resource busy"), errors.PinUnavailable),
    (OSError(errno.EACCES, "Permission denied"), errors.PermissionDenied),
    (PermissionError(errno.EPERM, "Operation not permitted"), errors.PermissionDenied),
    (OSError(errno.EIO, "Input/output error"), errors.PinFailed),
    (LibraryError("GPIO busy"), errors.PinFailed),  # no guessing from the words
    (RuntimeError("permission"), errors.PinFailed),
])
def test_gpio_claim_failures_are_sorted_by_type_and_errno(raised, kind):
    def make():
        raise raised

    with pytest.raises(kind) as caught:
        _claim(make, 23, "drawer relay")
    assert "GPIO23" in str(caught.value)
    if kind is errors.PinUnavailable:
        assert (caught.value.pin, caught.value.role, caught.value.device) == (23, "drawer relay",
                                                                                "GPIO23")
    if kind is errors.PinFailed:
        assert caught.value.pin == 23 and caught.value.reason


def test_kick_failure_keeps_the_printer_error_as_its_cause():
    cause = errors.PaperOut()
    failed = errors.DrawerKickFailed(cause)
    assert isinstance(failed, errors.DrawerFailed) and failed.cause is cause
    assert str(failed) == "could not kick the drawer through the printer: " + str(cause)


def test_no_driver_branches_on_message_text():
    """`if "..." in str(exc)`, `str(exc).startswith(...)` and the like are gone from drivers/."""
    pattern = re.compile(r"""(["'][^"']*["']\s+(not\s+)?in\s+(str\(|text\b|message\b))"""
                         r"""|str\(\w+\)\.(startswith|endswith|lower|find)|text\.lower\(\)""")
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for path in sorted((ROOT / "drivers").rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if pattern.search(line)]
    assert found == []
