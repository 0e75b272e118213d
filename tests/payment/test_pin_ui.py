"""The PIN terminal screens on the real Kivy window under Xvfb, at 800x480 and 1280x800
(tests/payment/pin_scene.py drives them, one process per size, against the simulated terminal
over HTTPS): waiting with Abort, aborted, declined, approved, checking the last payment.
Every screen passes tests/ui/screen_check.py; screenshots go to test-artifacts/screenshots/
(names start with the size and 'p')."""

from __future__ import annotations

import pytest

from tests.ui.scene_runs import ARTIFACTS, SIZES, run_scenes

SHOTS = ("p1-payment-pin", "p2-waiting", "p3-aborted", "p4-declined", "p5-approved", "p6-done",
         "p7-checking", "p8a-refund-waiting", "p8-refunded")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    return run_scenes("tests.payment.pin_scene", "pin", tmp_path_factory)


@pytest.mark.parametrize("size", SIZES)
def test_pin_waits_aborts_declines_approves_and_checks(runs: dict, size: str) -> None:
    result = runs[size]
    assert result["error"] is None and result["rc"] == 0, result.get("error")
    assert result["enter_text"] == "Pinnen" and result["reference_shown"] == 0
    assert result["waiting"][0] == "Klant betaalt op de pinautomaat"
    assert result["aborted"] == ["Betaling mislukt", "Gestopt bij de kassa"]
    assert result["declined"] == ["Betaling mislukt", "Geweigerd door de bank",
                                  "Terug naar betalen"]
    assert result["approved"][0] == "Betaling geslaagd" and result["approved"][2] == "Verder"
    assert result["checking"][0] == "Laatste betaling nagaan…"
    assert [r for r, _amount in result["charges"]] == ["aborted", "declined", "approved",
                                                       "approved"]
    refund = result["refund"]
    assert refund["terminal"] > 0 and "." in refund["original"]  # <ServiceID>.<PSP reference>
    assert refund["message"].startswith("Teruggestort op de kaart")
    # the Reversal ran off the UI thread: the screen showed it waiting, refund_started journaled
    assert result["refund_waiting"] == ["Terugstorting via de pinautomaat: wachten op het "
                                        "antwoord…", True, "refund_started"]
    assert result["merchant_button"] == ["Winkelbon pin", 1]
    assert result["merchant_copy"] == ["Winkelbon pin afgedrukt", False]
    assert result["types"] == ["payment_started", "payment_declined", "payment_started",
                               "payment_declined", "payment_started", "sale",
                               "payment_started", "sale"]


@pytest.mark.parametrize("size", SIZES)
def test_the_pin_screens_pass_the_screen_check(runs: dict, size: str) -> None:
    result = runs[size]
    assert set(result["checked"]) >= set(SHOTS)
    assert result["findings"] == [], "\n".join(result["findings"])
    assert result["small_targets"] == []
    for name in SHOTS:
        assert (ARTIFACTS / f"{size}-{name}.png").exists()
