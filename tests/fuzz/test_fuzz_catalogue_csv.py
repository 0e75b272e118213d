"""Catalogue CSV import, fuzzed: any file gives a report whose every error is `line N:
column: reason`, never an exception; with an error and no --partial the catalogue is
unchanged; what is imported is what the file said."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from firmware.catalogue import import_csv
from firmware.catalogue_csv import CSV_FIELDS, MAX_PRICE_CENTS, MAX_STOCK
from firmware.db import open_database
from firmware.sim import make_gtin
from tests.fuzz.budget import EDGE_TEXT, TEXT, budget

ERROR = re.compile(r"line [0-9]+: [^:\n]+: .+|database: .+", re.DOTALL)
GTINS = [make_gtin(i) for i in range(1, 6)]
CELLS = {
    "gtin": st.sampled_from([*GTINS, "", "8710398500012", "123"]) | TEXT,
    "plu": st.sampled_from(["1", "2", "007", "", "1234567", "²"]) | TEXT,
    "name": st.sampled_from(["Kaas", "Crème brûlée", "", "A\u202eB", "A\x00B", "x" * 300])
    | TEXT,
    "price": st.sampled_from(["1,00", "12.50", "€ 1.234,56", "1e5", "inf", "nan", "-1",
                              "99999999999999999999,99", "1000000,01", "9" * 5000]) | TEXT,
    "vat": st.sampled_from(["high", "low", "zero", "exempt", "LOW", "super"]) | TEXT,
    "category": st.sampled_from(["Zuivel", ""]) | TEXT,
    "stock_tracked": st.sampled_from(["yes", "no", "", "maybe"]) | TEXT,
    "active": st.sampled_from(["ja", "nee", ""]) | TEXT,
    "sold_by_weight": st.sampled_from(["1", "0", ""]) | TEXT,
    "favourite": st.sampled_from(["true", "false", ""]) | TEXT,
    "stock": st.sampled_from(["10", "-5", "", "1e3", "99999999999999999999"]) | TEXT,
}
DELIMITERS = st.sampled_from([",", ";", "\t"])


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[str, list[str]]:
    """(delimiter, lines): a header of known columns (sometimes an unknown one) and rows of
    values that are right, nearly right or hostile, quoted as a spreadsheet quotes them."""
    delimiter = draw(DELIMITERS)
    columns = draw(st.lists(st.sampled_from(CSV_FIELDS), min_size=1, max_size=len(CSV_FIELDS),
                            unique=True) | st.just(["gtin", "plu", "name", "price", "vat"]))
    if draw(st.integers(0, 9)) == 0:
        columns.append(draw(TEXT))

    def cell(value: str) -> str:
        if any(c in value for c in (delimiter, '"', "\n", "\r")):
            return '"' + value.replace('"', '""') + '"'
        return value

    lines = [delimiter.join(columns) + "\n"]
    for _ in range(draw(st.integers(0, 6))):
        values = [draw(CELLS.get(c, TEXT)) for c in columns]
        if draw(st.integers(0, 9)) == 0:
            values = values[:draw(st.integers(0, len(values)))] + draw(st.lists(TEXT, max_size=2))
        lines.append(delimiter.join(cell(v) for v in values) + draw(st.sampled_from(["\n", "\r\n"])))
    return delimiter, lines


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory):
    """A till database holding a few products the imports may update or clash with."""
    path = tmp_path_factory.mktemp("csv") / "kassa.sqlite3"
    db = open_database(path)
    db.execute_sql("PRAGMA synchronous = OFF")  # a scratch database: no fsync per example
    report = import_csv(db, ["gtin,plu,name,price,vat,stock\n", f"{GTINS[0]},1,Melk,1.09,low,5\n",
                             f"{GTINS[1]},2,Brood,2.49,low,\n", ",3,Kaas,12.95,low,100\n"])
    assert not report.errors
    yield db, path
    db.close()


def _state(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as con:
        return (con.execute("SELECT * FROM product ORDER BY id").fetchall()
                + con.execute("SELECT * FROM stock_level ORDER BY product_id").fetchall())


def _import(catalogue, source, partial: bool) -> None:
    db, path = catalogue
    before = _state(path)
    report = import_csv(db, source, partial=partial)
    for error in report.errors:
        assert ERROR.fullmatch(error), error
        assert len(error) < 500  # a huge cell is not echoed back
    if report.errors and not partial:
        assert _state(path) == before  # nothing half-stored
        assert (report.inserted, report.updated) == (0, 0)
    with sqlite3.connect(path) as con:
        prices = [row[0] for row in con.execute("SELECT price_cents FROM product")]
        names = [row[0] for row in con.execute("SELECT name FROM product")]
        stock = [row[0] for row in con.execute("SELECT quantity FROM stock_level")]
    assert all(0 <= p <= MAX_PRICE_CENTS for p in prices)
    assert all(abs(q) <= MAX_STOCK for q in stock)
    assert all(n.strip() and not re.search("[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]", n)
               for n in names)


@budget(200)
@given(file=csv_files(), partial=st.booleans())
@example(file=(";", ["gtin;plu;name;price;vat\n", f"{GTINS[2]};;Goed;1,00;low\n",
                     ";7;Te duur;99999999999999999999,99;low\n"]), partial=False)
@example(file=(",", ["gtin,plu,name,price,vat\n", f"{GTINS[0]},2,Melk,1.00,low\n"]),
         partial=True)  # a PLU another product holds
def test_text_files(catalogue, file: tuple[str, list[str]], partial: bool) -> None:
    _import(catalogue, file[1], partial)


@budget(100)
@given(data=st.binary(max_size=400) | st.sampled_from(EDGE_TEXT).map(str.encode)
       | csv_files().map(lambda f: "".join(f[1]).encode(
           "utf-8", "surrogatepass")),
       encoding=st.sampled_from(["bytes", "utf-16", "latin-1"]), partial=st.booleans())
def test_files_on_disk(catalogue, data: bytes, encoding: str, partial: bool) -> None:
    path = catalogue[1].parent / "products.csv"
    if encoding != "bytes":
        data = data.decode("utf-8", "replace").encode(encoding, "replace")
    path.write_bytes(data)
    _import(catalogue, str(path), partial)
