"""What the window draws in every frame of the sale screen with 100 lines on the ticket: its
canvas instructions by kind, at 800x480 and 1280x800.

Kivy applies every instruction of the window's canvas in every frame, and on the software
renderer (llvmpipe) each draw call is CPU work in Kivy's thread: this count is what the
scan frame's draw phase (bench_ui_scan.py) costs, without the machine's noise. The walk
follows Canvas.draw: a canvas's children hold its before and after groups, and a canvas at
opacity 0 is drawn all the same (Kivy 2.3's Canvas.apply only multiplies the alpha; it does
not skip it). Draw calls: the vertex instructions (Rectangle, BorderImage, Mesh, ...),
counted by the BindTexture that Kivy puts before each.

Run: .venv/bin/python bench/bench_ui_draw_count.py
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ui_common import after_first_frame, report, run_child, till_app  # noqa: E402

from tests.ui.xvfb import xvfb  # noqa: E402

SIZES = ((800, 480), (1280, 800))


def walk(canvas: Any, kinds: Counter) -> None:
    from kivy.graphics import InstructionGroup

    for instruction in canvas.children:
        if isinstance(instruction, InstructionGroup):
            walk(instruction, kinds)
        else:
            kinds[type(instruction).__name__] += 1


def child(width: int, height: int) -> None:
    app = till_app((width, height))

    def begin() -> None:
        from kivy.clock import Clock
        from kivy.core.window import Window

        app.till.login("1111")
        app.go("sale")
        for n in range(100):
            app.till.add_product(1 + n % 200)
        app.sm.get_screen("sale").refresh_ticket(scroll=True)

        seen: list[int] = []

        def count(_dt: float) -> None:
            kinds: Counter = Counter()
            walk(Window.canvas, kinds)
            seen.append(sum(kinds.values()))
            if len(seen) < 4 or len(set(seen[-3:])) > 1:
                Clock.schedule_once(count, 0.5)  # not settled yet (the grid, the ticket)
                return
            report({"kinds": dict(kinds.most_common()), "total": seen[-1],
                    "draw_calls": kinds["BindTexture"]})
            app.stop()

        Clock.schedule_once(count, 0.5)

    after_first_frame(app, begin)
    app.run()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        width, height = (int(v) for v in args.child.split("x"))
        child(width, height)
        return 0
    with xvfb() as display:
        for width, height in SIZES:
            result, _ = run_child(Path(__file__), f"{width}x{height}", display)
            kinds = ", ".join(f"{name} {n}" for name, n in result["kinds"].items())
            print(f"{width}x{height}: {result['total']} instructions, {result['draw_calls']} draw "
                  f"calls ({kinds})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
