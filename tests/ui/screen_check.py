"""Checks one drawn screen of the real Kivy window the way a cashier's finger and eye meet it.

`check_screen()` walks every widget on the window and returns human-readable findings (empty
when the screen is usable):
- two visible widgets that take touches overlap (a tap could land on the wrong one);
- a caption or label does not fit its widget: more lines than the height holds, wider than
  the widget, cut with an ellipsis or by max_lines, or a word broken over two lines
  ("Aanmeld/en") because the word alone is wider than the space for it;
- a touch target is smaller than `min_px` in either direction (48 px is 9 mm on the 7"
  800x480 panel; the floor scales with the UI, see ui.metrics).
Only what is drawn counts: widgets at zero opacity (or under one), of no size, or scrolled out
of a ScrollView's window are skipped; when a dialog is open only its widgets take touches.
Captions are measured with a fresh core label of the same font, size, padding and width.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ui.metrics import scale_for

MIN_MM = 9
PANEL_PX_PER_MM = 48 / MIN_MM  # the official 7" panel: 800 px over ~154 mm
SLACK = 1.0  # px of rounding allowed on every comparison
TEXT_OPTIONS = ("font_size", "font_name", "bold", "italic", "padding", "halign", "line_height",
                "strip", "font_context", "font_features", "font_hinting", "font_kerning",
                "font_family", "font_script_name", "font_direction", "base_direction",
                "text_language", "outline_width")

Rect = tuple[float, float, float, float]  # x, y, right, top in window coordinates


def min_target_px(window_height: float) -> float:
    """48 px on the 480 px high panel, scaled like the UI (ui.metrics.scale_for) on taller
    screens: 62 px at 1280x800, above 9 mm on its ~150 dpi 10.1" panel (53 px)."""
    return MIN_MM * PANEL_PX_PER_MM * scale_for(window_height)


def check_screen(window: Any = None, min_px: float | None = None) -> list[str]:
    """Findings for everything on `window` (Kivy's Window by default) as it is laid out now."""
    if window is None:
        from kivy.core.window import Window as window  # noqa: N813 - the one window
    if min_px is None:
        min_px = min_target_px(window.height)
    layers = list(window.children)  # children[0] is the topmost (an open dialog)
    drawn = [(w, r) for top in layers for w, r in visible_widgets(top, window)]
    touch_layer = [(w, r) for w, r in visible_widgets(layers[0], window)] if layers else []
    targets = [(w, r) for w, r in touch_layer if takes_touches(w)]
    findings = []
    findings += overlap_findings(targets)
    findings += size_findings(targets, min_px)
    for widget, _rect in drawn:
        findings += text_findings(widget)
    return findings


# --- what is drawn -------------------------------------------------------------------------
def visible_widgets(top: Any, window: Any) -> Iterator[tuple[Any, Rect]]:
    """(widget, visible rectangle) for every drawn widget under `top`, depth first."""
    screen: Rect = (0, 0, window.width, window.height)
    yield from _visible(top, screen)


def _visible(widget: Any, clip: Rect) -> Iterator[tuple[Any, Rect]]:
    from kivy.uix.stencilview import StencilView

    if widget.opacity <= 0.01:
        return
    rect = window_rect(widget)
    shown = intersect(rect, clip)
    if widget.width < 1 or widget.height < 1:
        return
    if shown is not None:
        yield widget, shown
    inner = intersect(rect, clip) if isinstance(widget, StencilView) else clip
    if inner is None:
        return
    for child in widget.children:
        yield from _visible(child, inner)


def window_rect(widget: Any) -> Rect:
    x, y = widget.to_window(widget.x, widget.y)
    return (x, y, x + widget.width, y + widget.height)


def intersect(a: Rect, b: Rect) -> Rect | None:
    x, y, right, top = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    if right - x <= SLACK or top - y <= SLACK:
        return None
    return (x, y, right, top)


def takes_touches(widget: Any) -> bool:
    """Buttons, toggles, text inputs and anything with a press/release event or focus."""
    from kivy.uix.behaviors import ButtonBehavior, FocusBehavior
    from kivy.uix.scrollview import ScrollView
    from kivy.uix.textinput import TextInput

    if isinstance(widget, ScrollView):
        return False  # a container: its children are the targets
    if isinstance(widget, (ButtonBehavior, FocusBehavior, TextInput)):
        return True
    return any(widget.is_event_type(event) for event in ("on_press", "on_release")) \
        or hasattr(widget, "focus")


def describe(widget: Any, rect: Rect | None = None) -> str:
    rect = rect or window_rect(widget)
    name = type(widget).__name__
    ident = next((key for key, value in _ids_of(widget) if _same(value, widget)), "")
    text = str(getattr(widget, "text", "")).replace("\n", "⏎")
    where = f"at ({rect[0]:.0f},{rect[1]:.0f}) {rect[2] - rect[0]:.0f}x{rect[3] - rect[1]:.0f}"
    return f"{name}{'#' + ident if ident else ''} {text!r} {where}"


def _same(proxy: Any, widget: Any) -> bool:
    """kv ids hold weak proxies: equal to their widget, not identical to it."""
    try:
        return bool(proxy == widget)
    except ReferenceError:
        return False


def _ids_of(widget: Any) -> Iterable[tuple[str, Any]]:
    """The kv id of `widget`, looked up in the ids of its ancestors."""
    node = widget.parent
    while node is not None and getattr(node, "parent", None) is not node:
        ids = getattr(node, "ids", None)
        if ids:
            yield from ids.items()
        node = getattr(node, "parent", None)


# --- the three rules -----------------------------------------------------------------------
def overlap_findings(targets: list[tuple[Any, Rect]]) -> list[str]:
    found = []
    for i, (a, ra) in enumerate(targets):
        for b, rb in targets[i + 1:]:
            if _related(a, b):
                continue
            both = intersect(ra, rb)
            if both is not None:
                found.append(f"overlap: {describe(a, ra)} and {describe(b, rb)} share "
                             f"{both[2] - both[0]:.0f}x{both[3] - both[1]:.0f} px")
    return found


def _related(a: Any, b: Any) -> bool:
    """One inside the other (a row that takes taps around its own buttons)."""
    for inner, outer in ((a, b), (b, a)):
        node = inner.parent
        while node is not None and node is not node.parent:
            if node is outer:
                return True
            node = node.parent
    return False


def size_findings(targets: list[tuple[Any, Rect]], min_px: float) -> list[str]:
    return [f"small target: {describe(w)} is under {min_px:.0f} px"
            for w, _r in targets if w.width < min_px - SLACK or w.height < min_px - SLACK]


def text_findings(widget: Any) -> list[str]:
    """Whether the label's text, laid out as Kivy lays it out, fits the widget."""
    from kivy.uix.label import Label

    if not isinstance(widget, Label) or not widget.text.strip() or widget.markup:
        return []
    width, height = widget.size
    box_w = widget.text_size[0]
    found = []
    need_w, need_h = measure(widget, None if widget.shorten else box_w)  # shorten: one line
    if widget.shorten and box_w is not None:
        need_w = min(need_w, box_w)  # the cut is reported below
    if need_h > height + SLACK:
        found.append(f"text cut: {describe(widget)} needs {need_h:.0f} px of height")
    if need_w > width + SLACK:
        found.append(f"text cut: {describe(widget)} needs {need_w:.0f} px of width")
    if box_w is not None and widget.shorten:  # one line, cut with … where it does not fit
        if measure(widget, None)[0] > box_w + SLACK:
            found.append(f"text cut with …: {describe(widget)}")
    elif box_w is not None:
        pad = widget.padding[0] + widget.padding[2]
        for word in set(widget.text.split()):
            word_w = measure(widget, None, word)[0]
            if word_w > box_w + SLACK:
                found.append(f"word broken over lines: {word!r} ({word_w - pad:.0f} px) in "
                             f"{describe(widget)}, {box_w - pad:.0f} px for text")
        if widget.max_lines and _lines(widget, box_w) > widget.max_lines:
            found.append(f"text cut after {widget.max_lines} line(s): {describe(widget)}")
    return found


_measured: dict[tuple, tuple[int, int]] = {}


def measure(widget: Any, box_w: float | None, text: str | None = None) -> tuple[int, int]:
    """(width, height) the text needs, padding included, wrapped at `box_w` (None: no wrap)."""
    from kivy.core.text import Label as CoreLabel

    options = {name: getattr(widget, name) for name in TEXT_OPTIONS if hasattr(widget, name)}
    options["padding"] = list(options.get("padding", [0, 0, 0, 0]))
    text = widget.text if text is None else text
    key = (text, box_w, repr(sorted(options.items())))
    if key not in _measured:
        core = CoreLabel(text=text, text_size=(box_w, None), shorten=False, max_lines=0,
                         valign="top", **options)
        core.resolve_font_name()
        _measured[key] = core.render()
    return _measured[key]


def _lines(widget: Any, box_w: float) -> int:
    one = measure(widget, None, "Ag")[1]
    return max(1, round(measure(widget, box_w)[1] / max(1, one)))
