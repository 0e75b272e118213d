"""`kassa office catalogue ...` as an operator runs it: row errors and the progress bar on
stderr with exit 1 and nothing stored, --partial, price planning, promotions refused by
name, and the audit trail naming who did it."""

from __future__ import annotations

import subprocess
import sys

from tests.uplink.harness import ROOT

CSV = ("gtin;plu;name;vat_code;unit;deposit;price\n"
       "8712345678906;;Pils 33cl;high;piece;statiegeld-015;1,29\n"
       "8712345678900;;Bad check digit;high;;;1,00\n"
       ";42;Brood wit;low;;;2,89\n"
       ";43;Geen btw;hoog;;;1,00\n")


def kassa(db_url: str, *args: str, actor: str = "anna") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", "office", "--db", db_url, "catalogue",
                           "--actor", actor, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_import_errors_partial_prices_promotions_and_audit(office_db_url, tmp_path):
    path = tmp_path / "master.csv"
    path.write_text(CSV, encoding="utf-8")
    assert kassa(office_db_url, "deposit", "dutch").returncode == 0

    done = kassa(office_db_url, "import", str(path))
    assert done.returncode == 1
    assert f"{path}: line 3: gtin: barcode 8712345678900 (EAN-13) has check digit 0, " \
           "expected 6" in done.stderr
    assert f"{path}: line 5: vat_code: not one of high, low, zero, exempt" in done.stderr
    assert "nothing imported: 2 error(s)" in done.stderr and "] 4/4" in done.stderr
    assert kassa(office_db_url, "show", "42").returncode == 1  # nothing stored

    done = kassa(office_db_url, "import", "--partial", str(path))
    assert done.returncode == 0 and "4 rows: 2 new, 0 updated, 2 skipped" in done.stdout

    done = kassa(office_db_url, "price", "set", "42", "2,99", "--from", "2027-01-04 07:00",
                 actor="piet")
    assert done.returncode == 0, done.stderr
    shown = kassa(office_db_url, "show", "42").stdout
    assert "price      2,89" in shown and "from 2027-01-04T07:00:00+01:00: 2,99" in shown

    bad = kassa(office_db_url, "promo", "add", "p-1", "--name", "1 voor", "--type",
                "n_for_price", "--n", "1", "--price", "1,00", "--products", "42")
    assert bad.returncode == 1 and "'n' is not an integer 2..100" in bad.stderr
    assert kassa(office_db_url, "promo", "add", "p-2", "--name", "2e halve prijs", "--type",
                 "nth_percent", "--n", "2", "--percent", "50", "--products", "42,8712345678906",
                 "--weekdays", "6,7").returncode == 0

    changed = kassa(office_db_url, "product", "8712345678906", "--barcodes", "87123456",
                    "--age-limit", "18", actor="kees")
    assert changed.returncode == 0 and "08712345678906 Pils 33cl: changed" in changed.stdout
    assert kassa(office_db_url, "product", "87123456", "--vat", "laag").returncode == 1
    shown = kassa(office_db_url, "show", "87123456").stdout  # found by its further GTIN
    assert "age_limit  18" in shown and "deposit    statiegeld-015" in shown

    trail = kassa(office_db_url, "audit").stdout.splitlines()
    assert "kees" in trail[0] and '{"age_limit": 0, "barcodes": []}' in trail[0]
    assert "piet" in trail[2] and "price" in trail[2] and "plu:42" in trail[2]
    assert "anna" in trail[1] and "promotion" in trail[1] and "p-2" in trail[1]
    assert kassa(office_db_url, "audit", "p-1").stdout == ""  # refused: never stored
