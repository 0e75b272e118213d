"""Catalogue: CSV import with row-level errors, upserts, stock, lookup and search."""

import io
import subprocess
import sys
from pathlib import Path

import pytest

from contract.gtin import BarcodeError
from firmware.catalogue import Catalogue, UnknownProduct, import_csv
from firmware.db import open_database
from firmware.models import Product, StockLevel
from firmware.sim import catalogue_csv, make_gtin

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db(tmp_path: Path):
    database = open_database(tmp_path / "c.sqlite3")
    yield database
    database.close()


def test_import_and_lookup(db) -> None:
    report = import_csv(db, catalogue_csv(50))
    assert (report.rows, report.inserted, report.updated, report.errors) == (50, 50, 0, [])
    catalogue = Catalogue(db)
    product = catalogue.by_gtin(make_gtin(7))
    assert product.plu == "7" and catalogue.by_plu("0007").id == product.id
    assert catalogue.resolve("7").product.id == product.id
    assert StockLevel.get(StockLevel.product == product.id).quantity == 1000
    assert len(catalogue.favourites()) == 12
    known = {"Zuivel", "Bakkerij", "Dranken", "Snoep", "Kruidenier", "Verzorging"}
    assert set(catalogue.categories()) <= known


def test_reimport_updates_instead_of_duplicating(db) -> None:
    import_csv(db, catalogue_csv(10))
    rows = ["gtin,name,price,vat\n", f"{make_gtin(3)},Nieuwe naam,2.00,high\n"]
    report = import_csv(db, rows)
    assert (report.inserted, report.updated) == (0, 1)
    assert Product.get(Product.gtin == "0" + make_gtin(3)).name == "Nieuwe naam"
    assert Product.select().count() == 10


def test_row_errors_name_line_and_field_and_import_nothing(db) -> None:
    rows = [
        "gtin;plu;name;price;vat\n",
        f"{make_gtin(1)};;Goed;1,00;low\n",
        "8710398500012;;Slechte check;1,00;low\n",
        ";;Geen code;1,00;low\n",
        f"{make_gtin(2)};;Te duur;abc;low\n",
        f"{make_gtin(3)};;Rare btw;1,00;super\n",
        f"{make_gtin(1)};;Dubbel;1,00;low\n",
        ";12345678;Lange plu;1,00;low\n",
        f"{make_gtin(4)};;;1,00;low\n",
    ]
    report = import_csv(db, rows)
    assert report.errors == [
        "line 3: gtin: barcode 8710398500012 (EAN-13) has check digit 2, expected 4",
        "line 4: gtin/plu: a product needs a GTIN or a PLU",
        "line 5: price: 'abc' is not an amount (write 12.50, 12,50 or 1.234,56)",
        "line 6: vat: 'super' is not one of high, low, zero, exempt",
        f"line 7: gtin: 0{make_gtin(1)} already on line 2",
        "line 8: plu: '12345678' is not 1 to 6 digits",
        "line 9: name: missing",
    ]
    assert Product.select().count() == 0
    partial = import_csv(db, rows, partial=True)
    assert partial.inserted == 1 and Product.select().count() == 1


def test_bad_header(db) -> None:
    report = import_csv(db, ["barcode,name,prijs\n", "1,2,3\n"])
    assert report.errors and "unknown column(s) barcode, prijs" in report.errors[0]
    assert "missing column(s) price, vat" in report.errors[0]


def test_progress_is_reported(db) -> None:
    calls = []
    import_csv(db, catalogue_csv(12000), progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 12000) and calls[-1] == (12000, 12000) and len(calls) >= 3


def test_search_and_unknown(db) -> None:
    import_csv(db, ["gtin,plu,name,price,vat,active\n", f"{make_gtin(1)},,Crème brûlée,3.50,low,yes\n",
                    f"{make_gtin(2)},,Oude crème,3.50,low,no\n"])
    catalogue = Catalogue(db)
    assert [p.name for p in catalogue.search("CRÈME")] == ["Crème brûlée"]
    with pytest.raises(UnknownProduct, match="no active product"):
        catalogue.resolve(make_gtin(2))  # inactive
    with pytest.raises(BarcodeError):
        catalogue.resolve("1234567890123")


def test_cli_import_with_progress_and_errors(tmp_path: Path) -> None:
    config = tmp_path / "kassa.toml"
    config.write_text(f'[database]\npath = "{tmp_path / "k.sqlite3"}"\n')
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("".join(catalogue_csv(100)))
    bad.write_text("gtin,name,price,vat\n123,X,1,low\n")
    run = lambda *a: subprocess.run([sys.executable, "-m", "cli", "--config", str(config), *a],  # noqa: E731
                                    capture_output=True, text=True, cwd=ROOT)
    ok = run("catalogue", "import", str(good))
    assert ok.returncode == 0 and "100 rows: 100 new" in ok.stdout and "[####" in ok.stderr
    fail = run("catalogue", "import", str(bad))
    assert fail.returncode == 1 and f"{bad}: line 2: gtin:" in fail.stderr
    assert "nothing imported" in fail.stderr
    found = run("catalogue", "find", make_gtin(5))
    assert found.returncode == 0 and "PLU 5" in found.stdout
    missing = run("catalogue", "import", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "No such file" in missing.stderr


def test_import_from_file_object(db) -> None:
    report = import_csv(db, io.StringIO("".join(catalogue_csv(3))))
    assert report.inserted == 3
