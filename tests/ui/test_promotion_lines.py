"""The sale screen's ticket with head office's promotions, in a real Kivy window under Xvfb:
after each scan every row shows what its line costs now (a third piece that completes
"3 for 2" lowers the rows scanned before it), the promoted rows name their promotion and
share, the total matches, and the screen passes the same checks as every other screen."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.ui.xvfb import kivy_env, xvfb

ROOT = Path(__file__).resolve().parents[2]


def test_ticket_rows_follow_the_promotions(tmp_path) -> None:
    with xvfb(800, 480) as display:
        proc = subprocess.run([sys.executable, "-m", "tests.ui.promotion_check", "800x480",
                               str(tmp_path / "out"), str(tmp_path / "var")], cwd=ROOT,
                              env=kivy_env(display), capture_output=True, text=True, timeout=300)
    result_file = tmp_path / "out" / "result.json"
    assert result_file.exists(), proc.stderr[-3000:]
    result = json.loads(result_file.read_text())
    assert result.get("error") is None and proc.returncode == 0, result.get("error") or \
        proc.stderr[-3000:]
    after = result["after"]
    assert len(after) == 6
    for state in after:
        assert [row["amount"] for row in state["rows"]] == state["gross"]
        assert state["total"] == state["ticket_total"]
    two, three = after[1]["rows"], after[2]["rows"]
    assert all("3 halen, 2 betalen" not in row["detail"] for row in two)
    assert all("3 halen, 2 betalen -€" in row["detail"] for row in three)
    assert three[0]["amount"] != two[0]["amount"]  # the first row was lowered by the third scan
    five = after[4]["rows"]
    assert all("2e halve prijs -€" in row["detail"] for row in five[3:5])
    assert "halve prijs" not in after[5]["rows"][5]["detail"]
    assert result["small_targets"] == []
    assert result["findings"] == [], "\n".join(result["findings"])
