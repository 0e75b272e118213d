"""`kassa update supervise`: systemd's part for the till and the uplink where there is no
systemd (a laptop, the tests, the update benchmark).

It runs `<root>/current/venv/bin/kassa till --headless` and `... uplink` (the slot the link
names at each start, as the units do), restarts either when it exits (Restart=always), hands
the till a NOTIFY_SOCKET and records its READY=1 (checked to come from the till's own pid),
and obeys restart requests from SupervisorServices (updater/services.py). Every stop, start
and READY is a line in events.log with the time, which the benchmark reads.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

RESTART_SECONDS = 0.5  # like RestartSec= of the units
STOP_SECONDS = 10  # like TimeoutStopSec=
SLOT_KASSA = "venv/bin/kassa"  # the command inside a release slot (its own virtual env)


class Supervisor:
    def __init__(self, root: Path, control: Path, config: str,
                 till_args: tuple[str, ...] = ("till", "--headless"),
                 uplink_args: tuple[str, ...] = ("uplink",)) -> None:
        self.root, self.control, self.config = root, control, config
        self.commands = {"till": till_args, "uplink": uplink_args}
        self.procs: dict[str, subprocess.Popen | None] = {"till": None, "uplink": None}
        self.started_at: dict[str, float] = {"till": 0.0, "uplink": 0.0}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        control.mkdir(parents=True, exist_ok=True)
        self.notify_path = control / "notify.sock"
        with contextlib.suppress(FileNotFoundError):
            self.notify_path.unlink()
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(str(self.notify_path))
        self.notify.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.notify.settimeout(0.2)
        self.events = open(control / "events.log", "a", buffering=1)  # noqa: SIM115

    def event(self, what: str, **facts: object) -> None:
        self.events.write(json.dumps({"at": time.time(), "event": what, **facts}) + "\n")

    def _write(self, name: str, data: dict) -> None:
        tmp = self.control / f"{name}.tmp"
        tmp.write_text(json.dumps(data))
        tmp.replace(self.control / name)

    def start(self, name: str) -> None:
        kassa = self.root / "current" / SLOT_KASSA
        env = dict(os.environ, NOTIFY_SOCKET=str(self.notify_path)) if name == "till" else None
        self.started_at[name] = time.time()
        try:
            self.procs[name] = subprocess.Popen([str(kassa), "--config", self.config,
                                                 *self.commands[name]], env=env,
                                                start_new_session=True)
        except OSError as exc:  # no `current` yet, or a slot without its launcher
            self.event("start_failed", service=name, detail=str(exc))
            return
        self.event("start", service=name, pid=self.procs[name].pid,
                   slot=os.path.realpath(self.root / "current"))

    def halt(self, name: str) -> None:
        proc = self.procs[name]
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.event("stopped", service=name, pid=proc.pid)
        self.procs[name] = None

    def restart_all(self, request: int) -> None:
        with self.lock:
            self._write("till.ready", {"at": 0, "running": False})
            for name in ("till", "uplink"):
                self.halt(name)
            started = time.time()
            for name in ("till", "uplink"):
                self.start(name)
            self._write("restart.done", {"request": request, "started": started})

    def _listen(self) -> None:
        size = struct.calcsize("3i")
        while not self.stop.is_set():
            try:
                data, ancillary, _flags, _addr = self.notify.recvmsg(4096, socket.CMSG_SPACE(size))
            except (TimeoutError, OSError):
                continue
            pid = next((struct.unpack("3i", cdata[:size])[0] for level, kind, cdata in ancillary
                        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS), None)
            with self.lock:
                till = self.procs["till"]
                if b"READY=1" in data and till is not None and pid == till.pid:
                    now = time.time()
                    self._write("till.ready", {"at": now, "running": True, "pid": pid})
                    self.event("ready", service="till", pid=pid)

    def run(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        listener = threading.Thread(target=self._listen, daemon=True)
        listener.start()
        seen = (self.control / "restart.request").read_text() if (
            self.control / "restart.request").exists() else ""
        with self.lock:
            self._write("till.ready", {"at": 0, "running": False})
            for name in ("till", "uplink"):
                self.start(name)
        try:
            while not self.stop.is_set():
                with contextlib.suppress(OSError):
                    request = (self.control / "restart.request").read_text()
                    if request and request != seen:
                        seen = request
                        self.restart_all(int(request))
                with self.lock:
                    for name, proc in self.procs.items():
                        if proc is not None and proc.poll() is not None:
                            self.event("exited", service=name, pid=proc.pid,
                                       code=proc.returncode)
                            if name == "till":
                                self._write("till.ready", {"at": 0, "running": False})
                            self.procs[name] = None
                        if self.procs[name] is None and not self.stop.is_set() and \
                                time.time() - self.started_at[name] >= RESTART_SECONDS:
                            self.start(name)
                time.sleep(0.05)
        finally:
            with self.lock:
                for name in ("till", "uplink"):
                    self.halt(name)
            self.notify.close()
            self.events.close()
