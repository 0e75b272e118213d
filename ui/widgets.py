"""Reusable touch widgets: big buttons, the numeric keypad, the ticket list and the red flash."""

from __future__ import annotations

from kivy.animation import Animation
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.recycleboxlayout import RecycleBoxLayout
from kivy.uix.recyclelayout import RecycleLayout
from kivy.uix.recycleview import RecycleView
from kivy.uix.recycleview.views import RecycleDataViewBehavior
from kivy.uix.widget import Widget

from ui.metrics import S

GREEN = (0.10, 0.55, 0.25, 1)
RED = (0.75, 0.12, 0.12, 1)
BLUE = (0.15, 0.35, 0.65, 1)
GREY = (0.30, 0.32, 0.36, 1)
ORANGE = (0.85, 0.45, 0.05, 1)


class BigButton(Button):
    """A flat button at least 60 px (scaled) in both directions."""

    tone = ListProperty(GREY)


class KeyPad(GridLayout):
    """Digits, clear and enter; dispatches on_key('0'..'9', 'C', 'OK', '00')."""

    enter_text = StringProperty("OK")
    show_double_zero = BooleanProperty(False)

    def __init__(self, **kwargs) -> None:
        self.register_event_type("on_key")
        super().__init__(**kwargs)
        self.cols = 3
        keys = ["7", "8", "9", "4", "5", "6", "1", "2", "3", "C", "0", "OK"]
        for key in keys:
            button = BigButton(text=self.enter_text if key == "OK" else key, font_size=S(28))
            if key == "OK":
                button.tone = GREEN
                self.bind(enter_text=lambda _w, value, b=button: setattr(b, "text", value))
            elif key == "C":
                button.tone = ORANGE
            button.key = key
            button.bind(on_release=self._pressed)
            self.add_widget(button)

    def _pressed(self, button: Button) -> None:
        self.dispatch("on_key", button.key)

    def on_key(self, key: str) -> None:
        pass


class TicketRow(RecycleDataViewBehavior, ButtonBehavior, BoxLayout):
    """One ticket line: name, quantity x unit price, amount; tap selects it."""

    index = NumericProperty(0)
    line_no = NumericProperty(0)
    name = StringProperty("")
    detail = StringProperty("")
    amount = StringProperty("")
    selected = BooleanProperty(False)

    def refresh_view_attrs(self, rv, index, data):  # noqa: ANN001 - Kivy's signature
        self.index = index
        return super().refresh_view_attrs(rv, index, data)

    def on_release(self) -> None:
        view = self.parent.parent if self.parent else None
        if isinstance(view, TicketView):
            view.select(self.line_no)


class TicketLayout(RecycleBoxLayout):
    """A RecycleBoxLayout that keeps each row widget bound to its line when lines are only
    appended or changed in place: Kivy's own layout hands every visible row new data after
    any change (re-rendering all their label textures); here only the rows whose data
    changed are refreshed, so a scan re-renders one row, not the whole visible ticket."""

    _keep: list | None = None  # 'modified' slices of an append/modify-only change

    def compute_sizes_from_data(self, data, flags):  # noqa: ANN001, ANN201 - Kivy's signature
        if flags and all(f and set(f) <= {"appended", "modified"} for f in flags):
            self._keep = [f["modified"] for f in flags if "modified" in f]
        else:
            self._keep = None
        return super().compute_sizes_from_data(data, flags)

    def clear_layout(self) -> None:
        keep, adapter = self._keep, self.recycleview.view_adapter if self.recycleview else None
        if keep is None or adapter is None:
            super().clear_layout()
            return
        data = self.recycleview.data
        for changed in keep:  # rows on screen whose line changed get their new data now
            for index in range(*changed.indices(len(data))):
                view = adapter.views.get(index)
                if view is not None:
                    adapter.refresh_view_attrs(index, data[index], view)
        self._keep = []  # compute_layout clears again within the same refresh: keep views
        adapter.make_views_dirty()  # still in sync with their data: reused by index
        self.clear_widgets()
        self.view_indices = {}
        self._size_needs_update = False

    def compute_layout(self, data, flags):  # noqa: ANN001, ANN201 - Kivy's signature
        """Rows of one fixed height, one under the other: each row's place is arithmetic, so a
        scan costs a few dict writes per line instead of BoxLayout's general pass over every
        row's hints (run twice per scan, as the ticket's height grows)."""
        hint_x, hint_y = self.default_size_hint
        if (self.orientation != "vertical" or self.default_size[1] is None or hint_y is not None
                or self.default_pos_hint or self.key_size or self.key_size_hint):
            return super().compute_layout(data, flags)
        RecycleLayout.compute_layout(self, data, flags)
        changed = self._changed_views
        if changed is None or (changed and not self._update_sizes(changed)):
            return
        self.clear_layout()
        self._rv_positions = None
        left, top, right, bottom = self.padding
        if not data:
            self.minimum_size = left + right, top + bottom
            return
        count, row, spacing = len(data), self.default_size[1], self.spacing
        self.minimum_size = left + right, top + bottom + count * row + (count - 1) * spacing
        x = self.x + left
        width = self.default_size[0] if hint_x is None else max(0, hint_x * (self.width - left - right))
        y0, step = self.y + bottom, row + spacing
        for index, opt in enumerate(self.view_opts):
            opt["pos"] = x, y0 + (count - 1 - index) * step
            opt["size"] = [width, row]
        first = self.y + self.height - top - row - spacing / 2.0
        self._rv_positions = [first - (count - 1 - j) * step for j in range(count)]


class TicketView(RecycleView):
    """The open ticket; a RecycleView so 100+ lines still draw within one frame."""

    selected_line = NumericProperty(0)
    row_height = NumericProperty(60)

    def __init__(self, **kwargs) -> None:
        self.register_event_type("on_select")
        super().__init__(**kwargs)

    def show(self, rows: list[dict], scroll_to_end: bool) -> None:
        """Applies the ticket's rows with the smallest change to `data`: an added line is one
        append, an edited line one item replaced; anything else replaces the list."""
        for row in rows:
            row["selected"] = row["line_no"] == self.selected_line
        data, old = self.data, len(self.data)
        changed = [i for i in range(old) if data[i] != rows[i]] if len(rows) >= old else None
        if changed is None or len(changed) > 3:
            self.data = rows  # a new, recalled or shortened ticket: everything is redrawn
        else:
            for i in changed:
                data[i] = rows[i]
            if len(rows) > old:
                data.extend(rows[old:])
        if scroll_to_end and len(rows) * self.row_height > self.height:
            self.scroll_y = 0

    def add_row(self, row: dict) -> None:
        """A scanned line at the end: one append, and the view follows it."""
        row["selected"] = False
        self.data.append(row)
        if len(self.data) * self.row_height > self.height:
            self.scroll_y = 0

    def select(self, line_no: int) -> None:
        self.selected_line = 0 if self.selected_line == line_no else line_no
        for i, row in enumerate(self.data):
            if row["selected"] != (row["line_no"] == self.selected_line):
                self.data[i] = {**row, "selected": not row["selected"]}
        self.dispatch("on_select", self.selected_line)

    def on_select(self, line_no: int) -> None:
        pass


class Flash(Widget):
    """A full-screen red flash that fades; it never takes touches away from the screen."""

    alpha = NumericProperty(0.0)

    def fire(self) -> None:
        Animation.cancel_all(self)
        self.alpha = 0.65
        (Animation(alpha=0.65, duration=0.35) + Animation(alpha=0.0, duration=0.8)).start(self)

    def on_touch_down(self, touch) -> bool:  # noqa: ANN001
        return False


class Banner(Label):
    """A coloured message line (error, info) on a screen."""

    tone = ListProperty(RED)
