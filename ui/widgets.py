"""Reusable touch widgets: big buttons, the numeric keypad, the ticket list and the red flash."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from kivy.animation import Animation
from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, InstructionGroup, PopMatrix, PushMatrix, Rectangle, Translate
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
from kivy.uix.screenmanager import ScreenManager
from kivy.uix.widget import Widget

from ui.metrics import S
from ui.tiles import Tile, TileBackdrop

GREEN = (0.10, 0.55, 0.25, 1)
RED = (0.75, 0.12, 0.12, 1)
BLUE = (0.15, 0.35, 0.65, 1)
GREY = (0.30, 0.32, 0.36, 1)
ORANGE = (0.85, 0.45, 0.05, 1)


class FitText:
    """For a Label: the font shrinks from the size the rules ask for (down to half of it)
    until the text fits the widget with no word broken over two lines, so a long caption or
    a translation never shows as "Aanmeld/en" or runs out of its button or banner."""

    def __init__(self, **kwargs) -> None:
        self._wanted_font = 0.0
        self._fitting = False
        self._fit_trigger = Clock.create_trigger(self._fit, -1)
        super().__init__(**kwargs)
        for name in ("text", "size", "text_size", "bold", "font_name", "padding"):
            self.fbind(name, self._fit_trigger)
        self._fit_trigger()

    def on_font_size(self, _widget, value: float) -> None:
        if not self._fitting:
            self._wanted_font = value
            self._fit_trigger()

    def _fit(self, *_args) -> None:
        wanted = self._wanted_font or self.font_size
        size, floor = wanted, wanted / 2
        while size > floor and not text_fits(self, size):
            size -= max(1.0, size * 0.06)
        self._fitting = True
        self.font_size = max(size, floor)
        self._fitting = False


def text_fits(label: Label, font_size: float) -> bool:
    """Whether `label`'s text at `font_size` fits its size, no word split over lines.
    Remembered per text, font and box: the same detail line ("1 × € 1,29") and the same
    captions come back on every ticket, and measuring renders the text once more."""
    if not label.text or label.width < 2 or label.height < 2:
        return True
    return measure_fit(label.text, tuple(label.size), label.text_size[0], font_size,
                       label.font_name, label.bold, label.italic, tuple(label.padding),
                       label.halign, label.line_height)


@functools.lru_cache(maxsize=1024)
def measure_fit(text: str, size: tuple, box_w: float | None, font_size: float, font_name: str,  # noqa: PLR0913
                bold: bool, italic: bool, padding: tuple, halign: str, line_height: float,
                quick: bool = True) -> bool:
    """text_fits for the label's values. `quick`: a text on one line that fits is answered
    with one measure; without it the text is always wrapped and every word measured (the
    tests compare both)."""
    pad = padding[0] + padding[2]
    one_line = text.count("\n") == 0
    if quick and one_line:  # on one line within the box: fits, no word split; one measure
        line_w, line_h = measurer(font_size, font_name, bold, italic).get_extents(text)
        room = size[0] if box_w is None else min(size[0], box_w)
        tall = line_h * max(1.0, line_height) + padding[1] + padding[3]
        if line_w + pad <= room - 1 and tall <= size[1] - 1:
            return True
    options = {"font_size": font_size, "font_name": font_name, "bold": bold, "italic": italic,
               "padding": list(padding), "halign": halign, "line_height": line_height}
    core = CoreLabel(text=text, text_size=(box_w, None), **options)
    core.resolve_font_name()
    width, height = core.render()
    if height > size[1] or width > size[0]:
        return False
    if box_w is None:
        return True
    return all(core.get_extents(word)[0] + pad <= box_w for word in text.split())


@functools.lru_cache(maxsize=32)
def measurer(font_size: float, font_name: str, bold: bool, italic: bool) -> CoreLabel:
    """A text-less CoreLabel in that font, to measure one line with (get_extents depends
    on the font alone): a new message measured for fit costs one measure, not a CoreLabel
    built for it, on each scan."""
    core = CoreLabel(font_size=font_size, font_name=font_name, bold=bold, italic=italic)
    core.resolve_font_name()
    return core


class FitLabel(FitText, Label):
    """A label whose font shrinks to fit (dialog titles, long translations)."""


class BigButton(FitText, Button):
    """A flat button at least 60 px (scaled) in both directions; its caption always fits."""

    tone = ListProperty(GREY)


class TileButton(Tile, BigButton):
    """A BigButton in a TileRow or TileGrid, which draws its background (ui/tiles.py)."""


class TileRow(TileBackdrop, BoxLayout):
    """A BoxLayout that draws its TileButtons' backgrounds in one Mesh."""


class TileGrid(TileBackdrop, GridLayout):
    """A GridLayout that draws its TileButtons' backgrounds in one Mesh."""


class KeyPad(GridLayout):
    """Digits, clear and enter; dispatches on_key('0'..'9', 'C', 'OK', ',').

    With `decimal` the bottom row is ', 0 OK' (money in euros, as on every till) and the
    screen gives clear a button of its own."""

    enter_text = StringProperty("OK")
    show_double_zero = BooleanProperty(False)
    decimal = BooleanProperty(False)
    decimal_text = StringProperty(",")

    def __init__(self, **kwargs) -> None:
        self.register_event_type("on_key")
        super().__init__(**kwargs)
        self.cols = 3
        self._build()

    def on_decimal(self, _pad, _value: bool) -> None:  # noqa: ANN001
        self._build()

    def _build(self) -> None:
        self.clear_widgets()
        keys = ["7", "8", "9", "4", "5", "6", "1", "2", "3", "," if self.decimal else "C", "0", "OK"]
        for key in keys:
            button = BigButton(text=self.enter_text if key == "OK" else key, font_size=S(28))
            if key == "OK":
                button.tone = GREEN
                button.font_size = S(22) if len(self.enter_text) > 6 else S(28)
                self.bind(enter_text=lambda _w, value, b=button: setattr(b, "text", value))
            elif key == "C":
                button.tone = ORANGE
            elif key == ",":
                button.text = self.decimal_text
                self.bind(decimal_text=lambda _w, value, b=button: setattr(b, "text", value))
            button.key = key
            button.bind(on_release=self._pressed)
            self.add_widget(button)

    def _pressed(self, button: Button) -> None:
        self.dispatch("on_key", button.key)

    def on_key(self, key: str) -> None:
        pass


ROW_PAD_X, ROW_PAD_Y, ROW_AMOUNT_WIDTH = 6, 2, 104  # a ticket row's margins and amount column
ROW_SELECTED, ROW_ODD, ROW_EVEN = (0.20, 0.40, 0.70, 1), (0.16, 0.17, 0.19, 1), (0.12, 0.13, 0.15, 1)


class TicketRow(RecycleDataViewBehavior, ButtonBehavior, Widget):
    """One ticket line: name over quantity x unit price, the amount on the right; tap selects
    it. A plain widget whose three labels are placed here in one pass: the nested
    BoxLayouts it had cost a scan two layout passes and their kv callbacks per row.

    Its labels and background sit in the row's own coordinates (a Translate to the row's
    position, as in Kivy's RelativeLayout): a scan moves every visible row up by one, and
    moving a row is then one Translate instead of three labels and their canvas rules."""

    index = NumericProperty(0)
    line_no = NumericProperty(0)
    name = StringProperty("")
    detail = StringProperty("")
    amount = StringProperty("")
    selected = BooleanProperty(False)

    def __init__(self, **kwargs) -> None:
        self._shift = Translate()
        self._colour = Color()
        self._back = Rectangle(pos=(0, 0))
        super().__init__(**kwargs)
        before = self.canvas.before
        for instruction in (PushMatrix(), self._shift, self._colour, self._back):
            before.add(instruction)
        self.canvas.after.add(PopMatrix())
        self.fbind("size", self.place)
        self.fbind("pos", self._move)
        self.fbind("selected", self._paint)
        self.fbind("index", self._paint)
        self.place()
        self._move()
        self._paint()

    def _move(self, *_args) -> None:
        self._shift.xy = self.pos

    def _paint(self, *_args) -> None:
        """Selected in blue, the other rows in two alternating greys."""
        self._colour.rgba = ROW_SELECTED if self.selected else ROW_ODD if self.index % 2 else ROW_EVEN

    def place(self, *_args) -> None:
        """The name on the upper half, the detail on the lower, the amount at full height
        in a fixed column on the right; each label wraps within its own box. In the row's
        own coordinates: only a new size moves them."""
        pad_x, pad_y, amount_width = S(ROW_PAD_X), S(ROW_PAD_Y), S(ROW_AMOUNT_WIDTH)
        width, height = max(0, self.width - 2 * pad_x), max(0, self.height - 2 * pad_y)
        text_width = max(0, width - amount_width)
        half = height / 2
        self._back.size = self.size
        ids = self.ids
        for label, pos, size in ((ids.name_label, (pad_x, pad_y + half), (text_width, half)),
                                 (ids.detail_label, (pad_x, pad_y), (text_width, half)),
                                 (ids.amount_label, (pad_x + text_width, pad_y), (amount_width, height))):
            label.pos, label.size = pos, size
            label.text_size = size

    def to_parent(self, x: float, y: float, **_kwargs) -> tuple[float, float]:
        return x + self.x, y + self.y

    def to_local(self, x: float, y: float, **_kwargs) -> tuple[float, float]:
        return x - self.x, y - self.y

    def _apply_transform(self, m, pos=None):  # noqa: ANN001, ANN202 - Kivy's signature
        m.translate(self.x, self.y, 0)
        return super()._apply_transform(m, (0, 0))
    # touches: only the row itself takes them (its labels take none), in its parent's terms

    def refresh_view_attrs(self, rv, index, data):  # noqa: ANN001 - Kivy's signature
        self.index = index
        return super().refresh_view_attrs(rv, index, data)

    def on_release(self) -> None:
        view = self.parent.parent if self.parent else None
        if isinstance(view, TicketView):
            view.select(self.line_no)


class RowPlaces(Sequence):
    """The ticket layout's rows, all of one height, by arithmetic: as a sequence, the view
    positions RecycleBoxLayout keeps (its `_rv_positions`, one per row, lowest row first),
    and each row's place and size. One object per full pass instead of a list and a place
    written for every row."""

    def __init__(self, count: int, x: float, y0: float, width: float, row: float,  # noqa: PLR0913
                 spacing: float, first: float) -> None:
        self.count, self.x, self.y0, self.width, self.row = count, x, y0, width, row
        self.step = row + spacing
        self.first = first  # the top row's view position

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, j):  # noqa: ANN001, ANN204 - an index or a slice, as a list takes
        if isinstance(j, slice):
            return [self[i] for i in range(*j.indices(self.count))]
        if j < 0:
            j += self.count
        if not 0 <= j < self.count:
            raise IndexError(j)
        return self.first - (self.count - 1 - j) * self.step

    def place(self, index: int) -> tuple[tuple[float, float], list[float]]:
        """Row `index`'s place (data order, the first at the top) and size."""
        return (self.x, self.y0 + (self.count - 1 - index) * self.step), [self.width, self.row]


class TicketLayout(RecycleBoxLayout):
    """A RecycleBoxLayout that keeps each row widget bound to its line when lines are only
    appended or changed in place: Kivy's own layout hands every visible row new data after
    any change (re-rendering all their label textures); here only the rows whose data
    changed are refreshed, so a scan re-renders one row, not the whole visible ticket."""

    _keep: list | None = None  # 'modified' slices of an append/modify-only change
    _laid: tuple | None = None  # what the last full pass placed the rows for (see compute_layout)

    def compute_sizes_from_data(self, data, flags):  # noqa: ANN001, ANN201 - Kivy's signature
        self._laid = None
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
        self.view_indices = {}  # the rows stay children: set_visible_views takes off the rest
        self._size_needs_update = False

    def set_visible_views(self, indices, data, viewport):  # noqa: ANN001, ANN201 - Kivy's signature
        """Kivy's, then the rows no longer shown are taken off: clear_layout leaves the rows in
        the layout, so the ones a scan keeps on screen are only moved, not removed and added
        again (each a canvas taken out and put back, and their bindings)."""
        super().set_visible_views(indices, data, viewport)
        shown = self.view_indices
        for child in [child for child in self.children if child not in shown]:
            self.remove_widget(child)

    def compute_layout(self, data, flags):  # noqa: ANN001, ANN201 - Kivy's signature
        """Rows of one fixed height, one under the other: each row's place is arithmetic, so a
        full pass writes no row's place at all. The rows Kivy shows get theirs as they are shown
        (refresh_view_layout), and the view finds the rows in its viewport by division
        (RowPlaces); Kivy's pass wrote the place of all 100+ rows on every scan.

        Once per scan: the new height this pass sets (`height: self.minimum_height`) asks the
        view for another full pass, which would place every row where it already is and take
        the visible rows off and on again; it is skipped when nothing it depends on moved."""
        hint_x, hint_y = self.default_size_hint
        if (self.orientation != "vertical" or self.default_size[1] is None or hint_y is not None
                or self.default_pos_hint or self.key_size or self.key_size_hint):
            return super().compute_layout(data, flags)
        RecycleLayout.compute_layout(self, data, flags)
        changed = self._changed_views
        if changed is None or (changed and not self._update_sizes(changed)):
            return
        if not changed and self._laid is not None and self._laid == self._placing(data):
            return  # a full pass asked for by the height the last pass set: all in place
        self._laid = None
        self.clear_layout()
        self._rv_positions = None
        left, top, right, bottom = self.padding
        if not data:
            self.minimum_size = left + right, top + bottom
            return
        count, row, spacing = len(data), self.default_size[1], self.spacing
        self.minimum_size = left + right, top + bottom + count * row + (count - 1) * spacing
        width = self.default_size[0] if hint_x is None else max(0, hint_x * (self.width - left - right))
        self._rv_positions = RowPlaces(count, self.x + left, self.y + bottom, width, row, spacing,
                                       self.y + self.height - top - row - spacing / 2.0)
        self._laid = self._placing(data)

    def refresh_view_layout(self, index, layout, view, viewport):  # noqa: ANN001, ANN201 - Kivy's signature
        """A row about to be shown gets its place and size from the arithmetic of the last full
        pass, in its options too (Kivy compares a shown row's size with them)."""
        places = self._rv_positions
        if isinstance(places, RowPlaces) and index < len(places):
            opt = self.view_opts[index]
            opt["pos"], opt["size"] = layout["pos"], layout["size"] = places.place(index)
        return super().refresh_view_layout(index, layout, view, viewport)

    def place_of(self, index: int) -> tuple[tuple, tuple]:
        """Where row `index` is laid out (its place and size), as Kivy's own pass would
        have written it in its options."""
        places = self._rv_positions
        if isinstance(places, RowPlaces):
            return places.place(index)
        opt = self.view_opts[index]
        return tuple(opt["pos"]), tuple(opt["size"])

    def get_view_index_at(self, pos):  # noqa: ANN001, ANN201 - Kivy's signature
        """Kivy's answer (the row at that height, 0 above the top), found by division
        instead of a walk over every row's position."""
        places = self._rv_positions
        if not isinstance(places, RowPlaces):
            return super().get_view_index_at(pos)
        count, y = len(places), pos[1]
        if count == 0:
            return 0
        if count == 1 or y >= places[count - 1]:
            return 0
        # Kivy: the smallest k >= 1 with y < places[k] gives row count - k
        k = max(1, min(count - 1, int((y - places[0]) // places.step) + 1))
        while k > 1 and y < places[k - 1]:
            k -= 1
        while not y < places[k]:
            k += 1
        return count - k

    def _placing(self, data) -> tuple:  # noqa: ANN001 - the view's data
        """Everything a full pass's row places and view positions follow from."""
        return (len(data), id(self.view_opts), tuple(self.pos), tuple(self.size),
                tuple(self.padding), self.spacing, tuple(self.default_size),
                tuple(self.default_size_hint))


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
        """Selects the line, or clears the selection when it is the selected one. A row's
        flag is `line_no == selected_line` (show and add_row keep it so), so only the rows of
        the old and the new selection can change; they are looked for from the end, where a
        scan's line and the one before it are, instead of comparing every row."""
        old, self.selected_line = self.selected_line, 0 if self.selected_line == line_no else line_no
        data, wanted = self.data, {old, line_no} - {0}
        for i in range(len(data) - 1, -1, -1):
            if not wanted:
                break
            row = data[i]
            if row["line_no"] in wanted:
                wanted.discard(row["line_no"])
                if row["selected"] != (row["line_no"] == self.selected_line):
                    data[i] = {**row, "selected": not row["selected"]}
        self.dispatch("on_select", self.selected_line)

    def on_select(self, line_no: int) -> None:
        pass


class PagedButtons(TileBackdrop, BoxLayout):
    """Buttons a page at a time, as many as fit at `cell_width` x `cell_height` (or `cols` x
    `rows` when given). When they do not all fit, big arrows turn the pages and a label says
    "page / pages": categories in one row with the arrows at its ends (`arrows: 'ends'`),
    products in a grid with the arrows below it (`arrows: 'below'`). Every button is
    reachable by an obvious tap, no thin scrollbar to find. The buttons are made by `make`
    when their page is first shown; TileButtons, whose backgrounds the grid draws in one
    Mesh, as it and the arrows' row do for the arrows."""

    page = NumericProperty(0)
    pages = NumericProperty(1)
    per_page = NumericProperty(1)
    cols = NumericProperty(0)
    rows = NumericProperty(0)
    cell_width = NumericProperty(90)
    cell_height = NumericProperty(60)
    arrow_size = NumericProperty(60)
    gap = NumericProperty(3)
    arrows = StringProperty("below")  # below | ends

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.items: list = []
        self.made: dict[int, Widget] = {}
        self.make = None
        self.grid = TileGrid()
        self.prev = TileButton(text="◀", font_name="DejaVuSans", on_release=lambda _b: self.turn(-1))
        self.next = TileButton(text="▶", font_name="DejaVuSans", on_release=lambda _b: self.turn(1))
        self.where = Label(bold=True, color=(0.75, 0.78, 0.82, 1))
        self.nav = TileRow(size_hint_y=None)
        self._refresh = Clock.create_trigger(self._show, -1)
        for name in ("size", "page", "cols", "rows", "cell_width", "cell_height", "arrow_size",
                     "gap", "arrows"):
            self.fbind(name, self._refresh)

    def set_items(self, items: list, make) -> None:  # noqa: ANN001 - make(item) -> Widget
        """New buttons (a new category): back to the first page."""
        self.items, self.make, self.made = list(items), make, {}
        self.page = 0
        self._refresh()

    def shown(self) -> list[Widget]:
        """The buttons of the current page, in order."""
        return list(reversed(self.grid.children))

    def turn(self, step: int) -> None:
        self.page = min(max(0, self.page + step), self.pages - 1)

    def _fit(self, width: float, height: float) -> tuple[int, int]:
        cols = self.cols or max(1, int((width + self.gap) // (self.cell_width + self.gap)))
        rows = self.rows or max(1, int((height + self.gap) // (self.cell_height + self.gap)))
        return cols, rows

    def _show(self, *_args) -> None:
        ends, gap, arrow = self.arrows == "ends", self.gap, self.arrow_size
        cols, rows = self._fit(self.width, self.height)
        paged = len(self.items) > cols * rows
        if paged and ends:
            cols, rows = self._fit(self.width - 2 * arrow - self.where_width() - 3 * gap, self.height)
        elif paged:
            cols, rows = self._fit(self.width, self.height - arrow - gap)
        self.per_page = cols * rows
        self.pages = max(1, -(-len(self.items) // self.per_page))
        if self.page >= self.pages:
            self.page = self.pages - 1
            return  # shown again by the page change
        self._arrange(paged, ends)
        self.grid.cols, self.grid.rows, self.grid.spacing = cols, rows, gap
        start = self.page * self.per_page
        self.grid.clear_widgets()
        for index in range(start, min(start + self.per_page, len(self.items))):
            if index not in self.made:
                self.made[index] = self.make(self.items[index])
            self.grid.add_widget(self.made[index])
        self.prev.disabled, self.next.disabled = self.page == 0, self.page >= self.pages - 1
        self.where.text = f"{self.page + 1}/{self.pages}"

    def where_width(self) -> float:
        return self.arrow_size * 0.6

    def _arrange(self, paged: bool, ends: bool) -> None:
        """The grid alone, or with the arrows and the page label around it."""
        self.clear_widgets()
        self.nav.clear_widgets()
        self.spacing = self.gap
        self.orientation = "horizontal" if ends else "vertical"
        if not paged:
            self.add_widget(self.grid)
            return
        for arrow in (self.prev, self.next):
            arrow.size_hint = (None, 1) if ends else (1, 1)
            arrow.width = self.arrow_size
        if ends:
            self.where.size_hint, self.where.width = (None, 1), self.where_width()
            for widget in (self.prev, self.grid, self.where, self.next):
                self.add_widget(widget)
            return
        nav = self.nav
        nav.clear_widgets()
        nav.height, nav.spacing = self.arrow_size, self.gap
        self.where.size_hint = (0.8, 1)
        for widget in (self.prev, self.where, self.next):
            nav.add_widget(widget)
        self.add_widget(self.grid)
        self.add_widget(nav)


class ScreenSwitcher(ScreenManager):
    """A ScreenManager that switches screens at once (widgets.kv) and leaves out Kivy's
    stencil clip, eight canvas instructions in every frame: for managers whose screens stay
    within them (the root, the sale screen's modes; the manager screen's panels keep the
    clip, their keypad reaches 4 px below)."""


class Flash(Widget):
    """A full-screen red flash that fades; it never takes touches away from the screen.

    Its rectangle is in its canvas only while it shows: Kivy draws a canvas at opacity 0 all
    the same (only its colour's alpha is multiplied), so a transparent full-window rectangle
    would cost every frame a draw call and the renderer a blend over the whole window."""

    alpha = NumericProperty(0.0)

    def __init__(self, **kwargs) -> None:
        self._colour = Color(0.9, 0.05, 0.05, 0.0)
        self._rect = Rectangle()
        self._look = InstructionGroup()
        self._look.add(self._colour)
        self._look.add(self._rect)
        super().__init__(**kwargs)
        self.fbind("pos", self._place)
        self.fbind("size", self._place)
        self._place()

    def _place(self, *_args) -> None:
        self._rect.pos, self._rect.size = self.pos, self.size

    def on_alpha(self, _widget, alpha: float) -> None:  # noqa: ANN001
        self._colour.a = alpha
        shown = self._look in self.canvas.children
        if alpha > 0 and not shown:
            self.canvas.add(self._look)
        elif alpha <= 0 and shown:
            self.canvas.remove(self._look)

    def fire(self) -> None:
        Animation.cancel_all(self)
        self.alpha = 0.65
        (Animation(alpha=0.65, duration=0.35) + Animation(alpha=0.0, duration=0.8)).start(self)

    def on_touch_down(self, touch) -> bool:  # noqa: ANN001
        return False


class Banner(FitText, Label):
    """A coloured message line (error, info) on a screen; a long message gets a smaller font
    rather than more height, so nothing below it moves."""

    tone = ListProperty(RED)
