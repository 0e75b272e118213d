"""The evdev scanner thread fed by a fake device yielding kernel-shaped event streams."""

from __future__ import annotations

import errno
import os
import threading
import time

import pytest
from fake_input_device import FakeInputDevice
from scanner_events import Clock, typed

from drivers.errors import DeviceError
from drivers.scanner.discovery import list_inputs, matching
from drivers.scanner.evdev_scanner import EvdevScanner, ScannerNotFound, find_device
from drivers.scanner.sim import SimScanner


class Recorder:
    def __init__(self) -> None:
        self.codes: list[str] = []
        self.states: list[tuple[str, str]] = []
        self._cond = threading.Condition()

    def code(self, code: str) -> None:
        with self._cond:
            self.codes.append(code)
            self._cond.notify_all()

    def state(self, state: str, detail: str) -> None:
        with self._cond:
            self.states.append((state, detail))
            self._cond.notify_all()

    def wait(self, predicate, timeout: float = 5) -> None:
        with self._cond:
            assert self._cond.wait_for(predicate, timeout), (self.codes, self.states)


class Opener:
    """Hands out devices (or raises) in order, like plug events over time."""

    def __init__(self, *outcomes) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def scanner(opener, rec: Recorder, **kwargs) -> EvdevScanner:
    kwargs.setdefault("backoff_s", 0.01)
    return EvdevScanner(open_device=opener, on_state=rec.state, **kwargs)


def test_scan_is_decoded_and_handed_over_from_the_scanner_thread():
    rec, device = Recorder(), FakeInputDevice()
    threads = []
    s = scanner(Opener(device), rec)
    s.start(lambda code: (threads.append(threading.current_thread().name), rec.code(code)))
    rec.wait(lambda: rec.states)
    assert device.grabbed and s.state == "connected"
    device.push_reports(typed("8712345678906"))
    device.push_reports(typed("Ab-1/%"))
    rec.wait(lambda: len(rec.codes) == 2)
    assert rec.codes == ["8712345678906", "Ab-1/%"] and threads == ["scanner", "scanner"]
    s.stop()
    assert device.closed.is_set() and s.state == "disconnected"


def test_layout_is_applied():
    rec, device = Recorder(), FakeInputDevice()
    s = scanner(Opener(device), rec, layout="fr")
    s.start(rec.code)
    device.push_reports(typed("Azerty-12", "fr"))
    rec.wait(lambda: rec.codes)
    assert rec.codes == ["Azerty-12"]
    s.stop()


def test_partial_code_is_dropped_after_the_timeout_by_the_wall_clock():
    rec, device = Recorder(), FakeInputDevice()
    s = scanner(Opener(device), rec, timeout_ms=100)
    s.start(rec.code)
    clock = Clock()  # timestamps run on without a gap: only the reader's own clock sees it
    device.push_reports(typed("8712", clock=clock, end=None))
    time.sleep(0.4)
    device.push_reports(typed("4006381333931", clock=clock))
    rec.wait(lambda: rec.codes)
    assert rec.codes == ["4006381333931"] and s.dropped == 1
    s.stop()


def test_mid_code_unplug_then_replug_reconnects_and_reports_state():
    rec = Recorder()
    first, second = FakeInputDevice(), FakeInputDevice()
    opener = Opener(first, ScannerNotFound("no scanner found: is it plugged in?"),
                    FileNotFoundError(errno.ENOENT, "gone"), second)
    s = scanner(opener, rec)
    s.start(rec.code)
    rec.wait(lambda: rec.states == [("connected", "Honeywell Scanner")])
    clock = Clock()
    first.push_reports(typed("8712", clock=clock, end=None))
    first.unplug()
    rec.wait(lambda: rec.states[-1][0] == "connected" and len(rec.states) > 1)
    second.push_reports(typed("345", clock=clock))  # straight on: no time-out gap
    rec.wait(lambda: rec.codes)
    assert rec.codes == ["345"]  # the half scan from before the unplug is gone
    names = [state for state, _ in rec.states]
    assert names[0] == "connected" and names[-1] == "connected"
    assert ("disconnected", "the scanner was unplugged") in rec.states
    assert "disconnected" in names[1:-1] and opener.calls == 4
    assert first.closed.is_set() and second.grabbed
    s.stop()


def test_permission_problem_is_an_error_naming_the_fix_and_is_retried():
    rec, device = Recorder(), FakeInputDevice()
    s = scanner(Opener(PermissionError(errno.EACCES, "Permission denied",
                                       "/dev/input/event7"), device), rec)
    s.start(rec.code)
    rec.wait(lambda: rec.states and rec.states[-1][0] == "connected")
    state, detail = rec.states[0]
    assert state == "error" and "group 'kassa'" in detail and "99-kassa.rules" in detail
    s.stop()


def test_scanner_grabbed_by_another_program_is_an_error():
    rec, device = Recorder(), FakeInputDevice()
    device.grab_error = OSError(errno.EBUSY, "Device or resource busy")
    s = scanner(Opener(device), rec)
    s.start(rec.code)
    rec.wait(lambda: rec.states)
    assert rec.states[0][0] == "error" and "grabbed" in rec.states[0][1]
    s.stop()


def test_a_failing_code_handler_does_not_stop_the_scanner():
    rec, device = Recorder(), FakeInputDevice()

    def handler(code: str) -> None:
        if code == "1":
            raise RuntimeError("till bug")
        rec.code(code)

    s = scanner(Opener(device), rec)
    s.start(handler)
    device.push_reports(typed("1") + typed("2"))
    rec.wait(lambda: rec.codes)
    assert rec.codes == ["2"]
    s.stop()


def test_bad_configuration_is_a_clear_error():
    with pytest.raises(DeviceError, match="needs a path"):
        EvdevScanner()
    with pytest.raises(DeviceError, match="unknown keyboard layout 'se'"):
        EvdevScanner(path="/dev/input/event0", layout="se")


def test_discovery_through_sysfs_and_by_id_links(tmp_path):
    dev, sys_dir = tmp_path / "dev", tmp_path / "sys"
    (dev / "by-id").mkdir(parents=True)
    for n, name, vendor, product in ((0, "Power Button", "0000", "0001"),
                                     (3, "Honeywell Imaging & Mobility 1900", "0c2e", "0b61"),
                                     (4, "Honeywell Imaging & Mobility 1900 Consumer", "0c2e",
                                      "0b61")):
        (dev / f"event{n}").write_bytes(b"")
        ids = sys_dir / f"event{n}" / "device" / "id"
        ids.mkdir(parents=True)
        (ids.parent / "name").write_text(name + "\n")
        (ids / "vendor").write_text(vendor + "\n")
        (ids / "product").write_text(product + "\n")
    link = dev / "by-id" / "usb-Honeywell_1900-event-kbd"
    os.symlink("../event3", link)
    inputs = list_inputs(str(dev), str(sys_dir))
    assert [i.name for i in inputs][0] == "Power Button"
    assert inputs[1].by_id == (str(link),) and inputs[1].vendor_id == 0x0C2E
    assert [i.path for i in matching(inputs, path=str(link))] == [str(dev / "event3")]
    assert len(matching(inputs, vendor_id=0x0C2E, product_id=0x0B61)) == 2
    assert [i.name for i in matching(inputs, name="Honeywell Imaging & Mobility 1900")] == [
        "Honeywell Imaging & Mobility 1900"]
    assert matching(inputs, name="Zebra") == []
    with pytest.raises(ScannerNotFound, match="USB id 05e0:1200: is it plugged in"):
        find_device(vendor_id=0x05E0, product_id=0x1200, input_dir=str(dev),
                    sys_dir=str(sys_dir))


def test_sim_scanner_injects_from_its_thread_and_reads_a_stream():
    import io

    rec = Recorder()
    sim = SimScanner(on_state=rec.state, stream=io.StringIO("4006381333931\n\n  871234 \n"))
    sim.start(rec.code)
    rec.wait(lambda: len(rec.codes) == 2)
    sim.inject("X1")
    rec.wait(lambda: len(rec.codes) == 3)
    sim.unplug()
    sim.inject("lost")
    sim.replug()
    sim.inject("X2")
    rec.wait(lambda: len(rec.codes) == 4)
    sim.stop()
    assert rec.codes == ["4006381333931", "871234", "X1", "X2"]
    assert [s for s, _ in rec.states] == ["connected", "disconnected", "connected", "disconnected"]
