"""Reusable touch widgets: big buttons, the numeric keypad, the ticket list and the red flash."""

from __future__ import annotations

from kivy.animation import Animation
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
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


class TicketView(RecycleView):
    """The open ticket; a RecycleView so 100+ lines still draw within one frame."""

    selected_line = NumericProperty(0)
    row_height = NumericProperty(60)

    def __init__(self, **kwargs) -> None:
        self.register_event_type("on_select")
        super().__init__(**kwargs)

    def show(self, rows: list[dict], scroll_to_end: bool) -> None:
        for row in rows:
            row["selected"] = row["line_no"] == self.selected_line
        self.data = rows
        if scroll_to_end and len(rows) * self.row_height > self.height:
            self.scroll_y = 0

    def select(self, line_no: int) -> None:
        self.selected_line = 0 if self.selected_line == line_no else line_no
        for row in self.data:
            row["selected"] = row["line_no"] == self.selected_line
        self.refresh_from_data()
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
