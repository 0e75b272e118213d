"""A simulated scanner: codes injected by tests or typed on a terminal, delivered like the
real one (from the scanner's own thread), plus simulated unplug and replug."""

from __future__ import annotations

import logging
import queue
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from drivers.errors import StateCallback, no_state

log = logging.getLogger(__name__)


class SimScanner:
    """Satisfies firmware.ports.Scanner."""

    def __init__(self, *, on_state: StateCallback = no_state, stdin: bool = False,
                 stream: TextIO | None = None) -> None:
        self._on_state = on_state
        self._stream = stream if stream is not None else (sys.stdin if stdin else None)
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._state = "disconnected"
        self._threads: list[threading.Thread] = []
        self._on_code: Callable[[str], None] = lambda code: None
        self._stopped = threading.Event()

    @property
    def state(self) -> str:
        return self._state

    def start(self, on_code: Callable[[str], None]) -> None:
        self._on_code = on_code
        self._stopped.clear()
        worker = threading.Thread(target=self._deliver_loop, name="scanner-sim", daemon=True)
        worker.start()
        self._threads = [worker]
        self._set_state("connected", "simulated scanner")
        if self._stream is not None:
            reader = threading.Thread(target=self._read_stream, name="scanner-stdin", daemon=True)
            reader.start()  # not joined on stop: a blocked readline cannot be interrupted

    def inject(self, code: str) -> None:
        """A scan, as if read by the device; ignored while unplugged, like real hardware."""
        if self._state == "connected":
            self._queue.put(code)

    def unplug(self) -> None:
        self._set_state("disconnected", "the scanner was unplugged (simulated)")

    def replug(self) -> None:
        self._set_state("connected", "simulated scanner")

    def stop(self) -> None:
        self._stopped.set()
        self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        self._set_state("disconnected", "stopped")

    def _deliver_loop(self) -> None:
        while True:
            code = self._queue.get()
            if code is None:
                return
            try:
                self._on_code(code)
            except Exception:
                log.exception("handling scanned code failed")

    def _read_stream(self) -> None:
        assert self._stream is not None
        for line in self._stream:
            if self._stopped.is_set():
                return
            code = line.strip()
            if code:
                self.inject(code)

    def _set_state(self, state: str, detail: str) -> None:
        if state == self._state:
            return
        self._state = state
        try:
            self._on_state(state, detail)
        except Exception:
            log.exception("scanner state listener failed")
