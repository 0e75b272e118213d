"""What a ticket line says under its name, in the cashier's language: a weight with the
language's decimal sign (1,234 kg in Dutch, as on the receipt), a discount as its percentage,
a promotion's share with the promotion's name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.ui.xvfb import kivy_env, xvfb

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import json
from firmware.ticket import Line
from ui import i18n
from ui.screens.sale import line_row

weighed = Line(line_no=1, product_id=1, code="500", name="Kaas", vat_code="low",
               unit_price=1295, weight_g=1234)
cut = Line(line_no=2, product_id=2, code="1", name="Wijn", vat_code="high", unit_price=199,
           quantity=2, discount=40, discount_percent=10, original_unit_price=799)
promo = Line(line_no=3, product_id=3, code="3", name="Chips", vat_code="high", unit_price=199,
             quantity=3, promo_discount=97)
out = {}
for language in ("nl", "en"):
    i18n.set_language(language)
    out[language] = [line_row(weighed)["detail"], line_row(cut)["detail"],
                     line_row(promo, "Chips 3 voor 5,00")["detail"], line_row(promo)["detail"]]
print("RESULT " + json.dumps(out))
"""


def test_weights_and_discounts_read_in_the_cashiers_language() -> None:
    with xvfb(800, 480) as display:
        proc = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=kivy_env(display),
                              capture_output=True, text=True, timeout=120)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    shown = json.loads(lines[0][len("RESULT "):])
    assert shown["nl"][0] == "1,234 kg × €\xa012,95/kg"
    assert shown["en"][0] == "1.234 kg × €12.95/kg"
    assert shown["nl"][1] == "2 × €\xa01,99 · korting -10% · prijs gewijzigd"
    assert shown["en"][1] == "2 × €1.99 · discount -10% · price changed"
    assert shown["nl"][2] == "3 × €\xa01,99 · Chips 3 voor 5,00 -€\xa00,97"
    assert shown["nl"][3] == "3 × €\xa01,99 · actie -€\xa00,97"
    assert shown["en"][3] == "3 × €1.99 · promotion -€0.97"
