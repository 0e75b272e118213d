"""Customer sign-up ("Klant aanmelden") on the real Kivy window under Xvfb, at 800x480 and
1280x800 (tests/ui/signup_scene.py drives it, one process per size): the on-screen keyboard,
a refused address named on screen, the consent question with its text, yes and no recorded
with the cashier, nothing in the journal; the screen check passes on every step.
Screenshots go to test-artifacts/screenshots/ (names start with the size and 's')."""

from __future__ import annotations

import pytest

from contract.signup import CONSENT_TEXTS, CONSENT_VERSION
from tests.ui.scene_runs import ARTIFACTS, SIZES, run_scenes

SHOTS = ("s1-customers", "s2-signup", "s3-bad-address", "s4-typed", "s5-consent",
         "s6-signed-up", "s7-second-no")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    return run_scenes("tests.ui.signup_scene", "signup", tmp_path_factory)


@pytest.mark.parametrize("size", SIZES)
def test_the_cashier_signs_up_two_customers(runs: dict, size: str) -> None:
    result = runs[size]
    assert result["error"] is None and result["rc"] == 0, result.get("error")
    assert result["button"] == "Klant aanmelden"
    assert result["title"] == "Klant aanmelden"
    assert set("abcdefghijklmnopqrstuvwxyz0123456789@.-_+") <= set(result["keys"])
    assert result["refused"] == ("noor.jansen@example: het deel na de @ is geen domein zoals "
                                 "voorbeeld.nl")
    assert result["typed"]["email"] == "noor.jansen@example.nl"
    assert result["typed"]["name"] == "Noor Jansen"  # capitals after the shift
    assert result["typed"]["name_field"] == "Naam (optioneel): Noor Jansen|"
    assert result["question"] == (CONSENT_TEXTS[CONSENT_VERSION]["nl"]
                                  + "\n[b]noor.jansen@example.nl[/b]")
    assert result["answers"] == ["Nee, geen e-mails", "Ja, graag e-mails"]
    yes = result["after_yes"]
    assert yes["message"] == "Aangemeld: noor.jansen@example.nl · graag e-mails"
    [noor] = yes["pending"]
    assert (noor["email"], noor["name"], noor["consent"], noor["cashier"],
            noor["text_version"]) == ("noor.jansen@example.nl", "Noor Jansen", True, "Sanne",
                                      CONSENT_VERSION)
    no = result["after_no"]
    assert no["message"] == "Aangemeld: sem@example.com · geen e-mails"
    assert [(p["email"], p["name"], p["consent"]) for p in no["pending"]] == [
        ("noor.jansen@example.nl", "Noor Jansen", True), ("sem@example.com", "", False)]
    assert result["journal_grew_by"] == 0 and result["journal_has_address"] is False


@pytest.mark.parametrize("size", SIZES)
def test_the_sign_up_passes_the_screen_check(runs: dict, size: str) -> None:
    """No overlapping touch widgets, every caption fits, every key and button at least 60 px
    both ways (tests/ui/screen_check.py)."""
    result = runs[size]
    assert set(result["checked"]) >= set(SHOTS)
    assert result["findings"] == [], "\n".join(result["findings"])
    assert result["small_targets"] == []
    for name in SHOTS:
        assert (ARTIFACTS / f"{size}-{name}.png").exists()
