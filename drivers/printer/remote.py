"""A receipt printer run in a small process of its own, so that the till's screen process never
loads python-escpos and what it brings (PIL, qrcode, python-barcode, PyYAML, pyusb: ~145
modules, ~5 MB resident in a process that already holds the whole UI).

The child (`python -m drivers.printer.serve`) builds exactly the driver `open_printer` builds
from the same settings and answers one request at a time over its stdin and stdout (pickled
frames; the child is our own code, started by us). The driver's state reports come back as
they happen. Its typed errors cross over as the nearest type of drivers/errors.py with their
message and plain parameters (a ColumnsDoNotFit arrives as the SettingRejected it is, with
`setting`). A child that dies fails the request in flight as PrinterOffline; the next request
starts a new child. This module imports no escpos.
"""

from __future__ import annotations

import logging
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from drivers import errors
from drivers.errors import DeviceError, PrinterOffline, StateCallback, no_state

log = logging.getLogger(__name__)
_HEADER = struct.Struct(">I")
PLAIN = (str, int, float, bool, bytes, type(None), Path)


def write_frame(stream: IO[bytes], message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def read_frame(stream: IO[bytes]) -> Any:
    """The next message, or None at the end of the stream."""
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    size = _HEADER.unpack(head)[0]
    data = stream.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)


def describe_error(exc: BaseException) -> tuple[list[str], str, dict[str, Any]]:
    """What crosses the pipe for an exception: its class names nearest first, its message
    and its plain attributes (values that need no driver module to be rebuilt)."""
    attrs = {k: v for k, v in vars(exc).items() if _plain(v)}
    return [cls.__name__ for cls in type(exc).__mro__], str(exc), attrs


def rebuild_error(names: list[str], message: str, attrs: dict[str, Any]) -> Exception:
    """The nearest drivers/errors.py type of a child's exception, with its message and
    parameters; an exception that is no DeviceError (a driver bug) as a RuntimeError."""
    for name in names:
        cls = getattr(errors, name, None)
        if isinstance(cls, type) and issubclass(cls, DeviceError):
            exc = cls.__new__(cls)
            Exception.__init__(exc, message)
            exc.__dict__.update(attrs)
            exc.__dict__.setdefault("message", message)
            return exc
    return RuntimeError(f"print process: {names[0]}: {message}")


def _plain(value: Any) -> bool:
    if isinstance(value, tuple | list):
        return all(_plain(v) for v in value)
    return isinstance(value, PLAIN)


class RemotePrinter:
    """Satisfies firmware.ports.Printer (through cli.wiring.PortPrinter) like the in-process
    drivers, and also kicks a drawer through `send_raw`; the simulator's `simulate` is passed
    on when the child runs the simulator."""

    def __init__(self, kind: str, *, on_state: StateCallback = no_state, columns: int = 42,
                 **settings: Any) -> None:
        self.kind = kind
        self.name = f"{kind} printer (print process)"
        self.columns = columns
        self._settings = {"columns": columns, **settings}
        self._on_state = on_state
        self._state = "ready"
        self._lock = threading.Lock()  # one request at a time, as the driver's own lock
        self._proc: subprocess.Popen[bytes] | None = None
        self._replies: queue.Queue[Any] = queue.Queue()
        self._ready = False
        self._start()

    @property
    def state(self) -> str:
        return self._state

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def wait_ready(self) -> None:
        """Waits until the child has built its driver: raises the driver's typed error for
        settings it refuses (an unknown profile, columns no font holds), as open_printer does."""
        with self._lock:
            self._await_ready()

    def print_document(self, document: dict[str, Any]) -> Any:
        return self._call("print_document", document)

    def send_raw(self, data: bytes) -> None:
        self._call("send_raw", bytes(data))

    def refresh_state(self) -> str:
        return str(self._call("refresh_state"))

    def simulate(self, fault: str) -> None:
        """The simulator's fault switch (kind `sim` only)."""
        if self.kind != "sim":
            raise errors.SettingRejected("printer.kind", f"a {self.kind} printer has no simulated faults")
        self._call("simulate", fault)

    def close(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
            if proc is None:
                return
            try:
                if proc.poll() is None and proc.stdin is not None:
                    write_frame(proc.stdin, ("close", ()))
                    proc.stdin.close()
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait(timeout=5)

    # -- inside the lock ---------------------------------------------------------------------

    def _start(self) -> None:
        root = str(Path(__file__).resolve().parents[2])  # the tree this module comes from
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
        try:
            proc = subprocess.Popen([sys.executable, "-m", "drivers.printer.serve"],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        except OSError as exc:
            raise PrinterOffline(f"cannot start the print process ({sys.executable}): {exc}") from exc
        assert proc.stdin is not None and proc.stdout is not None
        replies: queue.Queue[Any] = queue.Queue()
        threading.Thread(target=self._read, args=(proc.stdout, replies), daemon=True,
                         name=f"print-process-{proc.pid}").start()
        self._proc, self._replies, self._ready = proc, replies, False
        try:
            write_frame(proc.stdin, ("open", self.kind, self._settings))
        except OSError:
            log.warning("the print process %s stopped at start", proc.pid)

    def _read(self, stdout: IO[bytes], replies: queue.Queue[Any]) -> None:
        """The child's messages: state reports go to on_state, answers to the caller."""
        while True:
            try:
                message = read_frame(stdout)
            except (OSError, EOFError, pickle.UnpicklingError):
                message = None
            if message is None:
                replies.put(("gone",))
                return
            if message[0] == "state":
                self._report(message[1], message[2])
            else:
                replies.put(message)

    def _report(self, state: str, detail: str) -> None:
        self._state = state
        try:
            self._on_state(state, detail)
        except Exception:  # a listener's bug must not fail a print
            log.exception("printer state listener failed")

    def _answer(self) -> Any:
        message = self._replies.get()
        if message[0] == "gone":
            self._proc = None
            raise PrinterOffline("the print process stopped - it is started again for the next job")
        if message[0] == "error":
            raise rebuild_error(*message[1])
        return message[1]

    def _await_ready(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            self._start()
        if not self._ready:
            self.columns = self._answer()
            self._ready = True

    def _call(self, method: str, *args: Any) -> Any:
        with self._lock:
            self._await_ready()
            assert self._proc is not None and self._proc.stdin is not None
            try:
                write_frame(self._proc.stdin, (method, args))
            except OSError:
                self._proc.kill()
                self._proc = None
                raise PrinterOffline("the print process stopped - it is started again for "
                                     "the next job") from None
            return self._answer()
