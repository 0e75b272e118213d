"""systemd's notify protocol without a dependency: one datagram to $NOTIFY_SOCKET.

The till runs as `Type=notify` with `WatchdogSec=`: it sends READY=1 once the journal is open
and WATCHDOG=1 from its UI clock, so a hung UI is killed and restarted by systemd. Outside
systemd (laptop, tests) every call is a cheap no-op that returns False.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping


def _address(env: Mapping[str, str]) -> str | None:
    path = env.get("NOTIFY_SOCKET", "")
    if not path or path[0] not in "/@":
        return None  # unset, or a vsock address this notifier does not speak
    return "\0" + path[1:] if path[0] == "@" else path  # '@' is the abstract namespace


def notify(state: str, env: Mapping[str, str] | None = None) -> bool:
    """Sends `state` (lines like READY=1) to systemd; False when not run under systemd."""
    address = _address(os.environ if env is None else env)
    if address is None:
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        try:
            sock.connect(address)
            sock.sendall(state.encode("utf-8"))
        except OSError:
            return False
    return True


def ready(status: str = "", env: Mapping[str, str] | None = None) -> bool:
    return notify("READY=1" + (f"\nSTATUS={status}" if status else ""), env)


def watchdog(env: Mapping[str, str] | None = None) -> bool:
    return notify("WATCHDOG=1", env)


def status(text: str, env: Mapping[str, str] | None = None) -> bool:
    return notify(f"STATUS={text}", env)


def stopping(env: Mapping[str, str] | None = None) -> bool:
    return notify("STOPPING=1", env)


def watchdog_period(env: Mapping[str, str] | None = None) -> float | None:
    """Seconds between WATCHDOG=1 pings (half systemd's timeout), or None if not watched.

    WATCHDOG_PID, when set, must be this process: a child must not feed its parent's dog.
    """
    env = os.environ if env is None else env
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    pid = env.get("WATCHDOG_PID")
    if usec <= 0 or (pid and pid != str(os.getpid())):
        return None
    return usec / 2_000_000
