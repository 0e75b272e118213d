"""The age check dialog on the real Kivy window under Xvfb, at 800x480 and 1280x800
(tests/ui/age_scene.py drives it, one process per size): refused, then confirmed, then not
asked again; the screen check passes on the dialog. Screenshots go to
test-artifacts/screenshots/ (names start with the size and 'a')."""

from __future__ import annotations

import pytest

from contract.entries import parse_entry
from tests.ui.scene_runs import ARTIFACTS, SIZES, run_scenes

SHOTS = ("a1-age-question", "a2-refused", "a3-confirmed", "a4-second-beer", "a5-manager",
         "a6-empties-count", "a7-empties-back")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    return run_scenes("tests.ui.age_scene", "age", tmp_path_factory)


@pytest.mark.parametrize("size", SIZES)
def test_the_dialog_asks_refuses_confirms_and_asks_once(runs: dict, size: str) -> None:
    result = runs[size]
    assert result["error"] is None and result["rc"] == 0, result.get("error")
    assert result["question"] == "Klant is 18 of ouder?\nPils 33cl"
    assert result["buttons"] == ["Nee, weigeren", "Ja, bevestigen"]
    assert result["lines_while_asking"] == ["Pils 33cl", "Statiegeld"]  # on the ticket already
    assert result["after_refuse"] == {"lines": [], "message": "Geweigerd en verwijderd",
                                      "rows": 0}
    assert result["after_confirm"] == {"lines": ["Pils 33cl", "Statiegeld"],
                                       "message": "Leeftijd bevestigd", "required": 0}
    assert result["second_asked"] is False
    assert result["rows"] == ["Pils 33cl", "Statiegeld", "Pils 33cl", "Statiegeld"]
    assert result["selected"] == 5  # the beer, not its deposit line
    assert result["count_two_beers"] == "4 regels · 2 stuks"  # a deposit line is no item
    sale = parse_entry(result["sale"])
    assert sale.data.age_check is not None and sale.data.age_check.age == 18
    assert sale.data.age_check.confirmed_by == "Sanne"
    assert [(line.name, line.removed) for line in sale.data.lines] == [
        ("Pils 33cl", True), ("Statiegeld", True), ("Pils 33cl", False), ("Statiegeld", False),
        ("Pils 33cl", False), ("Statiegeld", False), ("Statiegeld", False)]
    empties = sale.data.lines[-1]
    assert (empties.quantity, empties.gross, empties.deposit_for, empties.override_by) == (
        -2, -30, 0, "Bram")
    assert sale.data.total == 250


@pytest.mark.parametrize("size", SIZES)
def test_empties_come_back_from_the_manager_screen_with_the_pin(runs: dict, size: str) -> None:
    result = runs[size]
    assert result["empties"] == {"screen": "sale", "message": "Leeggoed teruggenomen: €\xa00,30",
                                 "count": "5 regels · 2 stuks",  # two beers; deposits no items
                                 "total": 250, "last": [["Statiegeld", -2, -30]]}


@pytest.mark.parametrize("size", SIZES)
def test_the_age_dialog_passes_the_screen_check(runs: dict, size: str) -> None:
    """Big touch targets, nothing overlapping, every caption fits (tests/ui/screen_check.py),
    and every button at least 60 px both ways."""
    result = runs[size]
    assert set(result["checked"]) >= set(SHOTS)
    assert result["findings"] == [], "\n".join(result["findings"])
    assert result["small_targets"] == []
    for name in SHOTS:
        assert (ARTIFACTS / f"{size}-{name}.png").exists()
