"""Tiles whose container draws their backgrounds in one Mesh (ui/tiles.py) look exactly like
the BigButtons they replace: normal, pressed (the press feedback) and disabled, drawn in a
real Kivy window under Xvfb."""

from __future__ import annotations

from tests.ui.xvfb import kivy_check


def test_tile_rows_draw_the_pixels_of_plain_buttons() -> None:
    steps = kivy_check("tests.ui.tile_check")
    assert list(steps) == ["normal", "pressed", "disabled", "enabled again"]
    for step, seen in steps.items():
        assert seen["tiles"] == seen["plain"], step
    assert steps["normal"]["tiles"] != steps["pressed"]["tiles"]  # the press shows
    assert steps["normal"]["tiles"] != steps["disabled"]["tiles"]
    assert [steps[s]["quads"] for s in steps] == [5, 5, 4, 5]  # a disabled tile draws its own
