"""Prints receipts from a queue on its own thread, so the cashier never waits on paper.

A failed print (paper out, cover open, printer gone) is reported and kept for reprint; the
sale it belongs to is already committed and is never touched by a printer fault.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from firmware.ports import DeviceError, Printer

log = logging.getLogger(__name__)


@dataclass
class PrintJob:
    """One document to print. `document` may be a function that builds it: it is then built
    on the queue's thread, after the commit, off the cashier's critical path."""

    seq: int
    document: dict[str, Any] | Callable[[], dict[str, Any]]
    state: str = "queued"  # queued | printing | printed | failed
    error: str = ""


class PrintQueue:
    def __init__(self, printer: Printer | None, on_job: Callable[[PrintJob], None] | None = None) -> None:
        self.printer = printer
        self.on_job = on_job or (lambda job: None)
        self.failed: dict[int, PrintJob] = {}
        self._queue: queue.Queue[PrintJob | None] = queue.Queue()
        self._idle = threading.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._run, name="print-queue", daemon=True)
        self._thread.start()

    def submit(self, seq: int,
               document: dict[str, Any] | Callable[[], dict[str, Any]]) -> PrintJob:
        job = PrintJob(seq, document)
        self._idle.clear()
        self._queue.put(job)
        self.on_job(job)
        return job

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            self._print(job)
            if self._queue.empty():
                self._idle.set()

    def _print(self, job: PrintJob) -> None:
        if self.printer is None:
            job.state, job.error = "failed", "no printer configured"
            self.failed[job.seq] = job
            self.on_job(job)
            return
        job.state = "printing"
        self.on_job(job)
        try:
            if callable(job.document):  # built here, once (a reprint of a failed job reuses it)
                job.document = job.document()
            self.printer.print_document(job.document)
        except DeviceError as exc:
            job.state, job.error = "failed", str(exc)
        except Exception as exc:  # a driver bug must never take the till down
            log.exception("printer driver failed")
            job.state, job.error = "failed", f"printer error: {exc}"
        else:
            job.state = "printed"
            self.failed.pop(job.seq, None)
        if job.state == "failed":
            self.failed[job.seq] = job
        self.on_job(job)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        return self._idle.wait(timeout)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)
