"""A printer device file (/dev/usb/lp0, usblp driver) that cannot hang the print thread.

A plain blocking write to usblp waits for ever when the printer is out of paper or
switched off; here the file is non-blocking and each write waits at most `timeout` seconds.
Before printing, the usblp status (ioctl LPGETSTATUS, the parallel-port status byte) says
whether paper is out or the printer is offline; a regular file has no status and is fine.
A regular file (a spool or log of receipts) is appended to, each job after the last one; a
device file is written as it is.
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import stat
import struct
import time

from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError

from drivers.errors import PaperOut, PrinterFault, PrinterOffline, PrinterProblem

LPGETSTATUS = 0x060B
LP_PERRORP = 0x08  # 1 = no error (active low)
LP_PSELECD = 0x10  # 1 = selected / online
LP_POUTPA = 0x20  # 1 = paper out


class LpFile(Escpos):
    """python-escpos printer writing to a device file with a write time-out."""

    def __init__(self, devfile: str, timeout: float = 5.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.devfile = devfile
        self.timeout = timeout
        self._fd: int | None = None

    def open(self, raise_not_found: bool = True) -> None:
        try:
            # never O_CREAT: a missing /dev/usb/lp0 must not become a file receipts vanish into
            self._fd = os.open(self.devfile, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            raise DeviceNotFoundError(f"Could not open {self.devfile}: {exc}") from exc
        if stat.S_ISREG(os.fstat(self._fd).st_mode):  # a file: after the jobs already in it
            flags = fcntl.fcntl(self._fd, fcntl.F_GETFL)
            fcntl.fcntl(self._fd, fcntl.F_SETFL, flags | os.O_APPEND)
        self._device = self._fd

    @property
    def appending(self) -> bool:
        """Whether jobs go after what the file already holds (true for a regular file only)."""
        return self._fd is not None and bool(fcntl.fcntl(self._fd, fcntl.F_GETFL) & os.O_APPEND)

    def problem(self) -> PrinterProblem | None:
        """What usblp reports (paper out, offline, an error), else None."""
        if self._fd is None:
            return None
        try:
            raw = fcntl.ioctl(self._fd, LPGETSTATUS, struct.pack("i", 0))
        except OSError:
            return None  # not a usblp device (or no status): nothing to say
        status = struct.unpack("i", raw)[0]
        if status & LP_POUTPA:
            return PaperOut()
        if not status & LP_PSELECD:
            return PrinterOffline("the printer is offline: check power and the cover")
        if not status & LP_PERRORP:
            return PrinterFault()
        return None

    def _raw(self, msg: bytes) -> None:
        if self._fd is None:
            self.open()
        assert self._fd is not None
        view = memoryview(msg)
        deadline = time.monotonic() + self.timeout
        while view:
            try:
                written = os.write(self._fd, view)
                view = view[written:]
                continue
            except BlockingIOError:
                pass
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(errno.ETIMEDOUT, f"the printer took no data for {self.timeout:g} s"
                                   " (out of paper, cover open or switched off?)")
            select.select([], [self._fd], [], min(left, 0.2))

    def close(self) -> None:
        fd, self._fd = self._fd, None
        self._device = False
        if fd is not None:
            os.close(fd)
