"""The full journal of a period as CSV or JSON lines, and the offline check an auditor runs.

Every row carries the canonical body, its hash, the previous entry's hash and the Ed25519
signature, so the chain of each terminal can be re-verified from the file alone with the
terminals' public keys (reusing contract.chain, the same code the till uses).
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

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from contract import chain
from headoffice.exports.periods import Period
from headoffice.models import OfficeEntry

COLUMNS = ["store", "terminal", "seq", "type", "ts", "hash", "prev", "sig", "body"]


class ExportFormatError(ValueError):
    """A journal export that cannot be read; names the line."""


def journal_rows(period: Period, store: str | None = None) -> Iterator[dict[str, Any]]:
    end = (period.end + dt.timedelta(days=1)).isoformat()
    query = (OfficeEntry.select().where((OfficeEntry.ts >= period.first) & (OfficeEntry.ts < end))
             .order_by(OfficeEntry.store, OfficeEntry.terminal, OfficeEntry.seq))
    if store:
        query = query.where(OfficeEntry.store == store)
    for row in query.iterator():
        yield {"store": row.store, "terminal": row.terminal, "seq": row.seq, "type": row.type,
               "ts": row.ts, "hash": row.hash, "prev": row.prev, "sig": row.sig, "body": row.body}


def write_jsonl(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    count = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
    return count


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
        first = fh.read(1)
        fh.seek(0)
        if first == "{":
            for number, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except ValueError as exc:
                        raise ExportFormatError(f"{path}: line {number}: not JSON: {exc}") from None
        else:
            reader = csv.DictReader(fh)
            if reader.fieldnames != COLUMNS:
                raise ExportFormatError(f"{path}: header is {reader.fieldnames}, expected {COLUMNS}")
            for row in reader:
                row["seq"] = int(row["seq"])
                yield row


@dataclass
class ExportCheck:
    entries: int = 0
    terminals: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.entries > 0


def verify_rows(rows: Iterable[dict[str, Any]],
                keys: dict[str, Ed25519PublicKey]) -> ExportCheck:
    """Re-checks hashes, signatures and the links between consecutive entries per terminal."""
    result = ExportCheck()
    last: dict[str, tuple[int, str]] = {}
    for row in rows:
        result.entries += 1
        terminal, seq = str(row["terminal"]), int(row["seq"])
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
            if body.get("terminal") != terminal or body.get("store") != row.get("store"):
                result.problems.append(f"{where}: row names another store/terminal than its body")
        last[terminal] = (seq, row["hash"])
        result.terminals[terminal] = result.terminals.get(terminal, 0) + 1
    return result


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
