"""Head office's config in the till (firmware/remote_config.py), on the till's own database:
overlay on the file's config, live keys at once, window keys at restart, one config_change
entry per version, nothing taken in while a journal alarm waits."""

from __future__ import annotations

import json

from cli.assemble import build_till, window_settings
from contract.money import percent_to_bp
from firmware.downstream_log import journal_waiting
from firmware.uplink.downstream import Downstream
from tests.fixtures_till import make_config


def received(till, version: int, toml: str) -> None:
    """What the uplink does with a fleet config whose seal checked out."""
    body = json.dumps({"version": version, "toml": toml}).encode()
    assert Downstream(till.db).apply("config", body).applied


def changes(till) -> list[dict]:
    return [e.body["data"] for e in till.journal.entries() if e.type == "config_change"]


RATES = """
[[tax.rates]]
code = "high"
percent = "22"
valid_from = 2020-01-01
[[tax.rates]]
code = "low"
percent = "9"
[[tax.rates]]
code = "zero"
percent = "0"
[[tax.rates]]
code = "exempt"
percent = "0"
"""


def test_live_keys_apply_at_once_window_keys_wait_and_each_version_is_journaled_once(tmp_path):
    config = make_config(tmp_path, "[cash]\nvariance_tolerance_cents = 500\n")
    till = build_till(config)
    assert till.remote_config.poll() is False  # nothing stored yet
    received(till, 1, '[cash]\nvariance_tolerance_cents = 200\n[ui]\nlanguage = "en"\n'
             "fullscreen = false\n")
    assert till.remote_config.poll() is True
    assert till.config.cash.variance_tolerance_cents == 200
    assert till.language == "en" and till.config.ui.language == "en"
    assert till.config.ui.fullscreen is True  # waits for a restart
    assert till.remote_config.restart == ("ui.fullscreen",)
    [first] = changes(till)
    assert first["version"] == "1"
    assert first["source"] == ("ui.language: nl -> en; ui.fullscreen: True -> False (restart);"
                               " cash.variance_tolerance_cents: 500 -> 200")
    assert till.remote_config.poll() is False  # the same version: nothing again

    # v2 leaves cash out: the file's value comes back; the VAT rates change live
    received(till, 2, RATES)
    assert till.remote_config.poll() is True
    assert till.config.cash.variance_tolerance_cents == 500
    assert till.kernel.rate_of("high") == percent_to_bp("22")
    assert till.config.ui.language == "nl"
    assert till.remote_config.restart == ()  # v2 no longer sets fullscreen: nothing waits
    assert [c["version"] for c in changes(till)] == ["1", "2"]
    till.db.close()

    # the next start takes everything of v2 in and journals nothing new
    again = build_till(config)
    assert again.kernel.rate_of("high") == percent_to_bp("22")
    assert again.remote_config.restart == ()
    assert [c["version"] for c in changes(again)] == ["1", "2"]


def test_a_version_received_while_the_till_was_down_is_taken_in_and_journaled_at_start(tmp_path):
    config = make_config(tmp_path)
    till = build_till(config)
    received(till, 4, "[ui]\nwidth = 1280\nheight = 800\n")
    till.db.close()
    # `kassa till` sets up its window from the stored config before the till is built
    window = window_settings(config)
    assert (window.width, window.height) == (1280, 800)
    started = build_till(config)
    assert (started.config.ui.width, started.config.ui.height) == (1280, 800)
    assert started.remote_config.restart == ()  # the window was made with them
    [change] = changes(started)
    assert change["version"] == "4" and "ui.width: 800 -> 1280 (restart)" in change["source"]
    journal_waiting(started.kernel)  # the uplink's catalogue_applied for config, too
    kinds = [e.body["data"]["kind"] for e in started.journal.entries()
             if e.type == "catalogue_applied"]
    assert kinds == ["config"]


def test_nothing_is_taken_in_while_a_journal_alarm_waits(tmp_path):
    till = build_till(make_config(tmp_path))
    received(till, 1, "[cash]\nvariance_tolerance_cents = 100\n")
    till.kernel.journal_alarm = "test alarm"
    assert till.remote_config.poll() is False
    assert till.config.cash.variance_tolerance_cents == 500 and changes(till) == []
    till.kernel.journal_alarm = None
    assert till.remote_config.poll() is True
    assert till.config.cash.variance_tolerance_cents == 100
