"""Publishing a store's catalogue to its tills: a full message or a delta, versioned.

Each store has one version counter for its `catalogue` and `prices` messages (contract/
downstream.py): +1 per publish. A full message lists every product the store sells now,
with every planned price; a delta lists what changed since the version before it (`base`)
and the codes no longer sold. The retained topic holds only the newest message, so a delta
helps only a till that holds its base: `mode="auto"` sends a delta only when every active
terminal of the store has reported that version in its status, else a full catalogue.

Everything leaves through headoffice.downstream_send.send_downstream (sealed, retained);
the version and what was sent are stored in the same transaction, committed only after the
broker took the message, so a failed publish changes nothing here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import peewee

from contract.downstream import parse_catalogue
from headoffice.broker import Publish
from headoffice.catalogue.models import (
    CatalogueState,
    DepositType,
    MasterBarcode,
    MasterProduct,
    PublishedItem,
    StoreProduct,
)
from headoffice.catalogue.pricing import schedule, timelines
from headoffice.catalogue.times import now_utc, sent, stored
from headoffice.downstream_send import send_downstream
from headoffice.models import RegisteredTerminal, TerminalState
from headoffice.orm import write_transaction

SEQUENCE = "catalogue"
MODES = ("auto", "full", "delta")


@dataclass(frozen=True)
class Item:
    product: int
    code: str
    row: dict[str, Any]
    scheduled: list[dict[str, Any]]
    digest: str


@dataclass(frozen=True)
class Published:
    store: str
    version: int
    mode: str  # full | delta | none (nothing changed)
    products: int
    removed: int
    unpriced: int  # products sold in the store without a price yet: not sent
    bytes: int


def stores() -> list[str]:
    """The stores with an active terminal."""
    return sorted({s for (s,) in RegisteredTerminal.select(RegisteredTerminal.store).where(
        RegisteredTerminal.status == "active").distinct().tuples()})


def items(store: str, now: dt.datetime) -> tuple[dict[int, Item], int]:
    """What the store's tills should hold at `now`: product id -> Item; and how many
    products the store sells have no price."""
    deposits = {d.code: d for d in DepositType.select()}
    extra: dict[int, list[str]] = {}
    for code, product in MasterBarcode.select(MasterBarcode.gtin, MasterBarcode.product).order_by(
            MasterBarcode.gtin).tuples():
        extra.setdefault(product, []).append(code)
    local = {p: a for p, a in StoreProduct.select(StoreProduct.product, StoreProduct.active)
             .where(StoreProduct.store == store).tuples()}
    prices = timelines(store)
    out: dict[int, Item] = {}
    unpriced = 0
    for p in MasterProduct.select().order_by(MasterProduct.id):
        if not local.get(p.id, p.active):
            continue
        current, planned = schedule(*prices.get(p.id, ([], [])), now)
        if current is None:
            unpriced += 1
            continue
        row: dict[str, Any] = {"name": p.name, "price_cents": current, "vat_code": p.vat_code,
                               "category": p.category, "unit": p.unit}
        if p.gtin:
            row["gtin"] = p.gtin
        if p.plu:
            row["plu"] = p.plu
        if extra.get(p.id):
            row["barcodes"] = extra[p.id]
        if p.age_limit:
            row["age_limit"] = p.age_limit
        if p.deposit and p.deposit in deposits:
            d = deposits[p.deposit]
            row["deposit"] = {"code": d.code, "amount_cents": d.amount_cents,
                              "vat_code": d.vat_code}
        code = p.gtin or p.plu
        later = [{"code": code, "price_cents": price, "valid_from": sent(moment)}
                 for moment, price in planned]
        digest = hashlib.sha256(json.dumps([row, later], sort_keys=True).encode()).hexdigest()
        out[p.id] = Item(p.id, code, row, later, digest[:32])
    return out, unpriced


def tills_hold(store: str, version: int) -> bool:
    """True when every active terminal of the store reported catalogue `version` applied."""
    terminals = [t for (t,) in RegisteredTerminal.select(RegisteredTerminal.terminal_id).where(
        RegisteredTerminal.store == store, RegisteredTerminal.status == "active").tuples()]
    if not terminals:
        return False
    states = {s.terminal: s.status for s in TerminalState.select().where(
        TerminalState.terminal.in_(terminals))}
    for terminal in terminals:
        try:
            versions = json.loads(states.get(terminal) or "{}").get("versions") or {}
        except ValueError:
            return False
        if versions.get("catalogue") != version:
            return False
    return True


def _remember(store: str, changed: list[Item], gone: list[int]) -> None:
    """What the store's tills hold now: the changed rows replaced, the gone ones dropped
    (a full catalogue lists unchanged rows too, but they are the same as held)."""
    for start in range(0, len(gone), 500):
        PublishedItem.delete().where(PublishedItem.store == store,
                                     PublishedItem.product.in_(gone[start:start + 500])).execute()
    rows = [{"store": store, "product": i.product, "code": i.code, "digest": i.digest}
            for i in changed]
    for start in range(0, len(rows), 500):
        PublishedItem.insert_many(rows[start:start + 500]).on_conflict(
            conflict_target=[PublishedItem.store, PublishedItem.product],
            update={PublishedItem.code: peewee.EXCLUDED.code,
                    PublishedItem.digest: peewee.EXCLUDED.digest}).execute()


def publish_store(send: Publish, store: str, mode: str = "auto",
                  now: dt.datetime | None = None, force: bool = False) -> Published:
    """Builds, checks and sends the store's next catalogue message (none when nothing
    changed since the last one and not `force`)."""
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    now = now or now_utc()
    with write_transaction():
        state = CatalogueState.locked(store, SEQUENCE)
        wanted, unpriced = items(store, now)
        held = {p: (code, digest) for p, code, digest in PublishedItem.select(
            PublishedItem.product, PublishedItem.code, PublishedItem.digest).where(
            PublishedItem.store == store).tuples()}
        if mode == "auto":
            mode = "delta" if state.version and tills_hold(store, state.version) else "full"
        if mode == "delta" and not state.version:
            mode = "full"
        changed = [i for p, i in wanted.items() if held.get(p, (None, None))[1] != i.digest]
        gone = [code for p, (code, _) in held.items() if p not in wanted]
        moved = [held[p][0] for p, i in wanted.items() if p in held and held[p][0] != i.code
                 and held[p][0] not in (i.row.get("gtin"), i.row.get("plu"))]
        if not changed and not gone and not moved and not force:
            return Published(store, state.version, "none", 0, 0, unpriced, 0)
        version = state.version + 1
        body: dict[str, Any] = {"version": version, "mode": mode}
        if mode == "full":
            listed, removed = list(wanted.values()), []
        else:
            listed, removed = changed, sorted(set(gone + moved))
            body["base"] = state.version
            body["remove"] = removed
        body["products"] = [i.row for i in listed]
        body["scheduled"] = [s for i in listed for s in i.scheduled]
        parse_catalogue(json.loads(json.dumps(body)))  # the till's own check, before it leaves
        _remember(store, changed, [p for p in held if p not in wanted])
        CatalogueState.update(
            version=version, published=stored(now),
            full_version=version if mode == "full" else state.full_version).where(
            CatalogueState.id == state.id).execute()
        payload = send_downstream(send, "catalogue", store, body)
    return Published(store, version, mode, len(listed), len(removed), unpriced, len(payload))
