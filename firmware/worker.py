"""One long-lived thread that runs blocking calls in order, off the UI thread.

A new thread per call (the PIN terminal's request blocks, so it cannot run on the UI
thread) costs each call a new SQLite connection: the database's connections are per
thread, and a new one is opened, set up (pragmas) and reads the schema before its first
statement, on the payment's critical path. The worker keeps its thread, and so its
connection, between calls; after `idle_seconds` without work it ends and `on_exit` runs on
it (to close that thread's connection); the next call starts it again.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, name: str, idle_seconds: float = 300.0,
                 on_exit: Callable[[], None] | None = None) -> None:
        if idle_seconds <= 0:
            raise ValueError(f"idle_seconds must be positive, not {idle_seconds!r}")
        self.name, self.idle_seconds, self._on_exit = name, idle_seconds, on_exit
        self._calls: queue.Queue[Callable[[], None]] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        with self._lock:
            return self._thread is not None

    def submit(self, call: Callable[[], None]) -> None:
        """Runs `call` on the worker's thread after the calls submitted before it. An
        exception it raises is logged; the worker carries on."""
        with self._lock:
            self._calls.put(call)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                call = self._calls.get(timeout=self.idle_seconds)
            except queue.Empty:
                with self._lock:
                    if self._calls.empty():
                        self._thread = None
                        break
                continue
            try:
                call()
            except Exception:
                log.exception("%s: a background call failed", self.name)
        if self._on_exit is not None:
            try:
                self._on_exit()
            except Exception:
                log.exception("%s: cleaning up on exit failed", self.name)
