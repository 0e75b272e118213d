"""The ticket list's fixed-row layout (ui.widgets.TicketLayout.compute_layout, the scan
frame's layout work) places every row exactly where Kivy's general RecycleBoxLayout pass
does: in a real Kivy window under Xvfb, after appends, an edit, a shorter and an empty
ticket."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.ui.xvfb import kivy_env, xvfb

ROOT = Path(__file__).resolve().parents[2]


def test_fixed_row_layout_matches_kivys_general_layout() -> None:
    with xvfb(800, 480) as display:
        proc = subprocess.run([sys.executable, "-m", "tests.ui.ticket_layout_check"], cwd=ROOT,
                              env=kivy_env(display), capture_output=True, text=True, timeout=120)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    cases = json.loads(lines[0][len("RESULT "):])
    assert [case["case"] for case in cases] == ["three", "130 appended", "one edited", "shorter",
                                                "empty"]
    for case in cases:
        assert case["fast"] == case["general"], case["case"]
    appended = next(case for case in cases if case["case"] == "130 appended")["fast"]
    assert len(appended["opts"]) == 130 and appended["rows"]  # rows on screen were compared
    assert appended["minimum"][1] > 130 * 50
