"""Child process of tests/ui/test_tiles.py (Kivy's window is one per process): a row of
TileButtons in a TileRow (backgrounds in one Mesh) against the same BigButtons in a plain
BoxLayout, drawn into textures: the pixels, normal, pressed and disabled. Prints JSON."""

from __future__ import annotations

import hashlib
import json
import sys

from ui.kivy_setup import configure_kivy


def main() -> int:
    configure_kivy(False, 800, 480, False)
    from kivy.base import EventLoop
    from kivy.core.window import Window
    from kivy.uix.boxlayout import BoxLayout

    from ui import widgets as w
    from ui.app import load_kv

    load_kv()
    EventLoop.ensure_window()
    tones = [w.GREY, w.BLUE, w.ORANGE, (0.70, 0.20, 0.45, 1), (0.20, 0.24, 0.30, 1)]

    def row(layout: type, button: type) -> BoxLayout:
        made = layout(size=(700, 80), size_hint=(None, None), spacing=4)
        for n, tone in enumerate(tones):
            made.add_widget(button(text=f"Tile {n}", tone=tone))
        Window.add_widget(made)
        return made

    def pixels(widget: BoxLayout) -> str:
        for _ in range(4):
            EventLoop.idle()
        return hashlib.sha256(widget.export_as_image().texture.pixels).hexdigest()

    tiles, plain = row(w.TileRow, w.TileButton), row(BoxLayout, w.BigButton)
    out = {}
    for step in ("normal", "pressed", "disabled", "enabled again"):
        if step == "pressed":
            tiles.children[1].state = plain.children[1].state = "down"
        elif step == "disabled":
            tiles.children[1].state = plain.children[1].state = "normal"
            tiles.children[2].disabled = plain.children[2].disabled = True
        elif step == "enabled again":
            tiles.children[2].disabled = plain.children[2].disabled = False
        out[step] = {"tiles": pixels(tiles), "plain": pixels(plain),
                     "quads": len(tiles.update_backdrop_quads())}
    print("RESULT " + json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
