"""The device-file printer (usblp): status before printing, and no hang on a stuck printer."""

from __future__ import annotations

import fcntl
import os
import struct

import pytest
from sample_receipts import ticket

from drivers.errors import DeviceError
from drivers.printer import lp
from drivers.printer.factory import open_printer


def test_a_printer_that_takes_no_data_times_out_instead_of_hanging(tmp_path):
    fifo = tmp_path / "lp0"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # connected, but never reads
    try:
        fcntl.fcntl(reader, 1031, 4096)  # F_SETPIPE_SZ: a small printer buffer
        states: list = []
        printer = open_printer("file", device=str(fifo), timeout_seconds=0.3,
                               on_state=lambda s, d: states.append((s, d)))
        with pytest.raises(DeviceError, match="took no data for 0.3 s"):
            printer.print_document(ticket(200))
        assert printer.state == "offline"
    finally:
        os.close(reader)


def test_missing_device_file_is_never_created(tmp_path):
    path = tmp_path / "lp0"
    printer = open_printer("file", device=str(path))
    with pytest.raises(DeviceError, match="cannot reach"):
        printer.print_document(ticket(1))
    assert not path.exists()


@pytest.mark.parametrize("status, state", [
    (lp.LP_PSELECD | lp.LP_PERRORP | lp.LP_POUTPA, "paper_out"),
    (lp.LP_PERRORP, "offline"),
    (lp.LP_PSELECD, "error"),
])
def test_usblp_status_refuses_the_receipt(tmp_path, monkeypatch, status, state):
    path = tmp_path / "lp0"
    path.write_bytes(b"")
    monkeypatch.setattr(lp.fcntl, "ioctl", lambda fd, req, arg: struct.pack("i", status))
    printer = open_printer("file", device=str(path))
    with pytest.raises(DeviceError):
        printer.print_document(ticket(1))
    assert printer.state == state and path.read_bytes() == b""
    monkeypatch.setattr(lp.fcntl, "ioctl",
                        lambda fd, req, arg: struct.pack("i", lp.LP_PSELECD | lp.LP_PERRORP))
    printer.print_document(ticket(1))
    assert printer.state == "ready" and b"Bakkerij" in path.read_bytes()


def test_a_regular_file_gets_every_job_appended(tmp_path):
    """Kind `file` onto a regular file (a receipt spool): the second job goes after the
    first, and what was in the file before stays."""
    path = tmp_path / "receipts.bin"
    path.write_bytes(b"earlier\n")
    printer = open_printer("file", device=str(path))
    first, second = ticket(1), ticket(3)
    printer.print_document(first)
    printer.print_document(second)
    assert path.read_bytes() == b"earlier\n" + printer.render(first) + printer.render(second)


def test_a_character_device_is_written_as_before(tmp_path):
    """A device file (here /dev/null, a character device like /dev/usb/lp0) is not opened
    for appending; a regular file is."""
    device = lp.LpFile("/dev/null")
    device.open()
    try:
        assert not device.appending
    finally:
        device.close()
    (tmp_path / "spool").write_bytes(b"")
    spool = lp.LpFile(str(tmp_path / "spool"))
    spool.open()
    try:
        assert spool.appending
    finally:
        spool.close()
    assert not spool.appending
