"""Child process of tests/ui/test_fit_text.py (Kivy's window is one per process): the quick
one-line answer of ui.widgets.measure_fit against the full wrap-and-measure-every-word one,
for captions, ticket details and banners at the fonts and boxes the screens use. JSON out."""

from __future__ import annotations

import json
import sys

from ui.kivy_setup import configure_kivy

TEXTS = ("1 × € 1,29", "Toegevoegd: Brood 1  € 23,80", "Afrekenen", "Regel weg",
         "2,345 kg × € 12,95/kg · aanbieding -15% · prijs gewijzigd",
         "Geen verbinding met het hoofdkantoor sinds 10:42", "Onderhoudswerkzaamheden",
         "Kopie bon\nNog een regel", "€ 1.234,56", "x")
BOXES = ((60, 60), (104, 56), (130, 58), (300, 28), (500, 40), (760, 60), (85, 60))
FONTS = (14, 15, 16, 20, 28)


def main() -> int:
    configure_kivy(False, 800, 480, False)
    from kivy.base import EventLoop

    from ui.widgets import measure_fit

    EventLoop.ensure_window()
    cases = []
    for text in TEXTS:
        for width, height in BOXES:
            for font in FONTS:
                for bold in (False, True):
                    args = (text, (width, height), width - 8, font, "Roboto", bold, False,
                            (0, 0, 0, 0), "center", 1.0)
                    cases.append({"text": text, "box": [width, height], "font": font,
                                  "quick": measure_fit(*args, quick=True),
                                  "full": measure_fit(*args, quick=False)})
    print("RESULT " + json.dumps(cases), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
