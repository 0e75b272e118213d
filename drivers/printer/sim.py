"""A printer simulator: each receipt becomes var/printer/receipt-<n>.txt (readable) and .bin.

The .bin holds exactly the ESC/POS bytes a real printer would get, so a receipt can be
replayed to hardware (`cat receipt-7.bin > /dev/usb/lp0`). Faults can be simulated
(`simulate("paper_out")`) to exercise the till's reprint path on a laptop.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from escpos.printer import Dummy

from drivers.errors import (
    CoverOpen,
    PaperOut,
    PrinterFault,
    PrinterOffline,
    PrinterProblem,
    StateCallback,
    no_state,
)
from drivers.printer.escpos_printer import EscposPrinter
from drivers.printer.preview import preview

FAULTS: dict[str, Callable[[], PrinterProblem]] = {
    "paper_out": PaperOut,
    "cover_open": CoverOpen,
    "offline": lambda: PrinterOffline("cannot reach the printer (simulated) - check cable and power"),
    "error": lambda: PrinterFault("the printer reports an error (simulated)"),
}
_NUMBER = re.compile(r"receipt-(\d+)\.bin$")


class SimPrinter:
    """Satisfies firmware.ports.Printer without hardware."""

    def __init__(self, var_dir: str | os.PathLike[str], *, columns: int = 42,
                 profile: str = "TM-T88III", code_page: str = "",
                 on_state: StateCallback = no_state) -> None:
        self.columns = columns
        self._engine = EscposPrinter(lambda: Dummy(profile=profile), name="simulated printer",
                                     profile=profile, columns=columns, code_page=code_page)
        self.directory = Path(var_dir) / "printer"  # made once the settings are known to work
        self.directory.mkdir(parents=True, exist_ok=True)
        self._on_state = on_state
        self._state = "ready"
        self._fault = ""
        self._lock = threading.Lock()
        self._number = max((int(m.group(1)) for p in self.directory.iterdir()
                            if (m := _NUMBER.search(p.name))), default=0)
        self.kicks: list[bytes] = []
        self.last_receipt: Path | None = None  # the .txt of the last receipt, for `kassa doctor`

    @property
    def state(self) -> str:
        return self._state

    def simulate(self, fault: str) -> None:
        """Puts the simulated printer into a fault ('' clears it, as loading paper would)."""
        if fault and fault not in FAULTS:
            raise ValueError(f"unknown printer fault {fault!r} (known: {', '.join(FAULTS)})")
        self._fault = fault
        self._report(fault or "ready", str(FAULTS[fault]()) if fault else "")

    def print_document(self, document: dict[str, Any]) -> Path:
        data = self._engine.render(document)
        text = preview(document, self.columns, self._engine.cleaner)
        with self._lock:
            self._raise_fault()
            self._number += 1
            base = self.directory / f"receipt-{self._number}"
            _write(base.with_suffix(".bin"), data)
            _write(base.with_suffix(".txt"), text.encode("utf-8"))
            self.last_receipt = base.with_suffix(".txt")
        self._report("ready", "")
        return base.with_suffix(".txt")

    def send_raw(self, data: bytes) -> None:
        with self._lock:
            self._raise_fault()
            self.kicks.append(bytes(data))
            with open(self.directory / "raw.bin", "ab") as out:
                out.write(data)

    def refresh_state(self) -> str:
        return self._state

    def close(self) -> None:
        pass

    def _raise_fault(self) -> None:
        if self._fault:
            problem = FAULTS[self._fault]()
            self._report(problem.state, str(problem))
            raise problem

    def _report(self, state: str, detail: str) -> None:
        if state == self._state and not detail:
            return
        self._state = state
        self._on_state(state, detail)


def _write(path: Path, data: bytes) -> None:
    """Whole file or nothing: a preview is never seen half-written."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
