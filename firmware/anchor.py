"""The anchor: the last Z close's seq and hash, kept outside the database, signed.

Whoever holds the database file can cut entries off its end and rewrite the head record and
the counters to match; the chain and every remaining signature still verify. So each Z
close is also written to `<database>.anchor` (written to a new file, fsync'd, renamed over
the old one, the directory fsync'd) and signed with the journal key. With the printed Z's QR
code (store, terminal, seq and short hash of the Z) and head office's ack, that makes three
witnesses the database cannot rewrite alone; start-up and `kassa journal verify` check them
(docs/integrity.md). A missing anchor while the journal has Z closes is reported, and is
written again only after a manager acknowledged that (or at the next Z close).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import peewee

from contract import chain
from contract.keys import PrivateKey, PublicKey
from contract.receipt import parse_qr_payload

log = logging.getLogger(__name__)

SUFFIX = ".anchor"
VERSION = 1
Finding = tuple[str, int, str]  # (problem code, seq, plain text) for firmware/integrity.py


class AnchorError(ValueError):
    """The anchor file exists but cannot be used (not JSON, wrong fields, bad signature)."""


@dataclass(frozen=True)
class Anchor:
    store: str
    terminal: str
    seq: int
    hash: str
    z_number: int


def path_for(db: peewee.SqliteDatabase) -> Path | None:
    """`<database>.anchor` beside the database file (None for an in-memory database)."""
    name = str(db.database or "")
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name + SUFFIX)


def _signed_text(anchor: Anchor) -> bytes:
    return chain.canonical({"v": VERSION, **asdict(anchor)})


def write(path: Path, key: PrivateKey, anchor: Anchor) -> None:
    """Replaces the anchor file atomically and durably."""
    text = _signed_text(anchor)
    signature = chain.sign(key, chain.entry_hash(chain.GENESIS, text))
    record = {**json.loads(text), "sig": signature.hex()}
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps(record, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read(path: Path, public_key: PublicKey) -> Anchor | None:
    """The anchor in the file, its signature checked; None when there is no file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AnchorError(f"cannot be read ({exc.strerror or exc})") from exc
    try:
        record: Any = json.loads(raw)
        signature = bytes.fromhex(record.pop("sig"))
        if record.pop("v") != VERSION:
            raise AnchorError("is of an unknown version")
        anchor = Anchor(**record)
        if not all(isinstance(getattr(anchor, name), int) and not
                   isinstance(getattr(anchor, name), bool) for name in ("seq", "z_number")):
            raise AnchorError("has a seq or Z number that is not a whole number")
    except AnchorError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise AnchorError("is not an anchor record (damaged or replaced)") from exc
    if not chain.signature_ok(public_key, chain.entry_hash(chain.GENESIS, _signed_text(anchor)),
                              signature):
        raise AnchorError("has a signature that does not match (forged or edited)")
    return anchor


def last_z(db: peewee.SqliteDatabase) -> tuple[int, str, int] | None:
    """(seq, hash, Z number) of the journal's last z_close (by the type index)."""
    row = db.execute_sql("SELECT seq, hash, body FROM journal WHERE type = 'z_close' "
                         "ORDER BY seq DESC LIMIT 1").fetchone()
    if row is None:
        return None
    try:
        z_number = int(json.loads(row[2])["data"]["z_number"])
    except (ValueError, KeyError, TypeError):
        z_number = 0
    return int(row[0]), str(row[1]), z_number


def findings(db: peewee.SqliteDatabase, public_key: PublicKey, store: str, terminal: str,
             last_seq: int) -> list[Finding]:
    """What the anchor file says against the journal. An anchor one Z behind is the crash
    window between the Z's commit and the file's write, and is no finding (`renew` catches
    it up); more than one behind is."""
    path = path_for(db)
    if path is None:
        return []
    z = last_z(db)
    try:
        anchor = read(path, public_key)
    except AnchorError as exc:
        return [("anchor", z[0] if z else 0, f"the anchor file {path} {exc}")]
    if anchor is None:
        if z is None:
            return []
        return [("anchor", z[0], f"the anchor file {path} is missing although the journal has "
                 f"Z closes (the last at entry {z[0]}): it was deleted, or this is not the "
                 "database it anchored")]
    if (anchor.store, anchor.terminal) != (store, terminal):
        return [("anchor", anchor.seq, f"the anchor file {path} belongs to terminal "
                 f"{anchor.store}/{anchor.terminal}, not {store}/{terminal}")]
    if anchor.seq > last_seq:
        return [("truncated", anchor.seq, f"the anchor file records Z close {anchor.z_number} at "
                 f"entry {anchor.seq}, but the journal ends at entry {last_seq}: entries at the "
                 "end were removed (truncated)")]
    row = db.execute_sql("SELECT type, hash FROM journal WHERE seq = ?", (anchor.seq,)).fetchone()
    if row is None or row[0] != "z_close" or row[1] != anchor.hash:
        return [("anchor", anchor.seq, f"entry {anchor.seq} is not the Z close {anchor.z_number} "
                 f"that the anchor file records (hash {anchor.hash[:16]}): the journal was "
                 "rewritten or replaced")]
    behind = db.execute_sql("SELECT count(*) FROM journal WHERE type = 'z_close' AND seq > ?",
                            (anchor.seq,)).fetchone()[0]
    if behind > 1:
        return [("anchor", z[0] if z else anchor.seq, f"the anchor file records Z close "
                 f"{anchor.z_number} (entry {anchor.seq}), {behind} Z closes behind the journal: "
                 "it was replaced by an older copy, or writing it failed")]
    return []


def record(db: peewee.SqliteDatabase, key: PrivateKey, store: str, terminal: str,
           seq: int, hash_hex: str, z_number: int) -> None:
    """Writes the anchor for a committed Z close (call after its commit)."""
    path = path_for(db)
    if path is not None:
        write(path, key, Anchor(store, terminal, seq, hash_hex, z_number))


def renew(db: peewee.SqliteDatabase, key: PrivateKey, store: str, terminal: str) -> bool:
    """Brings the anchor up to the journal's last Z close when it is behind or absent; call
    only when the start-up check found nothing unacknowledged. True when it was written."""
    path, z = path_for(db), last_z(db)
    if path is None or z is None:
        return False
    try:
        current = read(path, key.public_key())
    except AnchorError:
        current = None
    if current is not None and (current.seq, current.hash) == (z[0], z[1]):
        return False
    try:
        record(db, key, store, terminal, *z)
    except OSError as exc:
        log.error("the anchor file %s could not be written: %s", path, exc)
        return False
    log.warning("anchor file %s brought up to Z close %d (entry %d)", path, z[2], z[0])
    return True


def check_printed_qr(db: peewee.SqliteDatabase, store: str, terminal: str,
                     code: str) -> Finding | None:
    """A printed Z's QR code (KASSA1|store|terminal|seq|short hash) against the journal: the
    Z must be there, with that hash. None when it matches."""
    try:
        code_store, code_terminal, seq, short = parse_qr_payload(code)
    except ValueError:
        return ("qr", 0, f"{code!r} is not a Kassa receipt code (KASSA1|store|terminal|seq|hash)")
    short = short.lower()
    if (code_store, code_terminal) != (store, terminal):
        return ("qr", seq, f"the printed code {code!r} is of terminal {code_store}/"
                f"{code_terminal}, not {store}/{terminal}")
    row = db.execute_sql("SELECT type, hash FROM journal WHERE seq = ?", (seq,)).fetchone()
    if row is None:
        return ("truncated", seq, f"the printed Z code names entry {seq}, which the journal does "
                "not have: entries were removed (truncated)")
    if row[0] != "z_close" or not str(row[1]).startswith(short) or len(short) < 8:
        return ("qr", seq, f"entry {seq} is not the Z close printed with code {code!r}: the "
                "journal was rewritten or replaced")
    return None
