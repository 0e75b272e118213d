"""`kassa doctor` tests the PIN terminal link with a status request that charges nothing."""

from __future__ import annotations

from pathlib import Path

from cli.payment_wiring import check_terminal
from drivers.payment.crypto import SharedKey
from drivers.payment.sim import SimTerminal
from tests.fixtures_till import make_config
from tests.payment.conftest import payment_config


def _run(config) -> tuple[int, str]:  # noqa: ANN001
    lines: list[str] = []
    return check_terminal(config, lines.append), "\n".join(lines)


def test_a_terminal_with_the_right_key_passes(tmp_path: Path, terminal: SimTerminal) -> None:
    failures, text = _run(payment_config(tmp_path, terminal))
    assert failures == 0 and "answers with the shared key" in text, text
    assert terminal.charges == []  # nothing was charged


def test_a_wrong_key_fails_with_the_reason(tmp_path: Path) -> None:
    other = SimTerminal(SharedKey("kassa-key", "not the shop's passphrase", 1),
                        directory=tmp_path).start()
    try:
        failures, text = _run(payment_config(tmp_path, other))
    finally:
        other.stop()
    assert failures == 1 and "FAILED" in text and "HTTP 400" in text, text


def test_an_unreachable_terminal_fails(tmp_path: Path, terminal: SimTerminal) -> None:
    config = payment_config(tmp_path, terminal)
    terminal.stop()
    failures, text = _run(config)
    assert failures == 1 and "no answer from the payment terminal" in text, text


def test_none_and_sim(tmp_path: Path) -> None:
    assert _run(make_config(tmp_path)) == (
        0, "  terminal: none configured (Pin: the cashier types the terminal's reference)")
    failures, text = _run(make_config(tmp_path / "s", '[payment]\nkind = "sim"\n')
                          if (tmp_path / "s").mkdir() is None else None)
    assert failures == 0 and "sim" in text, text
