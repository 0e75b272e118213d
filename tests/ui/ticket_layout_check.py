"""Child process of tests/ui/test_ticket_layout.py (Kivy's window is one per process): the
ticket's fixed-row layout (ui.widgets.TicketLayout) against Kivy's general RecycleBoxLayout
pass on the same data, after every append, an edit and a shorter ticket; and five scans on the
incremental path (one row appended, one full pass, rows kept in the layout), then the
selection moved. Prints JSON."""

from __future__ import annotations

import json
import sys

from ui.kivy_setup import configure_kivy


def main() -> int:
    configure_kivy(False, 800, 480, False)
    from kivy.base import EventLoop
    from kivy.core.window import Window
    from kivy.uix.recycleboxlayout import RecycleBoxLayout

    from ui.app import load_kv
    from ui.widgets import TicketLayout, TicketView

    load_kv()
    EventLoop.ensure_window()
    view = TicketView(size=(600, 400), size_hint=(None, None))
    Window.add_widget(view)
    layout = view.layout_manager
    assert isinstance(layout, TicketLayout)

    def snapshot() -> dict:
        return {"opts": [tuple(map(tuple, layout.place_of(i))) for i in range(len(layout.view_opts))],
                "positions": list(layout._rv_positions or []),
                "minimum": tuple(layout.minimum_size), "height": layout.height,
                "rows": sorted((w.line_no, tuple(w.pos), tuple(w.size))
                               for w in layout.children)}

    general_pass = RecycleBoxLayout.compute_layout

    def refused(*_args: object) -> None:
        raise AssertionError("the general layout ran where the fixed-row one should")

    def both() -> tuple[dict, dict]:
        RecycleBoxLayout.compute_layout = refused  # the fast pass must not fall back
        try:
            view.refresh_from_data()
            view.refresh_views()
        finally:
            RecycleBoxLayout.compute_layout = general_pass
        fast = snapshot()
        original = TicketLayout.compute_layout
        TicketLayout.compute_layout = general_pass
        try:
            view.refresh_from_data()
            view.refresh_views()
            general = snapshot()
        finally:
            TicketLayout.compute_layout = original
        return fast, general

    def row(n: int) -> dict:
        return {"line_no": n, "name": f"item {n}", "detail": "1 x 1,00", "amount": "1,00",
                "selected": False}

    cases = []
    view.show([row(n) for n in range(1, 4)], scroll_to_end=True)
    cases.append(("three", *both()))
    for n in range(4, 131):
        view.add_row(row(n))
    cases.append(("130 appended", *both()))
    scans = []  # a scan's path: one row appended, its own refresh, the view at the end
    passes = {"clear": 0}
    keep_clear = TicketLayout.clear_layout

    def counted(self: TicketLayout) -> None:
        passes["clear"] += 1
        keep_clear(self)

    TicketLayout.clear_layout = counted
    try:
        for n in range(131, 136):
            passes["clear"] = 0
            view.add_row(row(n))
            view.refresh_views()
            scans.append({"clears": passes["clear"], **snapshot()})
    finally:
        TicketLayout.clear_layout = keep_clear
    bar_edge = layout.x + layout.width - view.bar_width  # where the scroll bar begins
    clear_of_bar = {"rows": len(layout.children), "bar_width": view.bar_width,
                    "all_clear": all(child.right <= bar_edge + 0.5 for child in layout.children)}
    places = layout._rv_positions
    heights = [y + d for y in list(places) for d in (-0.5, 0, 0.5)] + list(range(-100, 9000, 7))
    found = [layout.get_view_index_at((0, y)) for y in heights]
    layout._rv_positions = list(places)
    kivys = [RecycleBoxLayout.get_view_index_at(layout, (0, y)) for y in heights]
    layout._rv_positions = places
    index_at = {"heights": len(heights), "same": found == kivys,
                "arithmetic": type(places).__name__}
    general = dict(both()[1])
    for n in (133, 131, 131, 134):
        view.select(n)
    selection = {"selected_line": view.selected_line,
                 "flags": [r["line_no"] for r in view.data if r["selected"]],
                 "all_rows_agree": all(r["selected"] == (r["line_no"] == view.selected_line)
                                       for r in view.data)}
    view.data[5] = {**row(6), "name": "changed"}
    cases.append(("one edited", *both()))
    view.show([row(n) for n in range(1, 11)], scroll_to_end=False)
    cases.append(("shorter", *both()))
    view.show([], scroll_to_end=False)
    cases.append(("empty", *both()))
    out = [{"case": name, "same": fast == general, "fast": fast, "general": general}
           for name, fast, general in cases]
    out.append({"case": "scans", "scans": scans, "general": general, "selection": selection,
                "index_at": index_at, "clear_of_bar": clear_of_bar})
    print("RESULT " + json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
