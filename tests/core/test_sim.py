"""`kassa sim`: a scripted day through the real till service, each committed seq printed."""

import re
import subprocess
import sys
from pathlib import Path

from firmware.db import open_database
from firmware.models import JournalEntry, Product, StockLevel

ROOT = Path(__file__).resolve().parents[2]


def test_sim_day_commits_verifiable_journal(tmp_path: Path) -> None:
    config = tmp_path / "kassa.toml"
    config.write_text(f'[database]\npath = "{tmp_path / "k.sqlite3"}"\n'
                      f'[terminal]\nsigning_key = "{tmp_path / "key.pem"}"\n')
    result = subprocess.run([sys.executable, "-m", "cli", "--config", str(config), "sim",
                             "--sales", "150", "--seed", "7"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    printed = [int(m) for m in re.findall(r"^committed seq=(\d+) type=\w+$", result.stdout, re.M)]
    assert "day done: 150 sales" in result.stdout
    assert "journal OK" in result.stdout
    db = open_database(tmp_path / "k.sqlite3")
    stored = [row.seq for row in JournalEntry.select(JournalEntry.seq).order_by(JournalEntry.seq)]
    assert stored[0] == 1 and stored == list(range(1, len(stored) + 1))
    assert printed == stored[1:]  # all but the software_start, printed as they committed
    types = {row.type for row in JournalEntry.select(JournalEntry.type)}
    assert {"sale", "refund", "void", "no_sale", "login", "logout"} <= types
    # stock moved exactly by what the journal says
    import json
    moved: dict[int, int] = {}
    for row in JournalEntry.select().where(JournalEntry.type.in_(("sale", "refund", "void"))):
        body = json.loads(row.body)
        if body["type"] == "void" and body["data"]["scope"] != "paid":
            continue
        sign = -1 if body["type"] == "sale" else 1
        for line in body["data"]["lines"]:
            if not line["removed"] and line["stock_tracked"]:
                moved[line["product_id"]] = moved.get(line["product_id"], 0) + sign * abs(line["stock_units"])
    for product in Product.select():
        level = StockLevel.get(StockLevel.product == product.id).quantity
        assert level == 1000 + moved.get(product.id, 0)
    db.close()
