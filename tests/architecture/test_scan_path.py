"""One scanned barcode, traced call by call: evdev driver -> till runtime -> till service ->
sales service -> kernel, and never back into a module of ours that the call already left.

A profiler hook records, for every call into one of our modules, the chain of our modules on
that thread's stack (consecutive frames of one module count once). The scan is fed to the
real evdev scanner driver as the kernel sends it (EV_MSC/EV_KEY/EV_SYN reports), handed
over to the "UI thread" through a clock like Kivy's, and sold onto the ticket.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from cli.assemble import build_till
from drivers.scanner.evdev_scanner import EvdevScanner
from drivers.scanner.replay import ReplayDevice, key_events
from firmware.ports import Peripherals
from firmware.runtime import TillRuntime
from firmware.sim import ensure_demo_data, make_gtin
from tests.fixtures_till import make_config

OURS = frozenset({"contract", "firmware", "drivers", "ui", "cli", "headoffice", "provisioning"})


def our_module(frame: FrameType) -> str | None:
    name = frame.f_globals.get("__name__", "")
    return name if name.split(".")[0] in OURS else None


class ChainRecorder:
    """A sys/threading profile hook: for each call into our code, (thread, module chain)."""

    def __init__(self) -> None:
        self.chains: list[tuple[str, tuple[str, ...]]] = []

    def __call__(self, frame: FrameType, event: str, _arg: Any) -> None:
        if event != "call" or our_module(frame) is None:
            return
        chain: list[str] = []
        walker: FrameType | None = frame
        while walker is not None:
            module = our_module(walker)
            if module is not None and (not chain or chain[-1] != module):
                chain.append(module)
            walker = walker.f_back
        self.chains.append((threading.current_thread().name, tuple(reversed(chain))))


class QueuedClock:
    """Stands in for Kivy's Clock: callbacks wait until the UI thread's turn (run())."""

    def __init__(self) -> None:
        self.pending: list[Callable[[float], None]] = []
        self.ready = threading.Event()

    def schedule_once(self, callback: Callable[[float], None], timeout: float = 0) -> None:
        self.pending.append(callback)
        self.ready.set()

    def run(self) -> None:
        pending, self.pending = self.pending, []
        for callback in pending:
            callback(0.0)


def test_a_scan_goes_driver_runtime_service_kernel_without_turning_back(tmp_path: Path) -> None:
    till = build_till(make_config(tmp_path))
    ensure_demo_data(till, products=5)
    till.login("1111")
    device = ReplayDevice("Honeywell Scanner")
    scanner = EvdevScanner(open_device=lambda: device, on_state=lambda _s, _d: None)
    runtime = TillRuntime(till, Peripherals(scanner=scanner))
    clock, recorder = QueuedClock(), ChainRecorder()

    threading.setprofile(recorder)
    sys.setprofile(recorder)
    try:
        runtime.start(clock)
        device.push_reports(key_events(make_gtin(1)))
        assert clock.ready.wait(5), "the scanner never handed the code over"
        clock.run()  # the UI thread's turn: the code reaches the till
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
        runtime.close()
    assert [line.name for line in till.ticket.active_lines] == ["Brood 1"]

    turned_back = {chain for _thread, chain in recorder.chains if len(set(chain)) != len(chain)}
    assert not turned_back, f"a call returned into a module it had left: {sorted(turned_back)}"

    scanner_side = [chain for thread, chain in recorder.chains if thread == "scanner"]
    handover = max((c for c in scanner_side if "firmware.runtime" in c), key=len)
    assert handover == ("drivers.scanner.evdev_scanner", "firmware.runtime"), handover

    ui_side = [chain for thread, chain in recorder.chains if thread == threading.main_thread().name]
    to_kernel = [c for c in ui_side if c and c[0] == "firmware.runtime" and "firmware.kernel" in c]
    assert to_kernel, "the scan never reached the kernel"
    first = min(to_kernel, key=len)
    assert first[:4] == ("firmware.runtime", "firmware.till", "firmware.sales",
                         "firmware.kernel"), first
    assert not any(module.startswith("ui.") for _thread, chain in recorder.chains
                   for module in chain), "a scan passed through ui/"
