"""Runs N ingest workers as separate processes and restarts any that dies.

Separate processes, not threads: a worker killed (or crashing) mid-batch takes nothing else
with it, and the workers use both cores for signature checks. Each is started through head
office's own entry, `python -m headoffice.ingest.worker_main`, not through the command line.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time

from headoffice.ingest.worker_main import CONFIG_ERROR, WorkerSpec

WORKER_MODULE = "headoffice.ingest.worker_main"

log = logging.getLogger("kassa.office.ingest")


class WorkerConfigError(RuntimeError):
    """A worker exited with CONFIG_ERROR: it cannot start as configured (its own stderr
    says why), so restarting it would only fail again."""

    def __init__(self, index: int, client_id: str) -> None:
        super().__init__(f"ingest worker {index} ({client_id}) cannot start as configured; "
                         "every worker stopped")
        self.index, self.client_id = index, client_id


def supervise(workers: list[WorkerSpec], stop: threading.Event,
              restart_delay: float = 0.5) -> int:
    """Keeps one process running per spec; returns the number of restarts once `stop` is set.

    A worker that exits with CONFIG_ERROR cannot start as configured (a bad TLS file): it
    would only fail again, so the supervisor stops every worker and raises WorkerConfigError."""
    worker_args = [spec.to_args() for spec in workers]
    procs: list[subprocess.Popen | None] = [None] * len(worker_args)
    restarts = 0
    try:
        while not stop.is_set():
            for index, args in enumerate(worker_args):
                proc = procs[index]
                if proc is not None and proc.poll() is None:
                    continue
                if proc is not None and proc.returncode == CONFIG_ERROR:
                    raise WorkerConfigError(index, workers[index].client_id)
                if proc is not None:
                    restarts += 1
                    log.error("ingest worker %d exited with %s; restarting", index, proc.returncode)
                    time.sleep(restart_delay)
                procs[index] = subprocess.Popen([sys.executable, "-m", WORKER_MODULE, *args])
                log.info("ingest worker %d started (pid %d)", index, procs[index].pid)
            stop.wait(0.2)
    finally:
        for proc in procs:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            if proc is not None:
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
    return restarts
