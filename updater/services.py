"""The process-manager seam: how the updater restarts the till and the uplink from the
`current` slot and learns that the new till is READY.

In production that is systemd (`SystemdServices`): the units run `current`'s kassa, the till
unit is Type=notify, so "active" means the till sent READY=1. On a laptop, in the tests and
the benchmark, `kassa update supervise` (updater/supervisor.py) plays systemd's part for the
two processes, and `SupervisorServices` talks to it through a control directory.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Protocol

UNITS = ("kassa-till.service", "kassa-uplink.service")


class ServiceError(Exception):
    """The process manager did not do what was asked: `action`, `detail`."""

    def __init__(self, action: str, detail: str) -> None:
        super().__init__(f"{action}: {detail}")
        self.action, self.detail = action, detail


class Services(Protocol):
    def restart(self) -> float:
        """Restarts the till and the uplink from `current`; returns when they were started
        (epoch seconds)."""

    def till_ready(self, since: float) -> bool:
        """The till started at or after `since` has said READY and still runs."""


class SystemdServices:
    def __init__(self, units: tuple[str, ...] = UNITS, systemctl: str = "systemctl") -> None:
        self.units, self.systemctl = units, systemctl

    def restart(self) -> float:
        started = time.time()
        done = subprocess.run([self.systemctl, "restart", "--no-block", *self.units],
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise ServiceError("restart", done.stderr.strip() or f"exit {done.returncode}")
        return started

    def till_ready(self, since: float) -> bool:
        done = subprocess.run([self.systemctl, "show", self.units[0], "-p", "ActiveState",
                               "-p", "ActiveEnterTimestampMonotonic"],
                              capture_output=True, text=True, timeout=30)
        facts = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
        if facts.get("ActiveState") != "active":
            return False
        entered = int(facts.get("ActiveEnterTimestampMonotonic", "0") or 0) / 1e6
        return entered >= time.monotonic() - (time.time() - since)


class SupervisorServices:
    """Talks to `kassa update supervise` through files in its control directory: a restart
    request (a number) and the supervisor's answers (restart.done, till.ready)."""

    def __init__(self, control: Path, timeout: float = 60) -> None:
        self.control, self.timeout = control, timeout

    def restart(self) -> float:
        request = time.time_ns()
        tmp = self.control / "restart.request.tmp"
        tmp.write_text(str(request))
        tmp.replace(self.control / "restart.request")
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            done = _read_json(self.control / "restart.done")
            if done and done.get("request") == request:
                return float(done["started"])
            time.sleep(0.02)
        raise ServiceError("restart", f"the supervisor in {self.control} did not answer")

    def till_ready(self, since: float) -> bool:
        ready = _read_json(self.control / "till.ready")
        return bool(ready) and float(ready.get("at", 0)) >= since and bool(ready.get("running"))


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
