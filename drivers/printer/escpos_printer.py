"""A receipt printer on top of a python-escpos connection (usb, network, file or dummy).

A receipt is rendered completely into bytes first (a bad document never half-prints), the
printer's real status is asked where the link can answer (usb, network), and then the bytes
go out in one write. Any fault becomes a typed PrinterProblem (drivers/errors.py) plus an
on_state report of the state that type stands for; the link is
dropped and reopened on the next job, so a replugged or rebooted printer just works again.
"""

from __future__ import annotations

import errno
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

from escpos.capabilities import CAPABILITIES, get_profile
from escpos.escpos import Escpos
from escpos.exceptions import Error as EscposError
from escpos.printer import Dummy

from drivers.errors import (
    DeviceError,
    PaperOut,
    PrinterBackendMissing,
    PrinterOffline,
    PrinterPermissionDenied,
    PrinterProblem,
    SettingRejected,
    StateCallback,
    no_state,
)
from drivers.printer import status as st
from drivers.printer.charset import CodePageError, TextCleaner, pick_code_page
from drivers.printer.fonts import pick_font
from drivers.printer.render import render

log = logging.getLogger(__name__)

Connect = Callable[[], Escpos]


class EscposPrinter:
    """Satisfies firmware.ports.Printer; also kicks a drawer through `send_raw`."""

    def __init__(self, connect: Connect, *, name: str, profile: str = "default", columns: int = 42,
                 code_page: str = "", on_state: StateCallback = no_state, keep_open: bool = False,
                 query_status: bool = False, status_timeout: float = 0.5) -> None:
        self.name = name
        self.columns = columns
        self._connect = connect
        self._keep_open = keep_open
        self._query_status = query_status
        self._status_timeout = status_timeout
        self._on_state = on_state
        self._state = "ready"
        self._device: Escpos | None = None
        self._io_lock = threading.Lock()
        self._render_lock = threading.Lock()
        check_profile(profile)
        self.font = pick_font(profile, columns)  # refuses a width no font of the profile has
        self._buffer = Dummy(profile=profile or "default")
        code_pages = self._buffer.profile.get_code_pages()
        try:
            self.code_page = pick_code_page(code_pages, code_page)
        except CodePageError:
            raise
        self.cleaner = TextCleaner(code_pages)  # the text the receipt can print; the preview uses it too
        self._qr_native = bool(self._buffer.profile.supports("qrCode"))

    @property
    def state(self) -> str:
        return self._state

    def render(self, document: dict[str, Any]) -> bytes:
        """The exact bytes a document becomes; raises DocumentError for a malformed one."""
        with self._render_lock:
            self._buffer.clear()
            render(self._buffer, document, columns=self.columns, code_page=self.code_page,
                   cleaner=self.cleaner, qr_native=self._qr_native, font=self.font.number)
            return self._buffer.output

    def print_document(self, document: dict[str, Any]) -> None:
        data = self.render(document)
        self._send(data, printing=True)

    def send_raw(self, data: bytes) -> None:
        """Raw ESC/POS (the drawer kick) through the same link and lock as the receipts."""
        self._send(data, printing=False)

    def refresh_state(self) -> str:
        """Asks the printer how it is (paper back in? cover closed?) and reports it."""
        with self._io_lock:
            try:
                device = self._open()
                self._check(device)
                self._finish(device)
            except DeviceError:
                return self._state
            self._set_state("ready", "")
        return self._state

    def close(self) -> None:
        with self._io_lock:
            self._drop()

    # -- inside the I/O lock ---------------------------------------------------------------

    def _send(self, data: bytes, printing: bool) -> None:
        with self._io_lock:
            device = self._open()
            self._check(device)
            if printing:
                self._set_state("printing", "")
            try:
                device._raw(data)
                flush = getattr(device, "flush", None)
                if flush is not None:
                    flush()
            except (OSError, EscposError, AssertionError, ValueError) as exc:
                self._fail(exc, "the printer stopped taking data")
            if self._query_status:
                self._confirm_online(device)
            self._finish(device)
            self._set_state("ready", "")

    def _open(self) -> Escpos:
        if self._device is not None:
            return self._device
        try:
            device = self._connect()
            if device._device is False:  # escpos: not opened yet (Dummy has nothing to open)
                device.open()
        except DeviceError:
            raise
        except (OSError, EscposError, AssertionError, ValueError, RuntimeError) as exc:
            self._fail(exc, "cannot reach the printer")
        self._device = device
        return device

    def _finish(self, device: Escpos) -> None:
        if not self._keep_open:
            self._drop()

    def _drop(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            try:
                device.close()
            except Exception:  # closing a dead link may fail in many ways; it is gone either way
                log.debug("closing %s failed", self.name, exc_info=True)

    def _fail(self, exc: BaseException, what: str) -> None:
        self._drop()
        problem = _classify(exc, what, self.name)
        self._set_state(problem.state, str(problem))
        raise problem from exc

    def _check(self, device: Escpos) -> None:
        """Refuses to print onto no paper or under an open cover, when the printer can say."""
        probe = getattr(device, "problem", None)
        if probe is not None:  # a device file with its own status (usblp)
            problem = probe()
            if problem is not None:
                self._finish(device)
                self._set_state(problem.state, str(problem))
                raise problem
        if not self._query_status:
            return
        cause = self._ask(device, st.DLE_EOT_OFFLINE_CAUSE)
        problem = st.state_from_offline_cause(cause) if cause is not None else None
        if problem is None:
            paper = self._ask(device, st.DLE_EOT_PAPER)
            problem = st.state_from_paper(paper) if paper is not None else None
            if paper is not None and problem is None and st.paper_near_end(paper):
                log.warning("%s: paper near end", self.name)
        if problem is not None:
            self._finish(device)
            self._set_state(problem.state, str(problem))
            raise problem

    def _confirm_online(self, device: Escpos) -> None:
        """After the bytes went out: a printer that hung up or went offline did not print."""
        answer = self._ask(device, st.DLE_EOT_PRINTER)
        if answer is not None and st.is_offline(answer):
            cause = self._ask(device, st.DLE_EOT_OFFLINE_CAUSE)
            problem = (st.state_from_offline_cause(cause) if cause is not None else None) or (
                PrinterOffline("the printer went offline while printing"))
            self._finish(device)
            self._set_state(problem.state, str(problem))
            raise problem

    def _ask(self, device: Escpos, command: bytes) -> int | None:
        """One status byte, or None when this printer does not answer (then stop asking)."""
        link = getattr(device, "_device", None)
        old_timeout = link.gettimeout() if isinstance(link, socket.socket) else None
        try:
            if isinstance(link, socket.socket):
                link.settimeout(self._status_timeout)
            device._raw(command)
            answer = bytes(device._read())
        except (TimeoutError, NotImplementedError):
            self._no_status()
            return None
        except Exception as exc:
            if _is_usb_timeout(exc):
                self._no_status()
                return None
            if isinstance(exc, OSError | EscposError | AssertionError | ValueError):
                self._fail(exc, "the printer stopped answering")
            raise
        finally:
            if isinstance(link, socket.socket) and link.fileno() != -1:
                link.settimeout(old_timeout)
        if not answer:
            self._fail(ConnectionError("the printer closed the connection"),
                       "the printer hung up")
        for value in answer:
            if st.is_status_byte(value):
                return value
        return None

    def _no_status(self) -> None:
        if self._query_status:
            log.info("%s does not answer status queries; printing without them", self.name)
        self._query_status = False

    def _set_state(self, state: str, detail: str) -> None:
        if state == self._state and not detail:
            return
        self._state = state
        try:
            self._on_state(state, detail)
        except Exception:  # a listener's bug must not fail a print
            log.exception("printer state listener failed")


def check_profile(name: str) -> None:
    """Refuses a python-escpos profile name it does not know, listing a few it does."""
    try:
        get_profile(name or "default")
    except Exception:  # escpos raises KeyError / NotSupported for a bad name
        known = ", ".join(sorted(CAPABILITIES["profiles"])[:12])
        raise SettingRejected("printer.profile", f"unknown printer profile {name!r} (python-escpos "
                              f"knows e.g. {known}, ...)") from None


def _is_usb_timeout(exc: BaseException) -> bool:
    return type(exc).__name__ == "USBTimeoutError"


def _classify(exc: BaseException, what: str, name: str) -> PrinterProblem:
    """The typed problem behind a link failure, sorted by exception type and errno (also of
    the exceptions it was raised from: python-escpos wraps pyusb's errors in its own)."""
    chain = _chain(exc)
    codes = {getattr(e, "errno", None) for e in chain}
    if errno.ENOSPC in codes:  # usblp: the printer reports paper empty
        return PaperOut()
    if codes & {errno.EACCES, errno.EPERM} or any(isinstance(e, PermissionError) for e in chain):
        fix = "add the till user to group 'kassa' and install provisioning/udev/99-kassa.rules"
        return PrinterPermissionDenied(name, fix, f"{what} ({name}): permission denied - {fix}")
    if any(_is_no_usb_backend(e) for e in chain):
        fix = "install the libusb-1.0-0 package"
        return PrinterBackendMissing("libusb", fix, f"{what} ({name}): libusb is missing - {fix}")
    return PrinterOffline(f"{what} ({name}): {_short(exc)} - check cable and power")


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and those it was raised from or during, nearest first."""
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found and len(found) < 8:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _is_no_usb_backend(exc: BaseException) -> bool:
    try:
        from usb.core import NoBackendError
    except ImportError:  # no pyusb: then no USB printer either
        return False
    return isinstance(exc, NoBackendError)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]
