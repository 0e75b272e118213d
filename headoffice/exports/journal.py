"""The full journal of a period as CSV or JSON lines, its signed manifest, and the offline
check an auditor runs.

Every row carries the canonical body, its hash, the previous entry's hash and the Ed25519
signature, so the chain of each terminal can be re-verified from the file alone with the
terminals' public keys (reusing contract.chain, the same code the till uses). What the file
cannot say by itself (that nothing was left out at either end) the manifest says:
headoffice/exports/manifest.py.

Per terminal the export holds one unbroken run of entries: from the first one that a Z of
the period counts (or the period's first, when no Z reaches back further) to the period's
last, so every Z in it can be checked against the entries it covers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import peewee
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from contract import chain
from headoffice.exports.periods import Period
from headoffice.models import OfficeEntry

COLUMNS = ["store", "terminal", "seq", "type", "ts", "hash", "prev", "sig", "body"]
# the readable columns that repeat a field of the signed body, and must say the same
BODY_COLUMNS = ("store", "terminal", "seq", "type", "ts")


class ExportFormatError(ValueError):
    """A journal export that cannot be read; names the line."""


@dataclass(frozen=True)
class Window:
    """One terminal's run of entries in an export: seq first_seq..last_seq, both included."""

    store: str
    terminal: str
    first_seq: int
    last_seq: int


def export_windows(period: Period, store: str | None = None) -> list[Window]:
    """Each terminal's run: the period's first to last entry (by the entries' own time),
    reaching back to the first entry counted by a Z inside that run."""
    end = (period.end + dt.timedelta(days=1)).isoformat()
    in_period = (OfficeEntry.ts >= period.first) & (OfficeEntry.ts < end)
    if store:
        in_period &= OfficeEntry.store == store
    query = (OfficeEntry.select(OfficeEntry.terminal, peewee.fn.MIN(OfficeEntry.store).alias("st"),
                                peewee.fn.MIN(OfficeEntry.seq).alias("lo"),
                                peewee.fn.MAX(OfficeEntry.seq).alias("hi"))
             .where(in_period).group_by(OfficeEntry.terminal).order_by(OfficeEntry.terminal))
    windows = []
    for row in query.dicts():
        lo, hi = int(row["lo"]), int(row["hi"])
        zs = (OfficeEntry.select(OfficeEntry.body)
              .where((OfficeEntry.terminal == row["terminal"]) & (OfficeEntry.type == "z_close")
                     & (OfficeEntry.seq >= lo) & (OfficeEntry.seq <= hi)))
        for z in zs:
            first = json.loads(z.body).get("data", {}).get("first_seq")
            if isinstance(first, int) and 1 <= first < lo:
                lo = first  # a Z's range holds no Z, so one pass reaches back far enough
        windows.append(Window(row["st"], row["terminal"], lo, hi))
    return sorted(windows, key=lambda w: (w.store, w.terminal))


def window_rows(window: Window, store: str | None = None) -> Iterator[dict[str, Any]]:
    query = (OfficeEntry.select()
             .where((OfficeEntry.terminal == window.terminal)
                    & (OfficeEntry.seq >= window.first_seq) & (OfficeEntry.seq <= window.last_seq))
             .order_by(OfficeEntry.seq))
    if store:
        query = query.where(OfficeEntry.store == store)
    for row in query.iterator():
        yield {"store": row.store, "terminal": row.terminal, "seq": row.seq, "type": row.type,
               "ts": row.ts, "hash": row.hash, "prev": row.prev, "sig": row.sig, "body": row.body}


def journal_rows(period: Period, store: str | None = None) -> Iterator[dict[str, Any]]:
    for window in export_windows(period, store):
        yield from window_rows(window, store)


def write_jsonl(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    count = 0
    for row in rows:
        out.write(json_line(row))
        count += 1
    return count


def json_line(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"


def write_csv(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


def read_export(path: str | Path) -> Iterator[dict[str, Any]]:
    """Rows of a CSV or JSON-lines export (told apart by the first character)."""
    with open(path, encoding="utf-8", newline="") as fh:
        yield from parse_rows(fh, str(path))


def parse_rows(fh: TextIO, name: str) -> Iterator[dict[str, Any]]:
    """Rows of an export already open as text; `name` is only for the messages."""
    first = fh.read(1)
    fh.seek(0)
    if first == "{":
        for number, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError as exc:
                    raise ExportFormatError(f"{name}: line {number}: not JSON: {exc}") from None
    else:
        reader = csv.DictReader(fh)
        if reader.fieldnames != COLUMNS:
            raise ExportFormatError(f"{name}: header is {reader.fieldnames}, expected {COLUMNS}")
        for row in reader:
            try:
                row["seq"] = int(row["seq"])
            except (TypeError, ValueError):
                raise ExportFormatError(f"{name}: line {reader.line_num}: seq {row['seq']!r} "
                                        "is not a number") from None
            yield row


@dataclass
class ExportCheck:
    entries: int = 0
    terminals: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    seqs: dict[str, list[int]] = field(default_factory=dict)  # per terminal, in file order
    zs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # signed z_close bodies

    @property
    def ok(self) -> bool:
        return not self.problems and self.entries > 0


def verify_rows(rows: Iterable[dict[str, Any]],
                keys: dict[str, Ed25519PublicKey]) -> ExportCheck:
    """Re-checks hashes, signatures, the links between consecutive entries per terminal and
    that every readable column says what the signed body says."""
    result = ExportCheck()
    last: dict[str, tuple[int, str]] = {}
    for row in rows:
        result.entries += 1
        terminal, seq = str(row["terminal"]), int(row["seq"])
        result.seqs.setdefault(terminal, []).append(seq)
        where = f"terminal {terminal} entry {seq}"
        key = keys.get(terminal) or keys.get("*")
        if key is None:
            result.problems.append(f"{where}: no public key given for this terminal")
            continue
        if terminal in last:
            prev_seq, prev_hash = last[terminal]
            if seq != prev_seq + 1:
                result.problems.append(f"{where}: follows entry {prev_seq} (missing or reordered)")
            elif row["prev"] != prev_hash:
                result.problems.append(f"{where}: prev hash does not match entry {prev_seq}")
        elif seq == 1 and row["prev"] != chain.GENESIS.hex():
            result.problems.append(f"{where}: first entry does not start from the genesis hash")
        try:
            prev = bytes.fromhex(row["prev"])
        except ValueError:
            result.problems.append(f"{where}: prev is not hex")
            continue
        problem = chain.check_entry(prev, row["body"], row["hash"], row["sig"], key,
                                    expected_seq=seq)
        if problem:
            result.problems.append(f"{where}: {problem}")
        else:
            body = json.loads(row["body"])
            result.problems += column_problems(where, row, body)
            if body.get("type") == "z_close":
                result.zs.setdefault(terminal, []).append(body)
        last[terminal] = (seq, row["hash"])
        result.terminals[terminal] = result.terminals.get(terminal, 0) + 1
    return result


def column_problems(where: str, row: dict[str, Any], body: dict[str, Any]) -> list[str]:
    """Each readable column that differs from the signed body, named with both values."""
    out = []
    for name in BODY_COLUMNS:
        shown, signed = row.get(name), body.get(name)
        if (int(shown) if name == "seq" else str(shown)) != signed:
            out.append(f"{where}: column {name} says {shown!r}, the signed body says {signed!r}")
    return out


def parse_keys(values: Iterable[str]) -> dict[str, Ed25519PublicKey]:
    """`TERMINAL=HEX`, a bare HEX (any terminal) or a file of `TERMINAL HEX` lines."""
    keys: dict[str, Ed25519PublicKey] = {}
    for value in values:
        items: list[tuple[str, str]] = []
        if Path(value).is_file():
            for line in Path(value).read_text().splitlines():
                parts = line.replace("=", " ").split()
                if len(parts) == 2 and not line.startswith("#"):
                    items.append((parts[0], parts[1]))
        elif "=" in value:
            name, text = value.split("=", 1)
            items.append((name, text))
        else:
            items.append(("*", value))
        for name, text in items:
            try:
                keys[name] = Ed25519PublicKey.from_public_bytes(bytes.fromhex(text.strip()))
            except ValueError:
                raise ExportFormatError(f"public key for {name}: {text!r} is not 32 bytes of hex") \
                    from None
    return keys


def export_text(period: Period, fmt: str, store: str | None = None) -> str:
    out = io.StringIO()
    (write_csv if fmt == "csv" else write_jsonl)(journal_rows(period, store), out)
    return out.getvalue()
