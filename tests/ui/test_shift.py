"""A whole shift by touch on the real Kivy window under Xvfb, at 800x480 and 1280x800: the
one-tap traps and slowdowns of issue 22 (tests/ui/shift.py drives it, one process per size).

Screenshots of every step go to test-artifacts/screenshots/ (names start with the size and
's'); the taps per payment to test-artifacts/shift-taps.json.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.ui.test_till_ui import png_size
from tests.ui.xvfb import kivy_env, xvfb

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SIZES = ("800x480", "1280x800")
STEPS = ("s00-login", "s01-login-tries-left", "s02-five-scanned", "s03-payment-cash",
         "cash-exact-done", "cash-100-note-done", "s04-payment-typed-euros", "cash-100-typed-done",
         "s05-payment-card", "card-done", "s06-parked-info", "s07-recall-list",
         "s08-void-confirm", "s09-ticket-weighed", "s09b-line-discount", "s09c-price-euros",
         "s09d-search-more", "s10-part-payment-question", "s10b-part-paid",
         "s11-refund-total", "s12-refund-pin-with-total", "s13-pin-wrong", "s14-pin-locked",
         "s15-pin-typed", "s16-refunded", "s17-reprint", "s18-cash-in-out", "s19-drawer-popup",
         "s20-cash-count", "s21-z-drawer-open", "s22-z-report")


@pytest.fixture(scope="module")
def shifts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    results = {}
    with xvfb(1280, 800) as display:
        for size in SIZES:
            work = tmp_path_factory.mktemp(f"shift-{size}")
            proc = subprocess.run(
                [sys.executable, "-m", "tests.ui.shift", size, str(work / "out"), str(work / "var")],
                cwd=ROOT, env=kivy_env(display), capture_output=True, text=True, timeout=900)
            result_file = work / "out" / f"shift-{size}.json"
            assert result_file.exists(), f"{size}: no result (rc {proc.returncode})\n{proc.stderr[-3000:]}"
            result = plain(json.loads(result_file.read_text()))
            result["rc"] = proc.returncode
            (ARTIFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
            for png in (work / "out").glob("*.png"):
                shutil.copy(png, ARTIFACTS / "screenshots" / png.name)
            results[size] = result
    (ARTIFACTS / "shift-taps.json").write_text(json.dumps(
        {size: r.get("taps") for size, r in results.items()}, indent=1))
    (ARTIFACTS / "shift-results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False))
    return results


def plain(value: Any) -> Any:
    """The result with money's no-break spaces as plain ones, to compare texts simply."""
    if isinstance(value, str):
        return value.replace("\u00a0", " ")
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def seconds_in(text: str) -> int:
    return int(re.search(r"(\d+) s\b", text).group(1))


@pytest.mark.parametrize("size", SIZES)
def test_the_shift_runs_to_the_z(shifts: dict, size: str) -> None:
    result = shifts[size]
    assert result["error"] is None, result["error"]
    assert result["rc"] == 0 and result["finished"]
    assert result["checks"]["z_done"] == 1
    assert result["small_targets"] == []


@pytest.mark.parametrize("size", SIZES)
def test_every_step_passes_the_screen_check(shifts: dict, size: str) -> None:
    """No overlapping touch targets, no caption that does not fit, no target under 9 mm
    (tests/ui/screen_check.py), on every screenshot of the shift."""
    result = shifts[size]
    assert len(result["checked"]) >= len(STEPS)
    assert result["findings"] == []


@pytest.mark.parametrize("size", SIZES)
def test_every_step_is_captured_at_its_size(shifts: dict, size: str) -> None:
    width, height = (int(v) for v in size.split("x"))
    for step in STEPS:
        path = ARTIFACTS / "screenshots" / f"{size}-{step}.png"
        assert path.exists(), f"no screenshot {path.name}"
        assert png_size(path) == (width, height)


@pytest.mark.parametrize("size", SIZES)
def test_pin_keypad_never_moves_and_says_tries_and_lockout(shifts: dict, size: str) -> None:
    """Point 1 and 13: wrong PINs, a lockout counted down, typing while locked: every frame
    the dialog's keys and Cancel are where they were; the mask uses a glyph the font has."""
    result = shifts[size]
    watch = result["keypad_watch"]
    assert watch["frames"] > 20 and watch["layouts"] == 1, watch
    checks = result["checks"]
    assert checks["pin_mask"] == checks["login_mask"] == "• • • •"
    assert checks["login_tries"] == ["verkeerde pincode; nog 2 pogingen",
                                     "verkeerde pincode; nog één verkeerde pincode blokkeert de invoer"]
    said = checks["pin_messages"]["said"]
    assert said[:2] == checks["login_tries"]
    assert "geblokkeerd" in said[2]
    first, later = checks["pin_messages"]["countdown"]
    assert checks["pin_messages"]["still_locked"], "the lockout ended before it was looked at"
    assert seconds_in(first) > seconds_in(later) >= 1  # counted down on screen
    typing = checks["countdown_while_typing"]
    if typing["locked"]:  # digits typed while locked do not wipe the countdown
        assert seconds_in(typing["text"]) <= seconds_in(later)
    assert checks["after_lockout"] == "U kunt de pincode weer invoeren"


@pytest.mark.parametrize("size", SIZES)
def test_void_needs_a_confirmation_showing_the_total(shifts: dict, size: str) -> None:
    checks = shifts[size]["checks"]
    asked = checks["void_confirm"]
    assert asked["lines_while_asked"] == 5 and "€ 22,63" in asked["text"]
    assert "5 regels · 5 stuks" in asked["text"]
    assert checks["void_no"] == 5  # "no" keeps the ticket
    assert checks["void_yes"] == {"message": "Bon geannuleerd", "kind": "info"}
    assert shifts[size]["voids"] == ["open"]


@pytest.mark.parametrize("size", SIZES)
def test_no_part_payment_without_saying_so(shifts: dict, size: str) -> None:
    checks = shifts[size]["checks"]
    quick = checks["quick_notes"]
    assert quick["notes"] and all(note > quick["due"] for note in quick["notes"])
    question = checks["partial_question"]
    assert question["tenders"] == 0 and "€ 5,00" in question["text"]
    assert "deelbetaling" in question["text"]
    assert checks["partial_no"] == 0
    assert checks["partial_yes"]["kind"] == "info" and checks["partial_yes"]["due"] > 0
    assert shifts[size]["mixed_tenders"] == ["cash", "voucher", "cash"]


@pytest.mark.parametrize("size", SIZES)
def test_refund_total_is_on_screen_before_the_pin(shifts: dict, size: str) -> None:
    """Point 4: the weighed line shows what was paid for it, not its price per kg, and the
    total is in the header and in the PIN dialog; it is what the refund then pays."""
    result = shifts[size]
    screen = result["checks"]["refund_screen"]
    weighed_row = next(row for row in screen["rows"] if row.startswith("Kaas"))
    assert "€ 6,47" in weighed_row and "14,95" not in weighed_row
    assert screen["gross"] == 647 and screen["unit_price"] == 1495
    assert screen["header"] == "€ 6,45"  # cash: rounded to 5 cents
    assert result["checks"]["refund_pin_detail"] == "Terug te betalen: € 6,45"
    assert result["refunds"][0]["total_paid"] == -645
    assert result["checks"]["refund_done"].endswith("€ 6,45")


@pytest.mark.parametrize("size", SIZES)
def test_reprint_prints_the_last_sale_and_names_it(shifts: dict, size: str) -> None:
    reprint = shifts[size]["checks"]["reprint"]
    assert reprint["copy_of"] == reprint["last_sale"] != reprint["looked_up"]
    assert reprint["message"] == f"Kopie van bon {reprint['last_sale']} geprint"
    assert reprint["kind"] == "info"


@pytest.mark.parametrize("size", SIZES)
def test_drawer_left_open_pops_up_and_holds_the_z(shifts: dict, size: str) -> None:
    checks = shifts[size]["checks"]
    assert "Sluit de kassalade" in checks["drawer_popup"]
    held = checks["z_with_drawer_open"]
    assert held == {"message": "sluit eerst de kassalade, sluit dan de dag af", "kind": "error",
                    "pin_asked": False, "z_entries": 0}


@pytest.mark.parametrize("size", SIZES)
def test_cash_in_out_series_asks_the_manager_once(shifts: dict, size: str) -> None:
    result = shifts[size]
    assert result["checks"]["cash_in_asked_pin"] is False
    assert result["cash_moves"] == [["cash_out", "Bram", 2500], ["cash_in", "Bram", 750]]


@pytest.mark.parametrize("size", SIZES)
def test_cash_in_out_is_typed_in_euros(shifts: dict, size: str) -> None:
    """Point 7: 2-5 is € 25 and 7-,-5 is € 7,50 on the manager's cash panel, no cents."""
    checks = shifts[size]["checks"]
    assert checks["cash_out_typed"] == "€ 25"
    assert checks["cash_in_typed"] == "€ 7,5"
    assert shifts[size]["cash_moves"][1][2] == 750


@pytest.mark.parametrize("size", SIZES)
def test_euros_scans_messages_and_the_done_screen(shifts: dict, size: str) -> None:
    """Points 7-11: euros with a decimal key, the scanned line selected, info in its own
    colour, the parked list with items and totals, tendered and card on the done screen."""
    checks = shifts[size]["checks"]
    assert checks["typed_100"] == {"field": "€ 100", "cents": 10000}
    assert checks["scan"]["selected"] == checks["scan"]["last"]
    assert checks["scan"]["kind"] == "info" and checks["scan"]["message"].startswith("Toegevoegd")
    assert checks["plus_after_scan"] == {"quantity": 2, "message": ""}
    assert checks["park_message"] == {"text": "Bon geparkeerd (#1)", "kind": "info"}
    assert any("5 stuks" in row and "€ 22,63" in row for row in checks["recall_list"])
    assert any("1 stuk " in row for row in checks["recall_list"])
    assert checks["card_field"] == "reference"
    assert checks["card-done"]["headline"] == "Pin betaald"
    assert checks["cash-100-note-done"]["tendered"] == "Contant ontvangen € 100,00"
    assert checks["cash-100-note-done"]["headline"] == "€ 77,35"


@pytest.mark.parametrize("size", SIZES)
def test_taps_for_a_five_item_sale(shifts: dict, size: str) -> None:
    """From the full ticket to the change screen (before this change on main: cash exact 2,
    a € 100 note typed in cents 7, card 8 with a 4-digit reference)."""
    assert shifts[size]["taps"] == {"cash-exact": 2, "cash-100-note": 2, "cash-100-typed": 5,
                                    "card": 7}


@pytest.mark.parametrize("size", SIZES)
def test_line_discount_shows_its_percentage(shifts: dict, size: str) -> None:
    """Point 11: 10 then "Korting %" on the selected line; the line says -10%."""
    shown = shifts[size]["checks"]["line_discount"]
    assert shown["discount"] == pytest.approx(shown["amount"] / 10, abs=1)
    assert shown["detail"].endswith("korting -10%")


@pytest.mark.parametrize("size", SIZES)
def test_price_dialog_takes_euros_with_a_decimal_key(shifts: dict, size: str) -> None:
    """Point 7: "Prijs (€)", 1-,-9-9 shows € 1,99 as typed and sets the price to 199 cents
    (after the manager's PIN)."""
    checks = shifts[size]["checks"]
    assert checks["price_dialog"]["caption"] == "Prijs (€)"
    assert checks["price_dialog"]["shown"] == "1,99 €"
    assert "nieuwe prijs" in checks["price_dialog"]["title"]
    assert checks["price_changed"]["unit_price"] == 199
    assert "prijs gewijzigd" in checks["price_changed"]["detail"]


@pytest.mark.parametrize("size", SIZES)
def test_search_says_how_many_and_that_there_are_more(shifts: dict, size: str) -> None:
    """Point 11: "KO" finds more products than the grid shows; the count and the hint say so."""
    search = shifts[size]["checks"]["search"]
    assert search["results"] == search["found"] > search["visible"] > 0
    assert search["message"] == f"{search['found']} artikelen gevonden · scroll voor meer"
    assert search["kind"] == "info"


def test_the_larger_screen_shows_more_ticket_lines(shifts: dict) -> None:
    """Point 12: 1280x800 is not the 800x480 layout blown up: more of the ticket is in view
    (and more search results; more products per page: tests/ui/test_till_ui.py)."""
    small, large = (shifts[size]["checks"] for size in SIZES)
    assert small["room"]["lines"] == large["room"]["lines"] == 7
    assert large["room"]["rows_in_full"] > small["room"]["rows_in_full"]
    assert large["room"]["ticket_lines"] >= small["room"]["ticket_lines"] + 2
    assert large["search"]["visible"] > small["search"]["visible"]
