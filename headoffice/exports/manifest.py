"""The signed manifest of a journal export, and the completeness proof built on it.

The entries of a journal export prove themselves (hash chain, terminal signatures) but not
that none is missing at either end of a terminal's run, or that a whole terminal was not
left out. The manifest says, per terminal, what head office had received for the period:
the seq range, the entry count, the gaps head office itself still had, the Z closes with
the ranges their signed bodies cover, and the terminal's public key with its fingerprint;
plus the SHA-256 of the data file. Head office signs it with its own key
(headoffice/signing.py). It travels beside the data file (`<file>.manifest.json`) or with
it in one zip, so the check needs nothing but the export: no database, no registry.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from contract import chain
from headoffice import signing
from headoffice.exports import journal
from headoffice.exports.periods import Period
from headoffice.models import RegisteredTerminal, TerminalState

FORMAT = "kassa-journal-export"
VERSION = 1
SUFFIX = ".manifest.json"


@dataclass(frozen=True)
class JournalExport:
    """A data file and its signed manifest, as written or downloaded together."""

    name: str
    data: bytes
    manifest: bytes

    @property
    def manifest_name(self) -> str:
        return self.name + SUFFIX

    def zip_bytes(self) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(self.name, self.data)
            archive.writestr(self.manifest_name, self.manifest)
        return out.getvalue()


def spans(numbers: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted numbers as (first, last) runs: 1 2 3 7 -> (1, 3), (7, 7)."""
    runs: list[tuple[int, int]] = []
    for n in sorted(set(numbers)):
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


def spans_text(numbers: Iterable[int]) -> str:
    return ", ".join(f"{a}..{b}" if a != b else str(a) for a, b in spans(numbers))


def _z_summary(body: dict[str, Any]) -> dict[str, int]:
    data = body.get("data", {})
    return {"z_number": data.get("z_number"), "seq": body["seq"],
            "first_seq": data.get("first_seq"), "last_seq": data.get("last_seq")}


def build_export(period: Period, fmt: str, store: str | None = None,
                 key: Ed25519PrivateKey | None = None, name: str | None = None) -> JournalExport:
    """The period's journal (CSV or JSON lines) and its manifest signed with the office key.
    Reads the head-office database: call headoffice.db.open_office_db first."""
    key = key or signing.office_key()
    name = name or f"journal-{store or 'all'}-{period.label}.{fmt}".replace("..", "_")
    out = io.StringIO()
    writer = None
    if fmt == "csv":
        writer = csv.DictWriter(out, journal.COLUMNS, lineterminator="\n")
        writer.writeheader()
    terminals = []
    total = 0
    for window in journal.export_windows(period, store):
        seqs: list[int] = []
        zs = []
        for row in journal.window_rows(window, store):
            if writer is not None:
                writer.writerow(row)
            else:
                out.write(journal.json_line(row))
            seqs.append(row["seq"])
            if row["type"] == "z_close":
                zs.append(_z_summary(json.loads(row["body"])))
        total += len(seqs)
        registered = RegisteredTerminal.get_or_none(RegisteredTerminal.terminal_id == window.terminal)
        state = TerminalState.get_or_none(TerminalState.terminal == window.terminal)
        have = set(seqs)
        gaps = [seq for seq in range(window.first_seq, window.last_seq + 1) if seq not in have]
        public = registered.public_key if registered else None
        terminals.append({
            "store": window.store, "terminal": window.terminal,
            "first_seq": window.first_seq, "last_seq": window.last_seq, "entries": len(seqs),
            "not_received": [list(run) for run in spans(gaps)],
            "received_seq": state.contiguous_seq if state else 0,
            "z": zs, "z_numbers": [z["z_number"] for z in zs],
            "public_key": public, "fingerprint": signing.fingerprint(public) if public else None,
            "key_status": registered.status if registered else "not enrolled",
        })
    data = out.getvalue().encode()
    office_public = signing.raw_public(key).hex()
    manifest = {
        "format": FORMAT, "version": VERSION,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "period": {"label": period.label, "first": period.first, "last": period.last},
        "store": store,
        "data": {"name": name, "format": fmt, "sha256": hashlib.sha256(data).hexdigest(),
                 "bytes": len(data), "entries": total},
        "terminals": terminals,
        "office_key": {"public_key": office_public,
                       "fingerprint": signing.fingerprint(office_public)},
    }
    signature = chain.sign(key, chain.canonical(manifest)).hex()
    document = {"manifest": manifest, "signature": signature,
                "signed": "Ed25519 by office_key over the canonical JSON of manifest "
                          "(sorted keys, separators ',' ':', UTF-8)"}
    text = json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    return JournalExport(name, data, text.encode())


@dataclass(frozen=True)
class LoadedExport:
    data: bytes
    name: str
    manifest: dict[str, Any] | None
    manifest_name: str


def load_export(path: str | Path, manifest_path: str | Path | None = None) -> LoadedExport:
    """The data file and its manifest: from a zip holding both, or a data file with
    `<file>.manifest.json` beside it (or at `manifest_path`)."""
    path = Path(path)
    manifest_text: bytes | None = None
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            data_names = [n for n in names if not n.endswith(SUFFIX)]
            if len(data_names) != 1:
                raise journal.ExportFormatError(f"{path}: expected one data file in the zip, "
                                                f"found {data_names}")
            name = data_names[0]
            data = archive.read(name)
            manifest_name = name + SUFFIX
            if manifest_name in names:
                manifest_text = archive.read(manifest_name)
    else:
        data, name = path.read_bytes(), path.name
        beside = Path(manifest_path) if manifest_path else path.with_name(path.name + SUFFIX)
        manifest_name = str(beside)
        if beside.is_file():
            manifest_text = beside.read_bytes()
    manifest = None
    if manifest_text is not None:
        try:
            manifest = json.loads(manifest_text)
        except ValueError as exc:
            raise journal.ExportFormatError(f"{manifest_name}: not JSON: {exc}") from None
        if not isinstance(manifest, dict):
            raise journal.ExportFormatError(f"{manifest_name}: not a JSON object")
    return LoadedExport(data, name, manifest, manifest_name)


@dataclass
class KeyUsed:
    terminal: str
    public_key: str
    fingerprint: str
    source: str  # "manifest" or "given"


@dataclass
class Proof:
    """The outcome of verify_export: the chain check plus the completeness problems."""

    check: journal.ExportCheck
    office_fingerprint: str | None = None
    keys: list[KeyUsed] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.check.ok


def _pin_matches(pin: str, public_hex: str) -> bool:
    wanted = "".join(ch for ch in pin.lower() if ch in "0123456789abcdef")
    return wanted in (public_hex, signing.fingerprint(public_hex).replace(" ", ""))


def _key(text: Any) -> Ed25519PublicKey | None:
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(str(text)))
    except ValueError:
        return None


def verify_export(loaded: LoadedExport, given: dict[str, Ed25519PublicKey] | None = None,
                  office_pin: str | None = None) -> Proof:
    """Chain, signatures, columns and completeness of an export, from the export alone.
    `given` keys (optional) must agree with the manifest's; `office_pin` (the office key or
    its fingerprint, as head office gave it) pins the key that signed the manifest."""
    given = dict(given or {})
    problems: list[str] = []
    manifest, office_fp = _manifest_problems(loaded, office_pin, problems)
    terminals = {t["terminal"]: t for t in manifest["terminals"]} if manifest else {}
    keys: dict[str, Ed25519PublicKey] = {}
    used: list[KeyUsed] = []
    for terminal, entry in terminals.items():
        listed = _key(entry.get("public_key"))
        mine = given.get(terminal) or given.get("*")
        if mine is not None:
            mine_hex = signing.raw_public(mine).hex()
            if listed is not None and mine_hex != entry.get("public_key"):
                problems.append(f"terminal {terminal}: the public key given "
                                f"({signing.fingerprint(mine_hex)}) is not the one in head "
                                f"office's manifest ({entry.get('fingerprint')})")
            keys[terminal] = mine
            used.append(KeyUsed(terminal, mine_hex, signing.fingerprint(mine_hex), "given"))
        elif listed is not None:
            keys[terminal] = listed
            used.append(KeyUsed(terminal, entry["public_key"],
                                signing.fingerprint(entry["public_key"]), "manifest"))
    for name, value in given.items():
        keys.setdefault(name, value)
    text = loaded.data.decode("utf-8")
    rows = list(journal.parse_rows(io.StringIO(text, newline=""), loaded.name))
    check = journal.verify_rows(rows, keys)
    check.problems = problems + check.problems
    check.problems += z_problems(check)
    if manifest:
        check.problems += completeness_problems(manifest, terminals, check, loaded.data)
    return Proof(check, office_fp, used)


def _manifest_problems(loaded: LoadedExport, office_pin: str | None,
                       problems: list[str]) -> tuple[dict[str, Any] | None, str | None]:
    document = loaded.manifest
    if document is None:
        problems.append(f"no manifest ({loaded.manifest_name} not found): nothing proves that "
                        "the export is complete")
        return None, None
    manifest = document.get("manifest")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        problems.append(f"{loaded.manifest_name}: not a {FORMAT} manifest")
        return None, None
    shape = _shape_problem(manifest)
    if shape:
        problems.append(f"{loaded.manifest_name}: {shape}")
        return None, None
    office_hex = str(manifest["office_key"].get("public_key", ""))
    office = _key(office_hex)
    if office is None:
        problems.append("manifest: office_key is not an Ed25519 public key")
        return manifest, None
    office_fp = signing.fingerprint(office_hex)
    try:
        signature = bytes.fromhex(str(document.get("signature", "")))
        signed = chain.canonical(manifest)
    except (ValueError, chain.CanonicalError):
        signature, signed = b"", b""
    if not signature or not chain.signature_ok(office, signed, signature):
        problems.append("manifest: head office's signature does not match (the manifest was "
                        "changed after signing, or signed by another key)")
    if office_pin and not _pin_matches(office_pin, office_hex):
        problems.append(f"manifest: signed by office key {office_fp}, not the one pinned")
    return manifest, office_fp


def _ints(item: Any, names: tuple[str, ...]) -> bool:
    return isinstance(item, dict) and all(type(item.get(n)) is int for n in names)


def _shape_problem(manifest: dict[str, Any]) -> str | None:
    """What makes a manifest unreadable (a hand-made or damaged one), or None."""
    if not isinstance(manifest.get("office_key"), dict):
        return "office_key is missing"
    if not isinstance(manifest.get("data"), dict):
        return "data is missing"
    terminals = manifest.get("terminals")
    if not isinstance(terminals, list):
        return "terminals is not a list"
    for entry in terminals:
        if not _ints(entry, ("first_seq", "last_seq", "entries")) \
                or not isinstance(entry.get("terminal"), str):
            return f"terminal entry {entry!r:.80} lacks terminal, first_seq, last_seq or entries"
        if not isinstance(entry.get("z", []), list) or not all(
                _ints(z, ("z_number", "seq")) for z in entry.get("z", [])):
            return f"terminal {entry['terminal']}: a Z without z_number or seq"
        runs = entry.get("not_received", [])
        if not isinstance(runs, list) or not all(
                isinstance(r, list) and len(r) == 2 and all(type(n) is int for n in r)
                for r in runs):
            return f"terminal {entry['terminal']}: not_received is not a list of [first, last]"
    return None


def z_problems(check: journal.ExportCheck) -> list[str]:
    """What the signed z_close bodies say is missing: each Z covers first_seq..its seq - 1,
    the next Z starts right after it, and Z numbers follow each other."""
    out = []
    for terminal, bodies in sorted(check.zs.items()):
        present = set(check.seqs.get(terminal, []))
        previous: dict[str, int] | None = None
        for z in sorted((_z_summary(b) for b in bodies), key=lambda z: z["seq"]):
            number, seq, first, last = z["z_number"], z["seq"], z["first_seq"], z["last_seq"]
            label = f"terminal {terminal}: Z {number} (seq {seq})"
            if not all(type(v) is int for v in (number, first, last)):
                out.append(f"{label}: its body lacks z_number, first_seq or last_seq")
                continue
            if last != seq - 1:
                out.append(f"{label} says it covers up to seq {last}, not {seq - 1}")
            lost = [s for s in range(first, seq) if s not in present]
            if lost:
                out.append(f"{label} covers seq {first}..{seq - 1}; seq {spans_text(lost)} "
                           "of it missing from the export")
            if previous is not None:
                if number != previous["z_number"] + 1:
                    out.append(f"{label} follows Z {previous['z_number']}: Z "
                               f"{previous['z_number'] + 1}..{number - 1} missing")
                if first != previous["seq"] + 1:
                    out.append(f"{label} starts at seq {first}, Z {previous['z_number']} "
                               f"ended at seq {previous['seq']}")
            previous = z
    return out


def completeness_problems(manifest: dict[str, Any], terminals: dict[str, dict[str, Any]],
                          check: journal.ExportCheck, data: bytes) -> list[str]:
    """The file against what head office had received, terminal by terminal."""
    out = []
    facts = manifest.get("data", {})
    digest = hashlib.sha256(data).hexdigest()
    if digest != facts.get("sha256"):
        out.append(f"data file: SHA-256 {digest} is not the {facts.get('sha256')} head office "
                   "signed (the file was changed after the export)")
    if check.entries != facts.get("entries"):
        out.append(f"data file: holds {check.entries} entries, head office exported "
                   f"{facts.get('entries')}")
    for terminal, entry in sorted(terminals.items()):
        first, last = int(entry["first_seq"]), int(entry["last_seq"])
        listed = f"head office's manifest lists seq {first}..{last}"
        present = set(check.seqs.get(terminal, []))
        not_received = {s for a, b in entry.get("not_received", []) for s in range(a, b + 1)}
        if not_received:
            out.append(f"terminal {terminal}: seq {spans_text(not_received)} had not reached "
                       f"head office when it made the export ({listed})")
        expected = [s for s in range(first, last + 1) if s not in not_received]
        if not present:
            out.append(f"terminal {terminal}: missing entirely ({listed}, "
                       f"{entry.get('entries')} entries)")
            continue
        lost = [s for s in expected if s not in present]
        if lost:
            out.append(f"terminal {terminal}: seq {spans_text(lost)} missing ({listed})")
        extra = [s for s in present if not first <= s <= last]
        if extra:
            out.append(f"terminal {terminal}: seq {spans_text(extra)} not in head office's "
                       f"manifest ({listed})")
        found = {b["data"].get("z_number"): b["seq"] for b in check.zs.get(terminal, [])}
        for z in entry.get("z", []):
            if z["z_number"] not in found:
                out.append(f"terminal {terminal}: Z {z['z_number']} (seq {z['seq']}, covering "
                           f"seq {z['first_seq']}..{z['last_seq']}) missing from the export")
        listed_z = {z["z_number"] for z in entry.get("z", [])}
        for number, seq in sorted(found.items()):
            if number not in listed_z:
                out.append(f"terminal {terminal}: Z {number} (seq {seq}) not in head office's "
                           "manifest")
    for terminal in sorted(set(check.seqs) - set(terminals)):
        out.append(f"terminal {terminal}: in the data file but not in head office's manifest")
    return out
