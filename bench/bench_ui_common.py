"""Shared by the UI benchmarks: a private Xvfb and child processes that each own one Kivy
window (Kivy's window is a process-wide singleton), reporting one JSON line on stdout."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.ui.xvfb import kivy_env  # noqa: E402

RESULT = "BENCH_RESULT "


def run_child(script: Path, mode: str, display: str, *args: str,
              bytecode: bool = False) -> tuple[dict[str, Any], float]:
    """Runs `script --child MODE`; returns its result and the wall time at spawn. With
    `bytecode`, the child reads and writes `__pycache__` even where PYTHONDONTWRITEBYTECODE
    is set (as a shell here has it), like an installed till, whose pip wrote them."""
    env = kivy_env(display)
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    spawned = time.time()
    proc = subprocess.run([sys.executable, str(script), "--child", mode, *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT):
            return json.loads(line[len(RESULT):]), spawned
    raise RuntimeError(f"{script.name} {mode} gave no result (rc {proc.returncode}):\n"
                       f"{proc.stderr[-3000:]}")


def report(data: dict[str, Any]) -> None:
    print(RESULT + json.dumps(data), flush=True)


def till_app(size: tuple[int, int] = (800, 480), var_dir: str = "") -> Any:
    """The real till app on simulated hardware (call before importing Kivy); a fresh var dir
    unless one is given, wired as `kassa till --sim` wires it (the printer simulator in the
    print process). The simulators (cli.wiring.Simulators) are on `app.sims`."""
    from ui.kivy_setup import configure_kivy

    configure_kivy(False, size[0], size[1], False)
    from cli import wiring
    from cli.till import StateRelay, build_app
    from contract.config import Config

    config = Config(var_dir=var_dir or tempfile.mkdtemp(prefix="kassa-bench-ui-"))
    relay = StateRelay()
    peripherals, sims = wiring.build_simulated(config, relay, printer_process=True)
    app = build_app(config, peripherals, relay, demo=True)
    app.sims = sims
    return app


def bare_app(size: tuple[int, int] = (800, 480)) -> Any:
    """The reference: a Kivy app with one button and nothing else."""
    from ui.kivy_setup import configure_kivy

    configure_kivy(False, size[0], size[1], False)
    from kivy.app import App
    from kivy.uix.button import Button

    class Bare(App):
        def build(self) -> Button:
            return Button(text="reference")

    return Bare()


def after_first_frame(app: Any, then: Callable[[], None]) -> None:
    """Calls `then` once the first frame after start has been drawn (the window flipped)."""
    from kivy.core.window import Window

    def flipped(*_args: Any) -> None:
        Window.unbind(on_flip=flipped)
        then()

    app.bind(on_start=lambda *_a: Window.bind(on_flip=flipped))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


RENDERER_LIBS = ("libLLVM", "_dri.so", "libgallium", "libglapi", "libGL", "libEGL", "libgbm",
                 "libdrm", "libz3", "libxcb", "libX")
GROUPS = (("renderer libraries (Mesa, LLVM, X)", RENDERER_LIBS),
          ("cryptography (Rust)", ("cryptography/",)),
          ("SQLite", ("sqlite",)),
          ("Python, Kivy, SDL and other libraries", ("/",)))


def rss_breakdown() -> dict[str, float]:
    """Resident MB by kind of mapping (/proc/self/smaps): the renderer's shared libraries,
    a few big ones of the till's, other libraries, and anonymous memory (heap, Python
    objects, textures and Mesa's buffers)."""
    totals: dict[str, float] = {}
    name = "anonymous (heap, Python objects, textures, Mesa buffers)"
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split(None, 5)
        if len(head) >= 5 and "-" in head[0] and ":" not in head[0]:
            path = head[5].strip() if len(head) > 5 else ""
            name = "anonymous (heap, Python objects, textures, Mesa buffers)"
            if path.startswith("/"):
                name = next(g for g, keys in GROUPS if any(k in path for k in keys))
        elif line.startswith("Rss:"):
            totals[name] = totals.get(name, 0.0) + int(line.split()[1]) / 1024
    return totals
