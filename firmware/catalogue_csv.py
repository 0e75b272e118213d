"""Reading a product CSV into checked rows, before anything touches the database.

A shop's file may come from any spreadsheet, in any encoding, with any mistake in it: every
problem becomes one `line N: column: reason` in the report and never a traceback, and the
rows that passed are handed to the catalogue (firmware/catalogue.py) to store. Values are
bounded here so that nothing out of range reaches a column: a price is written 12.50, 12,50
or 1.234,56 (no exponents, no inf or nan), names hold no control or bidi characters.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
import stat
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from contract import downstream
from contract.config import VAT_CODES
from contract.entries import MAX_COUNT, NAME
from contract.gtin import BarcodeError, normalize_gtin

CSV_FIELDS = ("gtin", "plu", "name", "price", "vat", "category", "stock_tracked", "active",
              "sold_by_weight", "favourite", "stock")
REQUIRED_FIELDS = ("name", "price", "vat")
# the bounds head office's catalogue messages have (contract/downstream.py): one catalogue
MAX_NAME = NAME  # characters of a product name
MAX_CATEGORY = downstream.MAX_CATEGORY
MAX_PRICE_CENTS = downstream.MAX_PRICE_CENTS  # per piece or kg; x 1000 still fits a sale line
MAX_STOCK = MAX_COUNT  # pieces, or grams for goods sold by weight
MAX_FIELD = 131072  # the csv module's field limit: a longer cell is refused as too long
MAX_FILE_BYTES = 512 * 1024 * 1024  # ~5 million products; a bigger file is refused whole
DELIMITERS = ",;\t"

_TRUE = {"1", "true", "yes", "ja", "y", "j"}
_FALSE = {"0", "false", "no", "nee", "n"}
_FLAGS: dict[str, bool] = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}
_PRICE = re.compile(r"(?:€\s*)?(?:([0-9]{1,3}(?:\.[0-9]{3})+),([0-9]{2})"
                    r"|([0-9]+)(?:[.,]([0-9]{1,2}))?)")
_PLU = re.compile(r"[0-9]{1,6}")
_STOCK = re.compile(r"-?[0-9]+")
# C0 and C1 controls (NUL, ESC, TAB, CR, LF, DEL ...), line and paragraph separators, the
# bidirectional controls (a right-to-left override turns a receipt line around), the BOM,
# and U+DC80..U+DCFF: bytes that were not UTF-8 (decoded with surrogateescape).
_BAD_CHAR = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
                       "\ufeff\udc80-\udcff]")


@dataclass
class ImportReport:
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class ParsedCsv:
    """The rows that passed, each with the line it came from, and the report so far."""

    rows: list[tuple] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    report: ImportReport = field(default_factory=ImportReport)


class _RowError(ValueError):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}")


def _shown(value: str, limit: int = 40) -> str:
    """A value quoted for an error message, cut short: a 50 MB cell is not echoed back."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def _char_name(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"byte 0x{code - 0xDC00:02X}"
    name = unicodedata.name(char, "") or {0: "NUL", 0x1B: "ESC", 9: "TAB", 10: "LINE FEED",
                                          13: "CARRIAGE RETURN", 0x7F: "DELETE"}.get(code, "")
    return f"U+{code:04X}{' ' + name if name else ''}"


def _check_text(column: str, value: str) -> None:
    bad = _BAD_CHAR.search(value)
    if bad is None:
        return
    if 0xDC80 <= ord(bad.group()) <= 0xDCFF:
        raise _RowError(column, f"{_char_name(bad.group())} is not UTF-8 text; save the file "
                        "as CSV UTF-8")
    raise _RowError(column, f"control character {_char_name(bad.group())} is not allowed")


def parse_price(text: str) -> int:
    """A shelf price as a spreadsheet writes it -> cents. Raises ValueError with the reason."""
    match = _PRICE.fullmatch(text)
    if match is None:
        raise ValueError(f"{_shown(text)} is not an amount (write 12.50, 12,50 or 1.234,56)")
    whole = (match[1] or match[3]).replace(".", "")
    if len(whole) > len(str(MAX_PRICE_CENTS // 100)):
        raise ValueError(f"{_shown(text)} is above the highest price {MAX_PRICE_CENTS // 100}")
    decimals = match[2] or match[4] or ""
    cents = int(whole) * 100 + int(decimals.ljust(2, "0") or 0)
    if cents > MAX_PRICE_CENTS:
        raise ValueError(f"{_shown(text)} is above the highest price {MAX_PRICE_CENTS // 100}")
    return cents


def _flag(value: str, column: str, default: bool) -> bool:
    text = value.strip().lower()
    if not text:
        return default
    parsed = _FLAGS.get(text)
    if parsed is None:
        raise _RowError(column, f"{_shown(value.strip())} is not yes/no")
    return parsed


def _codes(cells: list[str], ix: dict[str, int]) -> tuple[str | None, str | None]:
    gtin_text, plu = cells[ix["gtin"]].strip(), cells[ix["plu"]].strip()
    if not gtin_text and not plu:
        raise _RowError("gtin/plu", "a product needs a GTIN or a PLU")
    gtin = None
    if gtin_text:
        if len(gtin_text) > 14:
            raise _RowError("gtin", f"{_shown(gtin_text)} is not a GTIN (8, 12, 13 or 14 digits)")
        try:
            gtin = normalize_gtin(gtin_text)
        except BarcodeError as exc:
            raise _RowError("gtin", str(exc)) from None
    if plu:
        if not _PLU.fullmatch(plu):
            raise _RowError("plu", f"{_shown(plu)} is not 1 to 6 digits")
        plu = plu.lstrip("0") or "0"
    return gtin, plu or None


def _stock(text: str) -> int | None:
    if not text:
        return None
    if not _STOCK.fullmatch(text) or len(text) > len(str(MAX_STOCK)) + 1:
        raise _RowError("stock", f"{_shown(text)} is not a whole number within ±{MAX_STOCK}")
    stock = int(text)
    if abs(stock) > MAX_STOCK:
        raise _RowError("stock", f"{_shown(text)} is not a whole number within ±{MAX_STOCK}")
    return stock


def parse_row(cells: list[str], ix: dict[str, int], header: list[str]) -> tuple:
    """One CSV row (cells padded so that a missing column reads as '') -> the product tuple
    (gtin, plu, name, price, vat, category, 4 flags, name_folded, stock). Raises ValueError
    naming the column."""
    if _BAD_CHAR.search("".join(cells)):  # one search per row; the cell only when found
        for index, cell in enumerate(cells[:len(header)]):
            _check_text(header[index], cell)
    name, price_text, vat = cells[ix["name"]].strip(), cells[ix["price"]].strip(), cells[ix["vat"]]
    for column, value in (("name", name), ("price", price_text), ("vat", vat.strip())):
        if not value:
            raise _RowError(column, "missing")
    if len(name) > MAX_NAME:
        raise _RowError("name", f"{len(name)} characters, at most {MAX_NAME}")
    gtin, plu = _codes(cells, ix)
    try:
        price = parse_price(price_text)
    except ValueError as exc:
        raise _RowError("price", str(exc)) from None
    vat = vat.strip().lower()
    if vat not in VAT_CODES:
        raise _RowError("vat", f"{_shown(vat)} is not one of {', '.join(VAT_CODES)}")
    category = cells[ix["category"]].strip()
    if len(category) > MAX_CATEGORY:
        raise _RowError("category", f"{len(category)} characters, at most {MAX_CATEGORY}")
    return (
        gtin, plu, name, price, vat, category,
        _flag(cells[ix["stock_tracked"]], "stock_tracked", True),
        _flag(cells[ix["active"]], "active", True),
        _flag(cells[ix["sold_by_weight"]], "sold_by_weight", False),
        _flag(cells[ix["favourite"]], "favourite", False),
        name.casefold(), _stock(cells[ix["stock"]].strip()),
    )


class CsvFileError(ValueError):
    """The file as a whole cannot be read as a product CSV (UTF-16, not a file, too big)."""


def _decode(data: bytes) -> str:
    """UTF-8 (with or without a BOM); bytes that are not UTF-8 are kept as U+DC80..U+DCFF so
    that the row and column holding them can be named."""
    head = data[:200]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (len(head) >= 4 and any(
            half.count(0) * 5 >= len(half) * 4 for half in (head[0::2], head[1::2]))):
        raise CsvFileError("line 1: encoding: the file is UTF-16; save it as CSV UTF-8")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    return data.decode("utf-8", "surrogateescape")


def read_file(path: str) -> list[str]:
    """The lines of a CSV file (OSError when it cannot be opened, CsvFileError when it is not
    UTF-8 text)."""
    with open(path, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):  # a directory, /dev/zero or a pipe
            raise CsvFileError("line 1: file: not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise CsvFileError(f"line 1: file: {info.st_size} bytes, at most {MAX_FILE_BYTES}")
        return _split(_decode(fh.read(MAX_FILE_BYTES + 1)))


def _split(text: str) -> list[str]:
    # split on LF only (CRLF keeps its CR for the csv module): str.splitlines would also
    # split at the separators and controls a name may (wrongly) hold, hiding them
    lines = text.split("\n")
    del text
    last = lines.pop()
    lines = [line + "\n" for line in lines]
    if last:
        lines.append(last)
    return lines


def _lines(source: Iterable[str]) -> tuple[list[str], str | None]:
    """The lines of an open text source; a decoding error ends them with its line named."""
    lines: list[str] = []
    iterator: Iterator[str] = iter(source)
    while True:
        try:
            line = next(iterator)
        except StopIteration:
            return lines, None
        except UnicodeDecodeError as exc:
            buffer = getattr(source, "buffer", None)
            if buffer is not None and buffer.seekable():  # an open file: read its bytes
                buffer.seek(0)
                return _split(_decode(buffer.read())), None
            return lines, (f"line {len(lines) + 1}: encoding: byte 0x{exc.object[exc.start]:02X}"
                           " is not UTF-8; save the file as CSV UTF-8")
        lines.append(line)


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _long_column(text: str, delimiter: str, header: list[str]) -> str:
    """The column of the first cell longer than MAX_FIELD in a record's raw text."""
    index, length, quoted = 0, 0, False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            index, length = index + 1, 0
            continue
        length += 1
        if length > MAX_FIELD:
            break
    return header[index] if index < len(header) else f"column {index + 1}"


def _header_problem(header: list[str]) -> str | None:
    unknown = [h for h in header if h not in CSV_FIELDS]
    missing = [f for f in REQUIRED_FIELDS if f not in header]
    doubled = sorted(h for h, n in Counter(header).items() if n > 1)
    problems = []
    if unknown:
        shown = ", ".join(_BAD_CHAR.sub("?", h[:30]) for h in unknown[:8])
        problems.append(f"unknown column(s) {shown}")
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if doubled:
        problems.append(f"column(s) given twice: {', '.join(doubled)}")
    if not problems:
        return None
    return f"line 1: header: {'; '.join(problems)} (columns: {', '.join(CSV_FIELDS)})"


def parse_csv(source: str | Iterable[str],
              progress: Callable[[int, int], None] | None = None) -> ParsedCsv:
    """Reads a product CSV (a path, an open text file or its lines) into checked rows; every
    problem is one `line N: column: reason` in the report. Raises OSError only for a path
    that cannot be opened."""
    parsed = ParsedCsv()
    errors = parsed.report.errors
    try:
        lines, decode_error = (read_file(source), None) if isinstance(source, str) else _lines(source)
    except CsvFileError as exc:
        errors.append(str(exc))
        return parsed
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    delimiter = _delimiter(lines[0] if lines else "")
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader, [])]
    except csv.Error as exc:
        errors.append(f"line 1: header: {exc}")
        return parsed
    problem = _header_problem(header)
    if problem:
        errors.append(problem)
        return parsed
    _rows(reader, lines, header, delimiter, parsed, progress)
    if decode_error:
        errors.append(decode_error)
    return parsed


def _rows(reader: Iterator[list[str]], lines: list[str], header: list[str], delimiter: str,
          parsed: ParsedCsv, progress: Callable[[int, int], None] | None) -> None:
    report, errors = parsed.report, parsed.report.errors
    width = len(header)
    # Columns left out of the file read the always-empty cell just past the header's width.
    ix = {name: header.index(name) if name in header else width for name in CSV_FIELDS}
    seen_gtin: dict[str, int] = {}
    seen_plu: dict[str, int] = {}
    total = max(len(lines) - 1, 0)
    index = -1
    while True:
        first = reader.line_num + 1  # type: ignore[attr-defined]
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            line_no = reader.line_num  # type: ignore[attr-defined]
            report.rows += 1
            if "field larger than field limit" in str(exc):
                column = _long_column("".join(lines[first - 1:line_no]), delimiter, header)
                errors.append(f"line {first}: {column}: longer than {MAX_FIELD} characters")
            else:
                errors.append(f"line {first}: row: not valid CSV ({exc})")
            continue
        line_no = first
        index += 1
        if progress and index % 5000 == 0:
            progress(index, total)
        if not cells:
            continue
        report.rows += 1
        if len(cells) > width:
            errors.append(f"line {line_no}: row: {len(cells)} cells where the header has {width}")
            continue
        cells.extend([""] * (width + 1 - len(cells)))
        try:
            values = parse_row(cells, ix, header)
        except ValueError as exc:
            errors.append(f"line {line_no}: {exc}")
            continue
        gtin, plu = values[0], values[1]
        if gtin and gtin in seen_gtin:
            errors.append(f"line {line_no}: gtin: {gtin} already on line {seen_gtin[gtin]}")
            continue
        if plu and plu in seen_plu:
            errors.append(f"line {line_no}: plu: {plu} already on line {seen_plu[plu]}")
            continue
        if gtin:
            seen_gtin[gtin] = line_no
        if plu:
            seen_plu[plu] = line_no
        parsed.rows.append(values)
        parsed.lines.append(line_no)


def drop_clashes(parsed: ParsedCsv, by_gtin: dict[str, int], by_plu: dict[str, int]) -> None:
    """Drops (and reports) the rows that would give a stored product, found by its GTIN, the
    PLU another stored product holds: the database would refuse them. by_gtin and by_plu map
    the stored GTINs and PLUs to their product ids."""
    keep_rows, keep_lines = [], []
    for values, line_no in zip(parsed.rows, parsed.lines, strict=True):
        gtin, plu = values[0], values[1]
        found = by_gtin.get(gtin) if gtin else None
        holder = by_plu.get(plu) if plu else None
        if found is not None and holder is not None and holder != found:
            parsed.report.errors.append(
                f"line {line_no}: plu: {plu} belongs to another product (id {holder}); "
                "free or change that product's PLU first")
            continue
        keep_rows.append(values)
        keep_lines.append(line_no)
    parsed.rows, parsed.lines = keep_rows, keep_lines
