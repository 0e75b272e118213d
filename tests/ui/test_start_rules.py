"""What the till's start loads before its first frame: the dialogs' kv rules wait for the first
dialog (bench/bench_ui_startup.py measures the start; docs/BENCHMARKS.md)."""

from __future__ import annotations

from tests.ui.xvfb import kivy_check


def test_the_start_loads_no_dialog_rules_until_a_dialog_is_built() -> None:
    found = kivy_check("tests.ui.start_check")
    assert "login.kv" in found["at_first_frame"] and "widgets.kv" in found["at_first_frame"]
    assert "dialogs.kv" not in found["at_first_frame"]
    height, wanted = found["message_line"]
    assert height == wanted  # the login screen's message line has its rule all the same
    assert "dialogs.kv" in found["after_dialog"]
    assert found["dialog_children"] > 0  # the dialog got its rule when it was built
