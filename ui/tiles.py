"""Button tiles whose flat backgrounds their container draws as one Mesh.

On the software renderer every canvas instruction of the window is CPU work in every frame,
and a Kivy Button draws four (its colour, its background, white, its caption). Here a
container (a row of tabs, a grid of products) draws the backgrounds of all its tiles in one
vertex buffer: each tile's colour is a texel of a small palette texture, so one Color, one
texture and one draw call paint every tile, and a tile draws only its caption. The pixels are
those of the Button (the same rectangle, the same 8-bit colour); a disabled tile draws
Kivy's disabled background itself, as a Button does."""

from __future__ import annotations

from kivy.clock import Clock
from kivy.graphics import BorderImage, Color, InstructionGroup, Mesh
from kivy.graphics.texture import Texture
from kivy.uix.widget import Widget

PALETTE_WIDTH = 64  # colours of tiles on screen at once (tones and their pressed shades)


class Palette:
    """One texel per colour, in a 64 x 1 texture shared by every backdrop."""

    def __init__(self) -> None:
        self.texture = Texture.create(size=(PALETTE_WIDTH, 1), colorfmt="rgba")
        self.texture.min_filter = self.texture.mag_filter = "nearest"
        self.slots: dict[tuple[int, ...], int] = {}

    def coord(self, rgba) -> tuple[float, float]:  # noqa: ANN001 - a Kivy colour list
        """The texture coordinate of `rgba`'s texel (added at first use; when the palette is
        full the texels are given out again from the start)."""
        key = tuple(max(0, min(255, round(c * 255))) for c in rgba)
        slot = self.slots.get(key)
        if slot is None:
            slot = len(self.slots) % PALETTE_WIDTH
            if len(self.slots) >= PALETTE_WIDTH:
                self.slots = {k: v for k, v in self.slots.items() if v != slot}
            self.slots[key] = slot
            self.texture.blit_buffer(bytes(key), colorfmt="rgba", bufferfmt="ubyte",
                                     pos=(slot, 0), size=(1, 1))
        return (slot + 0.5) / PALETTE_WIDTH, 0.5


_palette: list[Palette] = []


def palette() -> Palette:
    """The shared palette, made with the first backdrop (a GL context exists by then)."""
    if not _palette:
        _palette.append(Palette())
    return _palette[0]


class TileBackdrop:
    """For a layout: draws the backgrounds of its Tile children in one Mesh, before
    the children draw their captions. Any tile's move, size, colour (press feedback
    included), enabled state or visibility redraws the mesh within the same frame."""

    _WATCHED = ("pos", "size", "background_color", "disabled", "opacity")

    def __init__(self, **kwargs) -> None:
        self._backdrop_trigger = Clock.create_trigger(self.update_backdrop, -1)
        super().__init__(**kwargs)
        self._backdrop_colour = Color(1, 1, 1, 1)
        self._backdrop = Mesh(mode="triangles", texture=palette().texture)
        self.canvas.before.add(self._backdrop_colour)
        self.canvas.before.add(self._backdrop)
        self.fbind("children", self._backdrop_trigger)

    def add_widget(self, widget: Widget, *args, **kwargs) -> None:
        super().add_widget(widget, *args, **kwargs)
        self._watch(widget, widget.fbind)

    def remove_widget(self, widget: Widget, *args, **kwargs) -> None:
        super().remove_widget(widget, *args, **kwargs)
        self._watch(widget, widget.funbind)

    def _watch(self, widget: Widget, bind) -> None:  # noqa: ANN001 - fbind or funbind
        if isinstance(widget, Tile):
            for name in self._WATCHED:
                bind(name, self._backdrop_trigger)
        self._backdrop_trigger()

    def update_backdrop_quads(self) -> list[Widget]:
        """Draws the mesh now: one quad per shown, enabled tile, its colour as texture
        coordinates. Returns the tiles drawn."""
        colours = palette()
        vertices: list[float] = []
        indices: list[int] = []
        drawn = [tile for tile in self.children
                 if isinstance(tile, Tile) and not tile.disabled and tile.opacity > 0]
        for n, tile in enumerate(drawn):
            u, v = colours.coord(tile.background_color)
            x, y = tile.pos
            right, top = x + tile.width, y + tile.height
            vertices += (x, y, u, v, right, y, u, v, right, top, u, v, x, top, u, v)
            indices += (4 * n, 4 * n + 1, 4 * n + 2, 4 * n + 2, 4 * n + 3, 4 * n)
        self._backdrop.vertices, self._backdrop.indices = vertices, indices
        return drawn

    def update_backdrop(self, *_args) -> None:
        self.update_backdrop_quads()


class Tile:
    """For a Button: its background is drawn by its TileBackdrop container (widgets.py makes
    the Kivy class, TileButton); while disabled it draws Kivy's disabled background itself."""

    def __init__(self, **kwargs) -> None:
        self._disabled_look: InstructionGroup | None = None
        super().__init__(**kwargs)
        for name in ("disabled", "pos", "size", "background_color", "state"):
            self.fbind(name, self._own_background)
        self._own_background()

    def _own_background(self, *_args) -> None:
        if self._disabled_look is not None:
            self.canvas.before.remove(self._disabled_look)
            self._disabled_look = None
        if not self.disabled:
            return
        look = InstructionGroup()
        look.add(Color(*self.background_color))
        source = (self.background_disabled_normal if self.state == "normal"
                  else self.background_disabled_down)
        image = BorderImage(border=self.border, pos=self.pos, size=self.size, source=source)
        look.add(image)
        look.add(Color(1, 1, 1, 1))  # the captions after it are drawn in white, as the backdrop's
        self.canvas.before.add(look)
        self._disabled_look = look
