"""The pure decoder fed with kernel-shaped evdev event streams."""

from __future__ import annotations

import pytest
from evdev import ecodes
from hypothesis import given, settings
from hypothesis import strategies as hs
from scanner_events import Clock, key, tap, typed

from drivers.scanner.decoder import ScanDecoder
from drivers.scanner.layouts import LAYOUTS


def decode(events, decoder: ScanDecoder | None = None) -> list[str]:
    decoder = decoder or ScanDecoder()
    return [code for e in events if (code := decoder.feed(e)) is not None]


def test_ean13_digits_on_us():
    assert decode(typed("8712345678906")) == ["8712345678906"]


def test_shifted_characters_and_mixed_case():
    assert decode(typed("AbC-123_%+/$.:")) == ["AbC-123_%+/$.:"]


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_every_layout_reads_digits_letters_and_its_symbols(name):
    text = "4006381333931 Az09"
    assert decode(typed(text, name), ScanDecoder(name)) == [text]


def test_same_keys_mean_different_text_per_layout():
    events = typed("qwerty", "us")
    assert decode(events, ScanDecoder("us")) == ["qwerty"]
    assert decode(events, ScanDecoder("de")) == ["qwertz"]
    assert decode(events, ScanDecoder("fr")) == ["azerty"]


def test_german_altgr_and_umlauts():
    text = "Grüße@[x]€"
    assert decode(typed(text, "de"), ScanDecoder("de")) == [text]


@settings(max_examples=60, deadline=None)
@given(hs.sampled_from(sorted(LAYOUTS)), hs.data())
def test_anything_a_layout_can_type_round_trips(name, data):
    table = LAYOUTS[name].table()
    dead = {(getattr(ecodes, k), lvl) for k, lvl in LAYOUTS[name].dead}
    chars = sorted({c for k, levels in table.items() for lvl, c in enumerate(levels)
                    if c and c != " " and (getattr(ecodes, k), lvl) not in dead})
    text = data.draw(hs.text(hs.sampled_from(chars), min_size=1, max_size=30))
    assert decode(typed(text, name), ScanDecoder(name)) == [text]


def test_dead_key_followed_by_space_gives_the_accent_once():
    clock = Clock()
    events = tap(clock, ecodes.KEY_GRAVE) + tap(clock, ecodes.KEY_SPACE) + typed("1", "de", clock)
    assert decode(events, ScanDecoder("de")) == ["^1"]


def test_key_repeat_is_ignored():
    clock = Clock()
    events = key(clock, ecodes.KEY_1, 1) + key(clock, ecodes.KEY_1, 2) + key(clock, ecodes.KEY_1, 2)
    events += key(clock, ecodes.KEY_1, 0) + typed("2", clock=clock)
    assert decode(events) == ["12"]


def test_timeout_drops_the_partial_code_and_keeps_the_next():
    clock = Clock()
    decoder = ScanDecoder(timeout_ms=200)
    events = typed("871234", clock=clock, end=None)
    clock.tick(0.5)  # the scanner stopped mid-code
    events += typed("8712345678906", clock=clock)
    assert decode(events, decoder) == ["8712345678906"]
    assert decoder.dropped == 1


def test_slow_but_steady_keys_within_timeout_are_one_code():
    clock = Clock(step=0.05)
    assert decode(typed("123456", clock=clock), ScanDecoder(timeout_ms=200)) == ["123456"]


def test_gs1_group_separator_by_ctrl_bracket_and_by_f8():
    clock = Clock()
    text = "0104012345678901" + "\x1d" + "10ABC"
    assert decode(typed(text, clock=clock)) == [text]
    events = typed("0104012345678901", clock=clock, end=None) + tap(clock, ecodes.KEY_F8)
    events += typed("10ABC", clock=clock)
    assert decode(events) == [text]
    events = typed("01", clock=clock, end=None) + tap(clock, ecodes.KEY_F8) + typed("1", clock=clock)
    assert decode(events, ScanDecoder(gs_key="")) == ["011"]


def test_configured_suffix_key_and_enter_both_end_a_code():
    decoder = ScanDecoder(suffix_key="KEY_TAB")
    clock = Clock()
    events = typed("111", clock=clock, end=ecodes.KEY_TAB) + typed("222", clock=clock)
    events += typed("333", clock=clock, end=ecodes.KEY_KPENTER)
    assert decode(events, decoder) == ["111", "222", "333"]


def test_alt_keypad_mode():
    clock = Clock()
    events = key(clock, ecodes.KEY_LEFTALT, 1)
    for d in "065":
        events += tap(clock, getattr(ecodes, f"KEY_KP{d}"))
    events += key(clock, ecodes.KEY_LEFTALT, 0)
    events += key(clock, ecodes.KEY_LEFTALT, 1)
    for d in "0128":
        events += tap(clock, getattr(ecodes, f"KEY_KP{d}"))
    events += key(clock, ecodes.KEY_LEFTALT, 0) + typed("1", clock=clock)
    assert decode(events) == ["A€1"]


def test_caps_lock_inverts_letters_only():
    clock = Clock()
    events = tap(clock, ecodes.KEY_CAPSLOCK) + typed("aB1!", clock=clock)
    assert decode(events) == ["Ab1!"]


def test_garbage_never_crashes_and_never_emits_junk():
    clock = Clock()
    events = []
    for code in (ecodes.KEY_F1, ecodes.KEY_UP, ecodes.KEY_ESC, ecodes.KEY_BACKSPACE, 999, 0):
        events += tap(clock, code)
    events += tap(clock, ecodes.KEY_C, (ecodes.KEY_LEFTCTRL,))  # Ctrl+C: not a barcode char
    events += key(clock, ecodes.KEY_A, 7)  # a value the kernel never sends
    events += tap(clock, ecodes.KEY_ENTER)  # nothing typed: no empty code
    events += typed("9", clock=clock)
    assert decode(events) == ["9"]


def test_overlong_input_is_dropped():
    decoder = ScanDecoder()
    assert decode(typed("1" * 600) + typed("42", clock=Clock(1_700_000_001)), decoder) == ["42"]
    assert decoder.dropped == 1


def test_unknown_layout_and_key_names_are_clear_errors():
    with pytest.raises(ValueError, match="unknown keyboard layout 'xx' .*us, de, fr, be, nl"):
        ScanDecoder("xx")
    with pytest.raises(ValueError, match="unknown key name 'ENTER'"):
        ScanDecoder(suffix_key="ENTER")
