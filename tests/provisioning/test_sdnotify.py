"""firmware.sdnotify speaks systemd's datagram protocol to a socket we bind ourselves."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

import pytest

from firmware import sdnotify


@pytest.fixture
def listener(tmp_path: Path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "notify"
    sock.bind(str(path))
    sock.settimeout(2)
    yield {"NOTIFY_SOCKET": str(path)}, sock
    sock.close()


def test_ready_and_status_reach_the_socket(listener) -> None:
    env, sock = listener
    assert sdnotify.ready("journal open", env=env)
    assert sock.recv(4096) == b"READY=1\nSTATUS=journal open"
    assert sdnotify.status("3 unsent", env=env)
    assert sock.recv(4096) == b"STATUS=3 unsent"


def test_watchdog_and_stopping(listener) -> None:
    env, sock = listener
    assert sdnotify.watchdog(env=env)
    assert sock.recv(4096) == b"WATCHDOG=1"
    assert sdnotify.stopping(env=env)
    assert sock.recv(4096) == b"STOPPING=1"


def test_abstract_namespace_socket() -> None:
    name = f"kassa-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2)
        assert sdnotify.notify("READY=1", env={"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(100) == b"READY=1"


def test_reads_environment_by_default(listener, monkeypatch: pytest.MonkeyPatch) -> None:
    env, sock = listener
    monkeypatch.setenv("NOTIFY_SOCKET", env["NOTIFY_SOCKET"])
    assert sdnotify.watchdog()
    assert sock.recv(100) == b"WATCHDOG=1"


@pytest.mark.parametrize("value", ["", "vsock:2:1234", "relative/path"])
def test_no_or_unsupported_socket_is_a_quiet_no(value: str) -> None:
    assert sdnotify.ready(env={"NOTIFY_SOCKET": value}) is False


def test_nobody_listening_is_not_an_error(tmp_path: Path) -> None:
    assert sdnotify.watchdog(env={"NOTIFY_SOCKET": str(tmp_path / "gone")}) is False


def test_watchdog_period_is_half_the_timeout() -> None:
    assert sdnotify.watchdog_period({"WATCHDOG_USEC": "30000000"}) == 15.0
    own = {"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": str(os.getpid())}
    assert sdnotify.watchdog_period(own) == 5.0


@pytest.mark.parametrize("env", [
    {}, {"WATCHDOG_USEC": "abc"}, {"WATCHDOG_USEC": "0"},
    {"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"},
])
def test_watchdog_period_none_when_not_watched(env: dict[str, str]) -> None:
    assert sdnotify.watchdog_period(env) is None
