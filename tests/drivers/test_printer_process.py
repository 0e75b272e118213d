"""The printer in a print process of its own (drivers/printer/remote.py, serve.py): the same
bytes as the in-process driver, its state reports and typed errors with their parameters, a
dead child replaced, and a till process that prints without ever importing python-escpos."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sample_receipts import ticket

from cli import wiring
from contract.config import parse_config
from firmware import ports

ROOT = Path(__file__).resolve().parents[2]


def config(tmp_path, text: str = ""):
    return parse_config(text, "kassa.toml", var_dir=str(tmp_path))


def test_simulated_printer_in_its_process_writes_the_same_bytes(tmp_path):
    states: list = []
    local = tmp_path / "local"
    remote_dir = tmp_path / "remote"
    devices, sims = wiring.build_simulated(config(remote_dir), lambda *a: states.append(a),
                                           printer_process=True)
    inline, _ = wiring.build_simulated(config(local))
    try:
        devices.printer.ready()
        for n in (1, 2):
            devices.printer.print_document(ticket(n))
            inline.printer.print_document(ticket(n))
        for n in (1, 2):
            got = (remote_dir / "printer" / f"receipt-{n}.bin").read_bytes()
            assert got == (local / "printer" / f"receipt-{n}.bin").read_bytes()
            assert len(got) > 200
        sims.printer.simulate("paper_out")
        with pytest.raises(ports.DeviceError, match="out of paper") as raised:
            devices.printer.print_document(ticket(3))
        assert type(raised.value) is ports.PaperOut and raised.value.state == "paper_out"
        assert ("printer", "paper_out", "the printer is out of paper: load a new roll") in states
        sims.printer.simulate("")
        devices.printer.print_document(ticket(3))
        assert (remote_dir / "printer" / "receipt-3.bin").exists()
        devices.drawer.open()
    finally:
        devices.close()
        inline.close()


def test_printer_kick_drawer_goes_through_the_print_process(tmp_path):
    out = tmp_path / "lp0"
    out.write_bytes(b"")
    cfg = config(tmp_path, f'[printer]\nkind = "file"\ndevice = "{out}"\n'
                 '[drawer]\nkind = "printer"\nkick_pin = 5\npulse_ms = 100\n')
    printer = wiring.build_printer(cfg, own_process=True)
    drawer = wiring.build_drawer(cfg, printer)
    try:
        drawer.open()
        assert out.read_bytes() == b"\x1bp\x01\x32\x64"
    finally:
        printer.close()


def test_settings_the_driver_refuses_arrive_typed_with_their_parameters(tmp_path):
    printer = wiring.build_printer(
        config(tmp_path, '[printer]\nprofile = "NT-5890K"\ncolumns = 48\n'), own_process=True)
    try:
        with pytest.raises(ports.SettingRejected, match="cannot print 48 columns") as raised:
            printer.ready()
        assert raised.value.params["setting"] == "printer.columns"
    finally:
        printer.close()


def test_a_print_process_that_dies_fails_the_job_and_is_started_again(tmp_path):
    states: list = []
    printer = wiring.build_printer(config(tmp_path, '[printer]\nkind = "sim"\n'),
                                   lambda *a: states.append(a), own_process=True)
    try:
        printer.ready()
        first = printer.driver.pid
        os.kill(first, signal.SIGKILL)
        with pytest.raises(ports.PrinterOffline, match="print process stopped"):
            printer.print_document(ticket(1))
        printer.print_document(ticket(1))
        assert printer.driver.pid not in (None, first)
        assert (tmp_path / "printer" / "receipt-1.bin").exists()
    finally:
        printer.close()
    assert printer.driver.pid is None


def test_a_print_process_that_cannot_start_is_a_typed_device_error(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python"))
    with pytest.raises(ports.PrinterOffline, match="cannot start the print process"):
        wiring.build_printer(config(tmp_path, '[printer]\nkind = "sim"\n'), own_process=True)


def test_the_till_process_prints_without_importing_escpos(tmp_path):
    """The till's screen process as `kassa till --sim` wires it: a sale printed, and neither
    python-escpos nor PIL, qrcode or python-barcode loaded in it."""
    script = textwrap.dedent(f"""
        import sys
        from cli.till import StateRelay, open_peripherals
        from contract.config import Config
        from sample_receipts import ticket
        relay = StateRelay()
        devices = open_peripherals(Config(var_dir={str(tmp_path)!r}), relay, sim=True)
        devices.printer.ready()
        devices.printer.print_document(ticket(1))
        devices.close()
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in
                        ("escpos", "PIL", "qrcode", "barcode", "yaml", "usb"))
        print("LOADED", loaded)
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join((str(ROOT), str(ROOT / "tests/drivers"))))
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "LOADED []" in proc.stdout
    assert (tmp_path / "printer" / "receipt-1.bin").stat().st_size > 200
