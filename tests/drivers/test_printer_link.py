"""EscposPrinter over a scripted escpos link: status answers, USB-style faults, endpoints."""

from __future__ import annotations

import errno
from types import SimpleNamespace

import pytest
from escpos.escpos import Escpos
from sample_receipts import ticket

from drivers.errors import DeviceError
from drivers.printer.escpos_printer import EscposPrinter
from drivers.printer.factory import _use_device_endpoints


class USBTimeoutError(Exception):
    """Stands in for usb.core.USBTimeoutError (matched by name, pyusb is optional)."""


class ScriptedLink(Escpos):
    """A printer link that answers each DLE EOT n from `answers` and can fail on write."""

    def __init__(self, answers: dict[int, object] | None = None, write_error=None) -> None:
        super().__init__(profile="TM-T88III")
        self.answers = answers or {}
        self.write_error = write_error
        self.sent = bytearray()
        self.last = 0
        self.opened = self.closed = 0

    def open(self) -> None:
        self.opened += 1
        self._device = True

    def close(self) -> None:
        self.closed += 1
        self._device = False

    def _raw(self, msg: bytes) -> None:
        if msg.startswith(b"\x10\x04"):
            self.last = msg[2]
            return
        if self.write_error:
            raise self.write_error
        self.sent += msg

    def _read(self) -> bytes:
        answer = self.answers.get(self.last, 0x12)
        if isinstance(answer, BaseException):
            raise answer
        return bytes([answer])


def usb_like(link: ScriptedLink, states: list) -> EscposPrinter:
    return EscposPrinter(lambda: link, name="USB printer 04b8:0202", profile="TM-T88III",
                         keep_open=True, query_status=True,
                         on_state=lambda s, d: states.append((s, d)))


def test_link_is_kept_open_across_jobs_and_near_end_still_prints():
    states: list = []
    link = ScriptedLink({4: 0x12 | 0x0C})  # paper near end
    printer = usb_like(link, states)
    printer.print_document(ticket(1))
    printer.print_document(ticket(1))
    assert link.opened == 1 and link.closed == 0
    assert link.sent.count(b"Bakkerij") == 2 and printer.state == "ready"


def test_printer_offline_after_the_bytes_is_a_failed_print():
    states: list = []
    link = ScriptedLink({1: 0x12 | 0x08})  # fine before printing, offline after the bytes
    printer = usb_like(link, states)
    with pytest.raises(DeviceError, match="went offline"):
        printer.print_document(ticket(1))
    assert printer.state == "offline"


def test_usb_status_timeout_means_no_status_support():
    states: list = []
    link = ScriptedLink({2: USBTimeoutError("timed out")})
    printer = usb_like(link, states)
    printer.print_document(ticket(1))
    assert b"Bakkerij" in link.sent and printer._query_status is False


@pytest.mark.parametrize("error, state, text", [
    (OSError(errno.ENOSPC, "No space left on device"), "paper_out", "out of paper"),
    (OSError(errno.EACCES, "Permission denied"), "error", "99-kassa.rules"),
    (OSError(errno.ENODEV, "No such device"), "offline", "check cable and power"),
    (OSError(errno.EIO, "Input/output error"), "offline", "stopped taking data"),
])
def test_write_faults_map_to_states_and_the_link_is_reopened(error, state, text):
    states: list = []
    link = ScriptedLink(write_error=error)
    printer = usb_like(link, states)
    with pytest.raises(DeviceError, match=text):
        printer.print_document(ticket(1))
    assert printer.state == state and states[-1][0] == state and link.closed == 1
    link.write_error = None
    printer.print_document(ticket(1))
    assert link.opened == 2 and printer.state == "ready"


def test_usb_endpoints_are_read_from_the_device():
    endpoints = [SimpleNamespace(bmAttributes=3, bEndpointAddress=0x83),  # interrupt: skipped
                 SimpleNamespace(bmAttributes=2, bEndpointAddress=0x03),
                 SimpleNamespace(bmAttributes=2, bEndpointAddress=0x81)]
    config = {(0, 0): endpoints}
    device = SimpleNamespace(get_active_configuration=lambda: config)
    printer = SimpleNamespace(device=device, in_ep=0x82, out_ep=0x01)
    _use_device_endpoints(printer)
    assert (printer.out_ep, printer.in_ep) == (0x03, 0x81)
