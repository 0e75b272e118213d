"""The quick answer of the caption fit (one measure for a text that fits on one line, used
in every scan's frame) is the same as the full one (wrap, measure every word) on every case:
in a real Kivy window under Xvfb, with the till's fonts."""

from __future__ import annotations

from tests.ui.xvfb import kivy_check


def test_quick_fit_agrees_with_the_full_measure() -> None:
    cases = kivy_check("tests.ui.fit_check")
    assert len(cases) == 10 * 7 * 5 * 2
    differ = [case for case in cases if case["quick"] != case["full"]]
    assert not differ, differ[:5]
    answers = {case["full"] for case in cases}
    assert answers == {True, False}  # both outcomes were compared
