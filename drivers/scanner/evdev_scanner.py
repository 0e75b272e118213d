"""A USB HID barcode scanner read through evdev on its own thread, grabbed exclusively.

Grabbing (EVIOCGRAB) keeps scans from also reaching the UI as keystrokes. The thread finds
the device, grabs it, decodes its key events and hands each complete code to on_code. When
the scanner is unplugged (ENODEV on read) it reports 'disconnected', then looks for it again
with a growing pause (backoff) and reports 'connected' once it is back; a permission problem
is reported as 'error' with the fix, and retried too (the udev rule may be installed live).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import select
import threading
import time
from collections.abc import Callable
from typing import Any

from drivers.errors import (
    DeviceBusy,
    DeviceError,
    DeviceNotFound,
    PermissionDenied,
    SettingRejected,
    StateCallback,
    no_state,
)
from drivers.scanner.decoder import ScanDecoder
from drivers.scanner.discovery import FIX_PERMISSION, describe, list_inputs, matching

log = logging.getLogger(__name__)

OpenDevice = Callable[[], Any]
"""Returns an opened, not yet grabbed, evdev-like device or raises (see find_device)."""


class ScannerNotFound(DeviceNotFound):
    """The scanner is not attached (reported 'disconnected' and looked for again)."""

    def __init__(self, message: str) -> None:
        super().__init__("scanner", message)


class ScannerPermission(PermissionDenied):
    """The till's user may not open the scanner's event node."""

    def __init__(self, message: str) -> None:
        super().__init__("scanner", FIX_PERMISSION, message)


def find_device(*, path: str = "", name: str = "", vendor_id: int = 0, product_id: int = 0,
                input_dir: str = "/dev/input", sys_dir: str = "/sys/class/input") -> Any:
    """Opens the configured scanner's event node; prefers the node that has an Enter key."""
    from evdev import InputDevice, ecodes

    wanted = describe(path, name, vendor_id, product_id)
    candidates = matching(list_inputs(input_dir, sys_dir), path=path, name=name,
                          vendor_id=vendor_id, product_id=product_id)
    if not candidates:
        raise ScannerNotFound(f"no scanner found at {wanted}: is it plugged in?")
    denied = []
    opened = []
    for info in candidates:
        try:
            device = InputDevice(info.path, readonly=True)  # grabbing needs no write access
        except PermissionError:
            denied.append(info.path)
            continue
        except OSError as exc:
            log.debug("cannot open %s: %s", info.path, exc)
            continue
        keys = device.capabilities().get(ecodes.EV_KEY, [])
        if ecodes.KEY_ENTER in keys or ecodes.KEY_KPENTER in keys:
            for other in opened:
                other.close()
            return device
        opened.append(device)
    if opened:  # no node with Enter (odd scanner): take the first keyboard-ish one
        for other in opened[1:]:
            other.close()
        return opened[0]
    if denied:
        raise ScannerPermission(f"permission denied on {', '.join(denied)} ({wanted}): "
                                f"{FIX_PERMISSION}")
    raise ScannerNotFound(f"scanner at {wanted} vanished while opening it")


class EvdevScanner:
    """Satisfies firmware.ports.Scanner."""

    def __init__(self, *, path: str = "", name: str = "", vendor_id: int = 0, product_id: int = 0,
                 layout: str = "us", suffix_key: str = "KEY_ENTER", gs_key: str = "KEY_F8",
                 timeout_ms: int = 200, on_state: StateCallback = no_state, grab: bool = True,
                 open_device: OpenDevice | None = None, backoff_s: float = 0.25,
                 backoff_max_s: float = 5.0) -> None:
        if not (path or name or vendor_id or open_device):
            raise SettingRejected("scanner.path", "the scanner needs a path (/dev/input/by-id/...), "
                                  "a name or a vendor_id in [scanner]")
        try:
            self._decoder = ScanDecoder(layout, suffix_key=suffix_key, gs_key=gs_key,
                                        timeout_ms=timeout_ms)
        except ValueError as exc:
            raise SettingRejected("scanner.layout", f"scanner: {exc}") from None
        self._open_device = open_device or (lambda: find_device(
            path=path, name=name, vendor_id=vendor_id, product_id=product_id))
        self._timeout_s = timeout_ms / 1000
        self._grab = grab
        self._on_state = on_state
        self._backoff = (backoff_s, backoff_max_s)
        self._state = "disconnected"
        self._detail = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_code: Callable[[str], None] = lambda code: None

    @property
    def state(self) -> str:
        return self._state

    @property
    def detail(self) -> str:
        return self._detail

    @property
    def dropped(self) -> int:
        """Partial codes dropped so far (time-outs, garbage): a worn scanner shows here."""
        return self._decoder.dropped

    def start(self, on_code: Callable[[str], None]) -> None:
        if self._thread is not None:
            raise RuntimeError("scanner already started")
        self._on_code = on_code
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="scanner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # -- the scanner thread ----------------------------------------------------------------

    def _run(self) -> None:
        pause = self._backoff[0]
        while not self._stop.is_set():
            try:
                device = self._connect()
            except DeviceError as exc:
                state = "disconnected" if isinstance(exc, ScannerNotFound) else "error"
                self._set_state(state, str(exc))
                self._stop.wait(pause)
                pause = min(pause * 2, self._backoff[1])
                continue
            pause = self._backoff[0]
            self._set_state("connected", getattr(device, "name", "") or "scanner")
            try:
                self._read(device)
            except OSError as exc:
                if exc.errno in (errno.ENODEV, errno.EIO, errno.EBADF, errno.ENOENT):
                    self._set_state("disconnected", "the scanner was unplugged")
                else:
                    self._set_state("disconnected", f"reading the scanner failed: {exc}")
            finally:
                self._decoder.reset()
                _release(device)
        if self._state != "disconnected":
            self._set_state("disconnected", "stopped")

    def _connect(self) -> Any:
        try:
            device = self._open_device()
        except DeviceError:
            raise
        except PermissionError as exc:
            raise ScannerPermission(f"permission denied: {exc}; {FIX_PERMISSION}") from None
        except OSError as exc:
            raise ScannerNotFound(f"cannot open the scanner: {exc}") from None
        if self._grab:
            try:
                device.grab()
            except OSError as exc:
                _release(device)
                if exc.errno == errno.EBUSY:
                    raise DeviceBusy("scanner", "another program has grabbed the scanner "
                                     "(is a second till running?)") from None
                raise ScannerNotFound(f"cannot grab the scanner: {exc}") from None
        return device

    def _read(self, device: Any) -> None:
        last_event = time.monotonic()
        while not self._stop.is_set():
            ready, _, _ = select.select([device], [], [], min(self._timeout_s, 0.25))
            now = time.monotonic()
            if not ready:
                if self._decoder.partial and now - last_event > self._timeout_s:
                    self._decoder.drop_partial()
                continue
            last_event = now
            try:
                events = list(device.read())
            except BlockingIOError:
                continue
            for event in events:
                code = self._decoder.feed(event)
                if code is not None:
                    self._deliver(code)

    def _deliver(self, code: str) -> None:
        try:
            self._on_code(code)
        except Exception:  # the till's bug must not stop the scanner
            log.exception("handling scanned code failed")

    def _set_state(self, state: str, detail: str) -> None:
        if state == self._state and detail == self._detail:
            return
        self._state, self._detail = state, detail
        try:
            self._on_state(state, detail)
        except Exception:
            log.exception("scanner state listener failed")


def _release(device: Any) -> None:
    for method in ("ungrab", "close"):
        # an unplugged device fails to ungrab; it is released either way
        with contextlib.suppress(Exception):
            getattr(device, method)()
