"""Starts a private Xvfb on a free display (Xvfb picks it via -displayfd) and stops it."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def xvfb(width: int = 1280, height: int = 800) -> Iterator[str]:
    """Yields the DISPLAY string (':N') of a fresh Xvfb; refuses plainly if Xvfb is missing."""
    binary = shutil.which("Xvfb")
    if binary is None:
        raise RuntimeError("Xvfb is not installed (Debian package xvfb, see scripts/debian-packages.txt)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [binary, "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp",
         "-noreset"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise RuntimeError(f"Xvfb did not start (exit code {proc.poll()})")
        yield f":{number}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def kivy_env(display: str) -> dict[str, str]:
    """Environment for a Kivy child process on that display, quiet and without audio."""
    env = dict(os.environ)
    env.update({"DISPLAY": display, "KIVY_NO_ARGS": "1",
                "KIVY_NO_CONSOLELOG": env.get("KIVY_NO_CONSOLELOG", "1"), "KIVY_NO_FILELOG": "1",
                "KIVY_NO_CONFIG": "1", "SDL_AUDIODRIVER": "dummy",
                "KIVY_HOME": env.get("KIVY_HOME", "/tmp/kassa-kivy-home")})
    return env
