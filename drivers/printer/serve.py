"""The print process: `python -m drivers.printer.serve`, started by drivers.printer.remote.

Reads ("open", kind, settings) and builds the printer open_printer builds, then answers each
(method, args) with ("reply", value) or ("error", description), one at a time; the driver's
state reports go out as ("state", state, detail) whenever they happen. Ends when its input
ends (the till stopped or died) or on ("close", ()).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from typing import Any

from drivers.printer.remote import PLAIN, describe_error, read_frame, write_frame

METHODS = ("print_document", "send_raw", "refresh_state", "simulate")


def serve(requests: Any, answers: Any) -> int:
    lock = threading.Lock()

    def send(message: Any) -> None:
        with lock:
            write_frame(answers, message)

    first = read_frame(requests)
    if first is None or first[0] != "open":
        return 2
    _, kind, settings = first
    from drivers.printer.factory import open_printer

    try:
        printer = open_printer(kind, on_state=lambda state, detail: send(("state", state, detail)),
                               **settings)
    except Exception as exc:
        send(("error", describe_error(exc)))
        return 1
    send(("ready", printer.columns))
    try:
        while (message := read_frame(requests)) is not None:
            method, args = message
            if method == "close":
                break
            if method not in METHODS or not hasattr(printer, method):
                send(("error", describe_error(ValueError(f"the {kind} printer has no {method!r}"))))
                continue
            try:
                value = getattr(printer, method)(*args)
            except Exception as exc:
                send(("error", describe_error(exc)))
            else:
                send(("reply", value if isinstance(value, PLAIN) else None))
    finally:
        printer.close()
    return 0


NICENESS = 5  # below the screen: a receipt may wait a few ms, a frame the cashier sees may not


def main() -> int:
    answers = sys.stdout.buffer
    sys.stdout = sys.stderr  # a library's print() must never land in the frames
    with contextlib.suppress(OSError):  # the till's start and its frames come first
        os.nice(NICENESS)
    return serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    sys.exit(main())
