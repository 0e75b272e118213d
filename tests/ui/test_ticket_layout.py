"""The ticket list's fixed-row layout (ui.widgets.TicketLayout.compute_layout, the scan
frame's layout work) places every row exactly where Kivy's general RecycleBoxLayout pass
does: in a real Kivy window under Xvfb, after appends, an edit, a shorter and an empty
ticket."""

from __future__ import annotations

from tests.ui.xvfb import kivy_check


def test_fixed_row_layout_matches_kivys_general_layout() -> None:
    cases = kivy_check("tests.ui.ticket_layout_check")
    assert [case["case"] for case in cases] == ["three", "130 appended", "one edited", "shorter",
                                                "empty"]
    for case in cases:
        assert case["fast"] == case["general"], case["case"]
    appended = next(case for case in cases if case["case"] == "130 appended")["fast"]
    assert len(appended["opts"]) == 130 and appended["rows"]  # rows on screen were compared
    assert appended["minimum"][1] > 130 * 50
