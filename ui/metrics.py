"""One scale factor for every size on screen, so 800x480 and 1280x800 both get >= 60 px targets.

Sizes in the .kv files are written for the official 7" 800x480 panel and multiplied by
S(); a taller screen gets proportionally bigger targets and text.
"""

from __future__ import annotations

BASE_HEIGHT = 480
MIN_TOUCH = 60

_scale = 1.0


def set_scale(window_height: int) -> float:
    global _scale
    _scale = max(1.0, window_height / BASE_HEIGHT)
    return _scale


def S(pixels: float) -> float:
    return pixels * _scale


def scale() -> float:
    return _scale
