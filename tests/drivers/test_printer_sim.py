"""The simulated printer writes a readable preview and the exact bytes, and fakes faults."""

from __future__ import annotations

import pytest
from sample_receipts import ticket

from drivers.errors import DeviceError
from drivers.printer.factory import open_printer


def test_sim_writes_preview_and_bytes_numbered_across_restarts(tmp_path):
    printer = open_printer("sim", var_dir=tmp_path, profile="TM-T88III")
    printer.print_document(ticket(2))
    printer.print_document(ticket(3))
    directory = tmp_path / "printer"
    assert sorted(p.name for p in directory.iterdir()) == [
        "receipt-1.bin", "receipt-1.txt", "receipt-2.bin", "receipt-2.txt"]
    text = (directory / "receipt-2.txt").read_text(encoding="utf-8")
    assert "Crème brûlée 2" in text and "€ 3,95" in text
    assert (directory / "receipt-2.bin").read_bytes().startswith(b"\x1b@\x1bt\x13")
    again = open_printer("sim", var_dir=tmp_path)
    again.print_document(ticket(1))
    assert (directory / "receipt-3.txt").exists()


def test_sim_faults_report_and_refuse_then_recover(tmp_path):
    states: list = []
    printer = open_printer("sim", var_dir=tmp_path, on_state=lambda s, d: states.append((s, d)))
    printer.simulate("paper_out")
    with pytest.raises(DeviceError, match="out of paper"):
        printer.print_document(ticket(1))
    assert printer.state == "paper_out" and not list((tmp_path / "printer").glob("*.txt"))
    printer.simulate("")
    printer.print_document(ticket(1))
    assert states[0][0] == "paper_out" and states[-1][0] == "ready"
    with pytest.raises(ValueError, match="unknown printer fault 'jam'"):
        printer.simulate("jam")
