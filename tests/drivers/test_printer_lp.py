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
