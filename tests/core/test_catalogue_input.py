"""Catalogue CSV from a careless or hostile source: every bad value is a `line N: column:
reason`, never a traceback; without --partial nothing is stored, with it the good rows are."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from firmware.catalogue import import_csv
from firmware.catalogue_csv import MAX_FIELD, parse_price
from firmware.db import open_database
from firmware.models import Product
from firmware.sim import make_gtin

ROOT = Path(__file__).resolve().parents[2]
HEADER = "gtin;plu;name;price;vat\n"
GOOD = f"{make_gtin(1)};;Goed;1,00;low\n"
GOOD_LAST = ";99;Ook goed;2,50;high\n"


@pytest.fixture
def db(tmp_path: Path):
    database = open_database(tmp_path / "c.sqlite3")
    yield database
    database.close()


def _kassa(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    config = tmp_path / "kassa.toml"
    config.write_text(f'[database]\npath = "{tmp_path / "k.sqlite3"}"\n')
    return subprocess.run([sys.executable, "-m", "cli", "--config", str(config), *args],
                          capture_output=True, text=True, cwd=ROOT)


@pytest.mark.parametrize(("price", "reason"), [
    ("99999999999999999999,99", "is above the highest price"),
    ("1e999", "is not an amount"),
    ("1e5", "is not an amount"),
    ("inf", "is not an amount"),
    ("-inf", "is not an amount"),
    ("nan", "is not an amount"),
    ("Infinity", "is not an amount"),
    ("-1,00", "is not an amount"),
    ("1,234", "is not an amount"),
    ("1_000", "is not an amount"),
    ("١٢", "is not an amount"),  # Arabic-Indic digits: str.isdigit says yes
    ("9" * 5000, "is above the highest price"),  # past int()'s 4300-digit limit
])
def test_a_price_that_is_not_a_shelf_price_is_refused(db, price: str, reason: str) -> None:
    report = import_csv(db, [HEADER, GOOD, f";7;Te duur;{price};low\n", GOOD_LAST])
    assert len(report.errors) == 1
    assert report.errors[0].startswith("line 3: price: ") and reason in report.errors[0]
    assert len(report.errors[0]) < 200  # a huge value is not echoed back
    assert Product.select().count() == 0
    partial = import_csv(db, [HEADER, GOOD, f";7;Te duur;{price};low\n", GOOD_LAST], partial=True)
    assert (partial.inserted, Product.select().count()) == (2, 2)


@pytest.mark.parametrize(("text", "cents"), [
    ("12,50", 1250), ("12.50", 1250), ("12.5", 1250), ("12", 1200), ("€ 1.234,56", 123456),
    ("0,99", 99), ("1000000,00", 100_000_000), ("1.000.000,00", 100_000_000),
])
def test_shelf_prices_as_spreadsheets_write_them(text: str, cents: int) -> None:
    assert parse_price(text) == cents


@pytest.mark.parametrize(("name", "shown"), [
    ("A\x00B", "U+0000 NUL"),
    ("A\x1b[31mB", "U+001B ESC"),
    ('"A\nB"', "U+000A LINE FEED"),
    ('"A\rB"', "U+000D CARRIAGE RETURN"),
    ("A\tB", "U+0009 TAB"),
    ("A\u202eB", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("A\u202bB", "U+202B RIGHT-TO-LEFT EMBEDDING"),
    ("A\u2067B", "U+2067 RIGHT-TO-LEFT ISOLATE"),
    ("A\u200fB", "U+200F RIGHT-TO-LEFT MARK"),
    ("A\u2028B", "U+2028 LINE SEPARATOR"),
    ("A\x85B", "U+0085"),
])
def test_control_and_bidi_characters_are_refused_in_names(db, name: str, shown: str) -> None:
    report = import_csv(db, [HEADER, GOOD, f";7;{name};1,00;low\n", GOOD_LAST])
    assert report.errors == [f"line 3: name: control character {shown} is not allowed"] or (
        len(report.errors) == 1 and report.errors[0].startswith(f"line 3: name: control "
                                                                f"character {shown}"))
    assert Product.select().count() == 0


def test_ordinary_unicode_names_are_kept(db) -> None:
    names = ["Crème brûlée", "Ĳsje", "Smørbrød", "שוקולד", "👨‍👩‍👧 pak"]  # ZWJ inside the emoji
    rows = [HEADER] + [f";{i};{n};1,00;low\n" for i, n in enumerate(names, 1)]
    assert import_csv(db, rows).errors == []
    assert sorted(p.name for p in Product.select()) == sorted(names)


def test_latin1_file_names_the_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + GOOD + ";7;Crème;1,00;low\n" + GOOD_LAST).encode("latin-1"))
    run = _kassa(tmp_path, "catalogue", "import", str(path))
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert f"{path}: line 3: name: byte 0xE8 is not UTF-8 text" in run.stderr
    assert "nothing imported" in run.stderr
    run = _kassa(tmp_path, "catalogue", "import", "--partial", str(path))
    assert run.returncode == 0 and "3 rows: 2 new, 0 updated, 1 skipped" in run.stdout


def test_latin1_through_an_open_text_file(db, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + GOOD + ";7;Crème;1,00;low\n" + GOOD_LAST).encode("latin-1"))
    with open(path, encoding="utf-8") as fh:
        report = import_csv(db, fh, partial=True)
    assert report.errors == ["line 3: name: byte 0xE8 is not UTF-8 text; save the file as CSV UTF-8"]
    assert report.inserted == 2


def test_undecodable_stream_names_the_line(db) -> None:
    def lines():
        yield HEADER
        yield GOOD
        raise UnicodeDecodeError("utf-8", b"\xe8", 0, 1, "invalid continuation byte")

    report = import_csv(db, lines(), partial=True)
    assert report.errors == ["line 3: encoding: byte 0xE8 is not UTF-8; save the file as CSV UTF-8"]
    assert report.inserted == 1


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_file_is_refused_as_a_whole(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "utf16.csv"
    path.write_bytes((HEADER + GOOD).encode(encoding))
    run = _kassa(tmp_path, "catalogue", "import", "--partial", str(path))
    assert "Traceback" not in run.stderr
    assert f"{path}: line 1: encoding: the file is UTF-16; save it as CSV UTF-8" in run.stderr


def test_utf8_with_bom_is_read(db, tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + GOOD).encode())
    assert import_csv(db, str(path)).inserted == 1


def test_a_50_mb_field_is_a_row_error(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(HEADER + GOOD + ";7;" + "x" * 50_000_000 + ";1,00;low\n" + GOOD_LAST)
    run = _kassa(tmp_path, "catalogue", "import", str(path))
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert f"{path}: line 3: name: longer than {MAX_FIELD} characters" in run.stderr
    run = _kassa(tmp_path, "catalogue", "import", "--partial", str(path))
    assert run.returncode == 0 and "3 rows: 2 new, 0 updated, 1 skipped" in run.stdout


def test_a_long_quoted_price_names_its_column(db) -> None:
    report = import_csv(db, [HEADER, GOOD, f';7;Naam;"{"1" * (MAX_FIELD + 5)}";low\n', GOOD_LAST])
    assert report.errors == [f"line 3: price: longer than {MAX_FIELD} characters"]


@pytest.mark.parametrize(("cells", "error"), [
    (";7;" + "n" * 256 + ";1,00;low", "line 3: name: 256 characters, at most 255"),
    (";7;X;1000000,01;low", "line 3: price: '1000000,01' is above the highest price 1000000"),
    (f"{'1' * 5000};;X;1,00;low", "line 3: gtin: "),
    (";²;X;1,00;low", "line 3: plu: '²' is not 1 to 6 digits"),
])
def test_other_columns_are_bounded(db, cells: str, error: str) -> None:
    report = import_csv(db, [HEADER, GOOD, cells + "\n"])
    assert len(report.errors) == 1 and report.errors[0].startswith(error)
    assert len(report.errors[0]) < 200


@pytest.mark.parametrize("stock", ["99999999999999999999", "1e3", "1_000", "+-1", "٣"])
def test_stock_must_be_a_bounded_whole_number(db, stock: str) -> None:
    report = import_csv(db, ["gtin;plu;name;price;vat;stock\n", f";7;X;1,00;low;{stock}\n"])
    assert len(report.errors) == 1 and report.errors[0].startswith("line 2: stock: ")


def test_a_plu_held_by_another_product_is_a_row_error(db) -> None:
    assert not import_csv(db, [HEADER, f"{make_gtin(1)};1;Een;1,00;low\n",
                               f"{make_gtin(2)};2;Twee;1,00;low\n"]).errors
    report = import_csv(db, [HEADER, f"{make_gtin(1)};2;Een;3,00;low\n", GOOD_LAST])
    assert len(report.errors) == 1
    assert report.errors[0].startswith("line 2: plu: 2 belongs to another product")
    assert Product.get(Product.plu == "1").price_cents == 100  # nothing half-stored
    partial = import_csv(db, [HEADER, f"{make_gtin(1)};2;Een;3,00;low\n", GOOD_LAST], partial=True)
    assert partial.inserted == 1 and Product.select().count() == 3


def test_a_million_columns_is_one_error_quickly(db) -> None:
    started = time.perf_counter()
    report = import_csv(db, ["gtin,name,price,vat" + ",x" * 1_000_000 + "\n", GOOD])
    assert report.errors[0].startswith("line 1: header: unknown column(s) x, x")
    report = import_csv(db, [HEADER, GOOD, "1;2;3;4" + ";x" * 1_000_000 + "\n"])
    assert report.errors == ["line 3: row: 1000004 cells where the header has 5"]
    assert time.perf_counter() - started < 30


def test_nul_bytes_in_a_utf8_file_are_not_taken_for_utf16(tmp_path: Path, db) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes((HEADER + ";7;A\x00\x00\x00\x00B;1,00;low\n" * 5).encode())
    report = import_csv(db, str(path))
    assert report.errors[0] == "line 2: name: control character U+0000 NUL is not allowed"


def test_a_file_that_never_ends_is_refused(db) -> None:
    assert import_csv(db, "/dev/zero").errors == ["line 1: file: not a regular file"]
