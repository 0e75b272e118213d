"""Starts a private Xvfb on a free display (Xvfb picks it via -displayfd) and stops it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


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


def kivy_check(module: str) -> Any:
    """Runs `python -m module` in a Kivy window of its own on a fresh 800x480 Xvfb (Kivy's
    window is one per process) and returns the JSON it printed after "RESULT "."""
    with xvfb(800, 480) as display:
        proc = subprocess.run([sys.executable, "-m", module], cwd=ROOT, env=kivy_env(display),
                              capture_output=True, text=True, timeout=120)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    return json.loads(lines[0][len("RESULT "):])
