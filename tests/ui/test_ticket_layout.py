"""The ticket list's fixed-row layout (ui.widgets.TicketLayout.compute_layout, the scan
frame's layout work) places every row exactly where Kivy's general RecycleBoxLayout pass
does: in a real Kivy window under Xvfb, after appends, an edit, a shorter and an empty
ticket; and a scan's own path (one pass, the rows kept in the layout, the selection moved,
the row at any height found as Kivy finds it)."""

from __future__ import annotations

from tests.ui.xvfb import kivy_check


def test_fixed_row_layout_matches_kivys_general_layout() -> None:
    cases = kivy_check("tests.ui.ticket_layout_check")
    cases.pop()  # the scans: the test below
    assert [case["case"] for case in cases] == ["three", "130 appended", "one edited", "shorter",
                                                "empty"]
    for case in cases:
        assert case["fast"] == case["general"], case["case"]
    appended = next(case for case in cases if case["case"] == "130 appended")["fast"]
    assert len(appended["opts"]) == 130 and appended["rows"]  # rows on screen were compared
    assert appended["minimum"][1] > 130 * 50


def test_a_scan_lays_the_ticket_out_once_and_keeps_only_the_rows_on_screen() -> None:
    """Five scans on the incremental path: one clear for the data and one full pass each (the
    pass the new height asks for is skipped), the rows in the layout are exactly the ones on
    screen, placed as Kivy's general pass places them after the last; then the selection
    moves through select() and every row's flag agrees with it."""
    scans = kivy_check("tests.ui.ticket_layout_check")[-1]
    assert scans["case"] == "scans"
    for scan in scans["scans"]:
        assert scan["clears"] == 2, scan["clears"]
        assert scan["rows"] and len(scan["rows"]) <= 8
    last, general = scans["scans"][-1], scans["general"]
    assert {k: v for k, v in last.items() if k != "clears"} == general
    assert [line for line, _pos, _size in last["rows"]][-1] == 135  # the view follows the scan
    assert scans["selection"] == {"selected_line": 134, "flags": [134], "all_rows_agree": True}
    # the row at a height, by division, is Kivy's walk over the positions at every height
    assert scans["index_at"] == {"heights": 1705, "same": True, "arithmetic": "RowPlaces"}
    # the rows end where the scroll bar begins: it never covers an amount's last digit
    clear = scans["clear_of_bar"]
    assert clear["rows"] and clear["bar_width"] > 0 and clear["all_clear"], clear
