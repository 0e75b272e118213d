"""Runs a scene module (a script that drives the real till window and writes
`<out>/<name>-<size>.json` and its screenshots) once per screen size under one Xvfb, and
gathers its results; the screenshots are copied to test-artifacts/screenshots/."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ui.xvfb import kivy_env, xvfb

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
SIZES = ("800x480", "1280x800")


def run_scenes(module: str, name: str, tmp_path_factory: pytest.TempPathFactory,
               sizes: tuple[str, ...] = SIZES) -> dict[str, dict]:
    """size -> the scene's result dict, with the process's exit code as `rc`."""
    results = {}
    with xvfb(1280, 800) as display:
        for size in sizes:
            work = tmp_path_factory.mktemp(f"{name}-{size}")
            proc = subprocess.run(
                [sys.executable, "-m", module, size, str(work / "out"), str(work / "var")],
                cwd=ROOT, env=kivy_env(display), capture_output=True, text=True, timeout=300)
            result_file = work / "out" / f"{name}-{size}.json"
            assert result_file.exists(), f"{size}: no result (rc {proc.returncode})\n{proc.stderr[-3000:]}"
            result = json.loads(result_file.read_text())
            result["rc"] = proc.returncode
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            for png in (work / "out").glob("*.png"):
                shutil.copy(png, ARTIFACTS / png.name)
            results[size] = result
    return results
