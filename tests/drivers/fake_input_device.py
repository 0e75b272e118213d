"""An evdev.InputDevice stand-in: a real pipe fd for select(), and events pushed by the test.

read() behaves like evdev's: a batch of InputEvents, BlockingIOError when nothing is
pending, or the OSError the kernel gives an unplugged device (ENODEV).
"""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import threading


class FakeInputDevice:
    def __init__(self, name: str = "Honeywell Scanner", path: str = "/dev/input/event7") -> None:
        self.name, self.path = name, path
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        self._batches: queue.Queue = queue.Queue()
        self.grabbed = False
        self.closed = threading.Event()
        self.grab_error: OSError | None = None

    def fileno(self) -> int:
        return self._r

    def push(self, events) -> None:
        self._batches.put(list(events))
        os.write(self._w, b"x")

    def unplug(self) -> None:
        self._batches.put(OSError(errno.ENODEV, "No such device"))
        os.write(self._w, b"x")

    def read(self):
        with contextlib.suppress(BlockingIOError):
            os.read(self._r, 1)
        try:
            batch = self._batches.get_nowait()
        except queue.Empty:
            raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable") from None
        if isinstance(batch, OSError):
            raise batch
        yield from batch

    def grab(self) -> None:
        if self.grab_error:
            raise self.grab_error
        self.grabbed = True

    def ungrab(self) -> None:
        if self.closed.is_set():
            raise OSError(errno.ENODEV, "No such device")
        self.grabbed = False

    def close(self) -> None:
        if not self.closed.is_set():
            self.closed.set()
            os.close(self._r)
            os.close(self._w)
