"""The quick answer of the caption fit (one measure for a text that fits on one line, used
in every scan's frame) is the same as the full one (wrap, measure every word) on every case:
in a real Kivy window under Xvfb, with the till's fonts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.ui.xvfb import kivy_env, xvfb

ROOT = Path(__file__).resolve().parents[2]


def test_quick_fit_agrees_with_the_full_measure() -> None:
    with xvfb(800, 480) as display:
        proc = subprocess.run([sys.executable, "-m", "tests.ui.fit_check"], cwd=ROOT,
                              env=kivy_env(display), capture_output=True, text=True, timeout=120)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    cases = json.loads(lines[0][len("RESULT "):])
    assert len(cases) == 10 * 7 * 5 * 2
    differ = [case for case in cases if case["quick"] != case["full"]]
    assert not differ, differ[:5]
    answers = {case["full"] for case in cases}
    assert answers == {True, False}  # both outcomes were compared
