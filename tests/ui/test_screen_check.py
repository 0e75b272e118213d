"""The screen check (tests/ui/screen_check.py) finds planted faults in a real Kivy window and
finds nothing in a layout without them; so its empty result on the till's screens means
something (tests/ui/test_till_ui.py asserts that for every screen at both sizes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ui.screen_check import min_target_px
from tests.ui.xvfb import kivy_env, xvfb
from ui.metrics import scale_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    out = tmp_path_factory.mktemp("planted") / "findings.json"
    with xvfb(800, 480) as display:
        proc = subprocess.run([sys.executable, "-m", "tests.ui.planted", "800x480", str(out)],
                              cwd=ROOT, env=kivy_env(display), capture_output=True, text=True,
                              timeout=120)
    assert proc.returncode == 0 and out.exists(), proc.stderr[-3000:]
    return json.loads(out.read_text())


def test_overlapping_buttons_are_found(planted: dict) -> None:
    found = [f for f in planted["overlap"] if f.startswith("overlap:")]
    assert len(found) == 1, planted["overlap"]
    assert "'Pay'" in found[0] and "'Void'" in found[0] and "50x50 px" in found[0]


def test_a_word_broken_over_two_lines_is_found(planted: dict) -> None:
    found = planted["wrapped_caption"]
    assert any(f.startswith("word broken over lines: 'Aanmelden'") for f in found), found


def test_a_30_px_button_is_found(planted: dict) -> None:
    found = planted["tiny"]
    assert found == ["small target: Button 'x' at (20,20) 30x30 is under 48 px"], found


def test_clipped_and_ellipsised_labels_are_found(planted: dict) -> None:
    found = planted["clipped"]
    assert any(f.startswith("text cut: Label 'Lade: te lang open'") and "height" in f
               for f in found), found
    assert any(f.startswith("text cut with …: Label 'Geen uplink  achterstand 14'")
               for f in found), found


def test_a_sound_layout_has_no_findings(planted: dict) -> None:
    assert planted["good"] == []


def test_the_floor_is_9_mm_on_the_panel_and_scales_with_the_ui() -> None:
    """48 px is 9 mm on the 7" 800x480 panel; on a 10.1" 1280x800 (~150 dpi) 9 mm is ~53 px,
    and the floor there (scaled like the UI) is above that."""
    assert min_target_px(480) == pytest.approx(48)
    nine_mm_at_150_dpi = 9 / 25.4 * 150
    assert nine_mm_at_150_dpi < min_target_px(800) == pytest.approx(48 * scale_for(800))
    assert scale_for(800) == pytest.approx((800 / 480) ** 0.5)
