"""A real TCP socket printer on loopback: bytes arrive, status is honoured, faults never crash."""

from __future__ import annotations

import socket

import pytest
from fake_printer_server import PrinterServer
from sample_receipts import ticket

from drivers.errors import DeviceError
from drivers.printer.factory import open_printer


@pytest.fixture
def server(request):
    srv = PrinterServer(getattr(request, "param", "ok"))
    yield srv
    srv.close()


def network(port: int, states: list | None = None):
    on_state = (lambda s, d: states.append((s, d))) if states is not None else None
    kwargs = {"on_state": on_state} if on_state else {}
    return open_printer("network", host="127.0.0.1", port=port, profile="TM-T88III",
                        timeout_seconds=2, **kwargs)


def wait_jobs(server: PrinterServer, n: int) -> None:
    import time

    deadline = time.monotonic() + 5
    while len(server.jobs) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(server.jobs) >= n


def test_receipt_bytes_arrive_after_status_checks(server):
    printer = network(server.port)
    expected = printer.render(ticket(5))
    printer.print_document(ticket(5))
    wait_jobs(server, 1)
    job = server.jobs[0]
    assert job.startswith(b"\x10\x04\x02\x10\x04\x04")  # cover/paper asked first
    assert job[6:].startswith(expected) and job.endswith(b"\x10\x04\x01")
    assert printer.state == "ready"
    printer.print_document(ticket(1))  # a new connection per job
    wait_jobs(server, 2)
    printer.close()


@pytest.mark.parametrize("server, state", [("paper_out", "paper_out"),
                                           ("cover_open", "cover_open")], indirect=["server"])
def test_paper_out_and_cover_open_refuse_the_receipt(server, state):
    states: list = []
    printer = network(server.port, states)
    with pytest.raises(DeviceError, match="paper|cover"):
        printer.print_document(ticket(2))
    wait_jobs(server, 1)
    assert b"Bakkerij" not in server.jobs[0]  # nothing printed onto no paper
    assert printer.state == state and states[-1][0] == state
    server.behaviour = "ok"  # paper loaded
    assert printer.refresh_state() == "ready"
    printer.print_document(ticket(2))
    assert states[-1] == ("ready", "")


@pytest.mark.parametrize("server", ["die"], indirect=True)
def test_printer_that_hangs_up_mid_receipt_is_a_device_error(server):
    states: list = []
    printer = network(server.port, states)
    with pytest.raises(DeviceError, match="printer"):
        printer.print_document(ticket(30))
    assert printer.state == "offline" and states[-1][0] == "offline"
    server.behaviour = "ok"  # back after a reboot: the next job reconnects
    printer.print_document(ticket(1))
    assert printer.state == "ready"


@pytest.mark.parametrize("server", ["mute"], indirect=True)
def test_printer_without_status_support_still_prints(server):
    printer = network(server.port)
    printer._status_timeout = 0.1
    printer.print_document(ticket(2))
    printer.print_document(ticket(2))
    wait_jobs(server, 2)
    assert b"Bakkerij" in server.jobs[0] and b"Bakkerij" in server.jobs[1]
    assert server.jobs[1].count(b"\x10\x04") == 0  # stopped asking after the first silence


def test_nobody_listening_is_offline_not_a_crash():
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    states: list = []
    printer = network(port, states)
    with pytest.raises(DeviceError, match="cannot reach the printer .*127.0.0.1"):
        printer.print_document(ticket(1))
    assert states == [("offline", states[0][1])]
    with pytest.raises(DeviceError):
        printer.send_raw(b"\x1bp\x00\x32\x32")


def test_file_printer_writes_and_reports_a_missing_device(tmp_path):
    path = tmp_path / "lp0"
    path.write_bytes(b"")  # the device node
    printer = open_printer("file", device=str(path), profile="TM-T88III")
    printer.print_document(ticket(1))
    assert path.read_bytes() == printer.render(ticket(1))
    gone = open_printer("file", device=str(tmp_path / "nope" / "lp0"))
    with pytest.raises(DeviceError, match="cannot reach"):
        gone.print_document(ticket(1))
    assert gone.state == "offline"


def test_usb_without_ids_and_unknown_kind_are_clear_errors():
    with pytest.raises(DeviceError, match="vendor_id and product_id"):
        open_printer("usb")
    with pytest.raises(DeviceError, match="unknown printer kind 'laser'"):
        open_printer("laser")
