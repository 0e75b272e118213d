"""One scale factor for every size on screen, so 800x480 and 1280x800 both get >= 60 px targets.

Sizes in the .kv files are written for the official 7" 800x480 panel and multiplied by
S(). A taller screen is also a larger panel (1280x800 is usually 10.1", ~150 dpi against the
7" panel's ~133), so sizes grow with the square root of the height, not the height itself:
a target stays about as large under the finger (60 px is 11 mm on the 7", 77 px is 13 mm on
the 10.1") and the extra pixels show more products and more ticket lines instead of the
same 800x480 layout blown up.
"""

from __future__ import annotations

BASE_HEIGHT = 480
MIN_TOUCH = 60

_scale = 1.0


def scale_for(window_height: float) -> float:
    """The factor for a window `window_height` pixels high: 1 at 480, ~1.29 at 800."""
    return max(1.0, (window_height / BASE_HEIGHT) ** 0.5)


def set_scale(window_height: int) -> float:
    global _scale
    _scale = scale_for(window_height)
    return _scale


def S(pixels: float) -> float:
    return pixels * _scale


def scale() -> float:
    return _scale
