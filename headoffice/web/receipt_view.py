"""One receipt as head office shows it: printed by the till's own renderer (contract.receipt)
from the stored journal entry, its signature and chain re-checked against the terminal's
enrolled key, and the refunds, voids and copies journaled against it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from contract import chain
from contract.config import TerminalConfig
from contract.keys import public_key_from_hex
from contract.receipt import build_document, render_text
from headoffice import bulk
from headoffice.models import OfficeEntry, RegisteredTerminal
from headoffice.receipt_keys import RECEIPT_TYPES, ReceiptKey
from headoffice.signing import fingerprint


class NoReceipt(LookupError):
    """No receipt (sale, refund or void) with this terminal and number is stored."""

    def __init__(self, terminal: str, seq: int) -> None:
        super().__init__(f"terminal {terminal} has no receipt {seq}")
        self.terminal, self.seq = terminal, seq


@dataclass(frozen=True)
class Check:
    """The receipt's proof: `problems` empty means the signature, the hash and both links
    of the chain (to the entries before and after, where stored) hold."""

    key_fingerprint: str
    key_status: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Related:
    """An entry journaled against the receipt: a refund, a void or a printed copy."""

    seq: int
    type: str
    ts: str
    cashier: str
    total: int | None  # None for a copy


@dataclass(frozen=True)
class ReceiptView:
    store: str
    terminal: str
    seq: int
    type: str
    ts: str
    hash: str
    body: dict[str, Any]
    printed: str
    check: Check
    refunds: list[Related]
    copies: list[Related]


def header(store: str, terminal: str, company: dict[str, str]) -> TerminalConfig:
    """The receipt header from head office's company settings ([company] name, address,
    vat_number, commerce_nr): the till's header is the same legal identity, and it is not
    part of the signed entry."""
    return TerminalConfig(store=store, terminal=terminal, shop_name=company.get("name") or store,
                          address=company.get("address", ""),
                          vat_number=company.get("vat_number", ""),
                          kvk_number=company.get("commerce_nr", ""))


def check_entry(row: OfficeEntry) -> Check:
    """Re-checks a stored entry as ingest did: canonical body, hash over the previous hash,
    Ed25519 signature by the terminal's enrolled key, and the links to its neighbours."""
    registered = RegisteredTerminal.get_or_none(RegisteredTerminal.terminal_id == row.terminal)
    problems: list[str] = []
    notes: list[str] = []
    if registered is None:
        return Check("", "onbekend", [f"terminal {row.terminal} is not enrolled: no key to "
                                      "check the signature with"])
    try:
        prev = bytes.fromhex(row.prev)
    except ValueError:
        prev = b""
        problems.append("prev is not hex")
    problem = chain.check_entry(prev, row.body, row.hash, row.sig,
                                public_key_from_hex(registered.public_key), expected_seq=row.seq)
    if problem:
        problems.append(problem)
    body = json.loads(row.body)
    for name in ("store", "terminal", "type", "ts"):
        if getattr(row, name) != body.get(name):
            problems.append(f"column {name} says {getattr(row, name)!r}, the signed body "
                            f"{body.get(name)!r}")
    before = OfficeEntry.get_or_none(OfficeEntry.terminal == row.terminal,
                                     OfficeEntry.seq == row.seq - 1)
    if row.seq == 1:
        if row.prev != chain.GENESIS.hex():
            problems.append("the first entry does not start from the genesis hash")
    elif before is None:
        notes.append(f"entry {row.seq - 1} is not stored: the link before is not checked")
    elif before.hash != row.prev:
        problems.append(f"prev does not match the hash of entry {row.seq - 1}")
    after = OfficeEntry.get_or_none(OfficeEntry.terminal == row.terminal,
                                    OfficeEntry.seq == row.seq + 1)
    if after is None:
        notes.append(f"entry {row.seq + 1} is not stored yet: the link after is not checked")
    elif after.prev != row.hash:
        problems.append(f"entry {row.seq + 1} does not follow from this entry's hash")
    return Check(fingerprint(registered.public_key), registered.status, problems, notes)


def _related(terminal: str, seq: int) -> list[Related]:
    """The refunds, voids and copies whose ref_seq is this receipt (the `against` search
    keys name them), in seq order."""
    pairs = sorted(ReceiptKey.select(ReceiptKey.terminal, ReceiptKey.seq)
                   .where(ReceiptKey.kind == "against", ReceiptKey.value == f"{terminal}/{seq}")
                   .tuples())
    out = []
    for _seq, body_text in sorted(bulk.select_pairs(OfficeEntry._meta.table_name,
                                                    ("seq", "body"), pairs)):
        body = json.loads(body_text)
        if body.get("ref_seq") != seq or body["terminal"] != terminal or body["seq"] <= seq:
            continue
        total = None if body["type"] == "receipt_copy" else body["data"].get("total", 0)
        out.append(Related(body["seq"], body["type"], body["ts"], body.get("cashier") or "",
                           total))
    return out


def receipt(terminal: str, seq: int, company: dict[str, str], language: str = "nl",
            columns: int = 42, copy: bool = False) -> ReceiptView:
    """The receipt `seq` of `terminal`; NoReceipt when no sale, refund or void has it."""
    row = OfficeEntry.get_or_none(OfficeEntry.terminal == terminal, OfficeEntry.seq == seq)
    if row is None or row.type not in RECEIPT_TYPES:
        raise NoReceipt(terminal, seq)
    body = json.loads(row.body)
    document = build_document(body, row.hash, header(row.store, terminal, company),
                              columns=columns, language=language, copy=copy)
    related = _related(terminal, seq)
    return ReceiptView(row.store, terminal, seq, row.type, row.ts, row.hash, body,
                       render_text(document), check_entry(row),
                       [r for r in related if r.type != "receipt_copy"],
                       [r for r in related if r.type == "receipt_copy"])


def store_of(terminal: str, seq: int) -> str | None:
    row = (OfficeEntry.select(OfficeEntry.store)
           .where(OfficeEntry.terminal == terminal, OfficeEntry.seq == seq).first())
    return row.store if row else None
