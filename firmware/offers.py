"""Personal offers at the till: the retained `offers` message, discounts, redemptions.

Head office publishes one retained message per store on `kassa/v1/{store}/offers`:

  {"version": 12, "store": "shopA",
   "customers": [{"id": "c-…", "card": "2990000000017", "name": "Eva", "language": "nl"}],
   "offers": [{"id": "of-…", "customer": "c-…", "sku": "08712345678906", "title": "…",
               "kind": "percent"|"cents", "value": 20, "max_units": 1, "uses": 1,
               "valid_from": "2025-01-01", "valid_until": "2025-01-31",
               "redeemed": {"till1": 0, "till2": 1}}]}

It is a full snapshot: the uplink replaces the till's customers and offers with it in one
transaction (so an erased customer disappears from every till), only when its version is
newer than the applied one. The till applies a customer's offers as line discounts
(`discount_by` = "offer:<id>") in its pricing step (OfferRule, firmware/pricing.py) after
every edit of the ticket, and journals one
`offer_redemption` entry per redeemed offer in the same transaction as the sale.

Over-redemption rule ("count and report", docs/customers.md): a till allows a redemption
while  sum(other tills' redemptions as head office confirmed them) + max(this till's
confirmed count, this till's own local count)  <  uses.  Tills that are offline at the
same time cannot see each other's redemptions, so each can grant the last use once; head
office reports every offer redeemed more often than allowed (`kassa offers report`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import peewee

from contract.gtin import VariableLayout
from contract.money import percent_of
from contract.product_key import DEFAULT_LAYOUTS, sku_for_code
from contract.shop_time import shop_today
from firmware import signup
from firmware.db import truncate_wal
from firmware.journal import Entry
from firmware.kernel import TillKernel
from firmware.models import LocalCustomer, LocalOffer, LocalOfferUse
from firmware.ticket import Line, Ticket

OFFERS_VERSION = "offers_version"
OFFER_PREFIX = "offer:"
KINDS = ("percent", "cents")


class OfferMessageError(ValueError):
    """An offers message that cannot be applied; nothing of it was stored."""


@dataclass(frozen=True)
class OfferInfo:
    offer_id: str
    customer_id: str
    sku: str
    title: str
    kind: str
    value: int
    max_units: int
    uses: int
    valid_from: str
    valid_until: str
    redeemed: dict[str, int]

    def used(self, terminal: str, local_uses: int) -> int:
        """Redemptions that count against `uses`, as this terminal can know them."""
        others = sum(n for t, n in self.redeemed.items() if t != terminal)
        return others + max(self.redeemed.get(terminal, 0), local_uses)

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day.isoformat() <= self.valid_until

    def discount_for(self, line: Line) -> int:
        """The discount this offer gives on a line (never more than the line amount)."""
        if line.weight_g is not None or line.embedded_price is not None:
            base = line.amount  # goods by weight or with a printed price: one "unit" is the line
        else:
            base = line.unit_price * min(line.quantity, self.max_units)
        if self.kind == "percent":
            cents = percent_of(base, self.value * 100)
        else:
            units = 1 if line.weight_g is not None or line.embedded_price is not None else min(
                line.quantity, self.max_units)
            cents = self.value * units
        return max(0, min(cents, base, line.amount))


# --- the downstream message (called by the uplink, firmware/uplink/downstream.py) ----------------
def _text(item: dict[str, Any], key: str, where: str, max_len: int = 200,
          required: bool = True) -> str:
    value = item.get(key, None if required else "")
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > max_len:
        raise OfferMessageError(f"{where}: {key!r} is missing, not a string or too long")
    return value.strip()


def _count(item: dict[str, Any], key: str, where: str, minimum: int, maximum: int) -> int:
    value = item.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        raise OfferMessageError(f"{where}: {key!r} is not an integer {minimum}..{maximum}")
    return value


def _date(item: dict[str, Any], key: str, where: str) -> str:
    text = _text(item, key, where, 10)
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        raise OfferMessageError(f"{where}: {key!r} {text!r} is not a date YYYY-MM-DD") from None
    return text


def parse_message(data: dict[str, Any]) -> tuple[int, list[dict], list[dict]]:
    """Checks a whole offers message; returns (version, customer rows, offer rows)."""
    version = _count(data, "version", "offers", 1, 2**62)
    where = f"offers v{version}"
    customers_in, offers_in = data.get("customers", []), data.get("offers", [])
    if not isinstance(customers_in, list) or not isinstance(offers_in, list):
        raise OfferMessageError(f"{where}: 'customers' and 'offers' must be lists")
    customers, cards, ids = [], set(), set()
    for i, item in enumerate(customers_in):
        at = f"{where} customers[{i}]"
        if not isinstance(item, dict):
            raise OfferMessageError(f"{at}: not an object")
        row = {"customer_id": _text(item, "id", at, 40), "card": _text(item, "card", at, 20),
               "name": _text(item, "name", at, 200, required=False),
               "language": _text(item, "language", at, 5, required=False) or "nl"}
        if row["card"] in cards or row["customer_id"] in ids:
            raise OfferMessageError(f"{at}: card or id listed twice")
        cards.add(row["card"])
        ids.add(row["customer_id"])
        row["name_folded"] = row["name"].casefold()
        customers.append(row)
    offers, offer_ids = [], set()
    for i, item in enumerate(offers_in):
        at = f"{where} offers[{i}]"
        if not isinstance(item, dict):
            raise OfferMessageError(f"{at}: not an object")
        kind = item.get("kind")
        if kind not in KINDS:
            raise OfferMessageError(f"{at}: kind {kind!r} is not one of {', '.join(KINDS)}")
        sku = sku_for_code(_text(item, "sku", at, 20))
        if sku is None:
            raise OfferMessageError(f"{at}: sku {item.get('sku')!r} names no product")
        redeemed = item.get("redeemed", {})
        if not isinstance(redeemed, dict) or not all(
                isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0
                for k, v in redeemed.items()):
            raise OfferMessageError(f"{at}: 'redeemed' is not {{terminal: count}}")
        row = {
            "offer_id": _text(item, "id", at, 40), "customer_id": _text(item, "customer", at, 40),
            "sku": sku, "title": _text(item, "title", at, 200, required=False), "kind": kind,
            "value": _count(item, "value", at, 1, 100 if kind == "percent" else 10**7),
            "max_units": _count(item, "max_units", at, 1, 9999),
            "uses": _count(item, "uses", at, 1, 10**6),
            "valid_from": _date(item, "valid_from", at),
            "valid_until": _date(item, "valid_until", at),
            "redeemed": json.dumps(redeemed, sort_keys=True),
        }
        if row["offer_id"] in offer_ids:
            raise OfferMessageError(f"{at}: offer id listed twice")
        if row["customer_id"] not in ids:
            raise OfferMessageError(f"{at}: customer {row['customer_id']} is not in the message")
        if row["valid_until"] < row["valid_from"]:
            raise OfferMessageError(f"{at}: valid_until is before valid_from")
        offer_ids.add(row["offer_id"])
        offers.append(row)
    return version, customers, offers


def parse_forget(data: dict[str, Any]) -> list[dict[str, str]]:
    """The message's `forget` list (erased addresses as salted digests, contract/signup.py)."""
    items = data.get("forget", [])
    if not isinstance(items, list) or not all(
            isinstance(i, dict) and _hex(i.get("salt"), 32) and _hex(i.get("digest"), 64)
            for i in items):
        raise OfferMessageError("offers: 'forget' is not a list of {salt, digest} in hex")
    return [{"salt": i["salt"], "digest": i["digest"]} for i in items]


def _hex(value: object, length: int) -> bool:
    return (isinstance(value, str) and len(value) == length
            and all(c in "0123456789abcdef" for c in value))


def apply_message(db: peewee.Database, data: dict[str, Any],
                  applied_version: Callable[[str], int],
                  set_version: Callable[[str, int], None]) -> tuple[bool, int, str]:
    """Replaces customers and offers in one transaction when the version is newer.

    Returns (applied, version, detail); raises OfferMessageError and stores nothing."""
    version, customers, offers = parse_message(data)
    forget_list = parse_forget(data)
    outermost = not db.in_transaction()
    if outermost:
        db.execute_sql("PRAGMA secure_delete=ON")  # an erased customer's bytes are zeroed
    with db.atomic("IMMEDIATE") if outermost else db.atomic():
        current = applied_version(OFFERS_VERSION)
        if version <= current:
            return False, current, f"offers v{version} already applied"
        kept = {c["customer_id"] for c in customers}
        gone = LocalCustomer.select().where(LocalCustomer.customer_id.not_in(kept or [""])).count()
        LocalOffer.delete().execute()
        LocalCustomer.delete().execute()
        for start in range(0, len(customers), 500):
            LocalCustomer.insert_many(customers[start:start + 500]).execute()
        for start in range(0, len(offers), 500):
            LocalOffer.insert_many(offers[start:start + 500]).execute()
        # sign-ups of erased addresses still waiting in this till's outbox go with it
        erased_signups = signup.delete_rows(db, signup.forgotten(db, forget_list))
        set_version(OFFERS_VERSION, version)
    if (gone or erased_signups) and outermost:
        # a customer left (erased at head office): their name must not linger in the WAL
        truncate_wal(db)
    return True, version, f"offers v{version}: {len(customers)} customers, {len(offers)} offers"


# --- at the till -------------------------------------------------------------------------------
def _info(row: LocalOffer) -> OfferInfo:
    return OfferInfo(row.offer_id, row.customer_id, row.sku, row.title, row.kind, row.value,
                     row.max_units, row.uses, row.valid_from, row.valid_until,
                     json.loads(row.redeemed or "{}"))


def local_uses(offer_id: str) -> int:
    return LocalOfferUse.select().where(LocalOfferUse.offer_id == offer_id).count()


def available_offers(db: peewee.Database, customer_id: str, terminal: str,
                     today: dt.date | None = None) -> list[OfferInfo]:
    """The customer's offers that are valid today and not used up, as this till knows it."""
    today = today or shop_today()
    rows = LocalOffer.select().where(LocalOffer.customer_id == customer_id).order_by(
        LocalOffer.offer_id)
    result = []
    for row in rows:
        info = _info(row)
        if info.valid_on(today) and info.used(terminal, local_uses(info.offer_id)) < info.uses:
            result.append(info)
    return result


class OfferRule:
    """The pricing rule of personal offers (firmware/pricing.py): the attached customer's
    offers become line discounts (discount_by "offer:<id>"), one line per offer; lines with a
    cashier's discount keep it, and a detached customer's offer discounts are taken off."""

    name = "offers"

    def __init__(self, db: peewee.Database, terminal: str,
                 layouts: tuple[VariableLayout, ...] = ()) -> None:
        self.db, self.terminal = db, terminal
        self.layouts = layouts or DEFAULT_LAYOUTS

    def active(self, ticket: Ticket) -> bool:
        return not ticket.tenders and (ticket.customer_id is not None
                                       or bool(ticket.rule_lines(OFFER_PREFIX)))

    def discounts(self, ticket: Ticket) -> dict[int, tuple[int, str]]:
        """{line_no: (cents, "offer:<id>")} for the ticket as it stands.

        Overlapping offers (two campaigns for the same product) never stack: each line takes
        at most one offer and each offer at most one line, and the largest discounts are
        given first, so the customer gets the best one (50% before 20%, whatever the ids);
        equal discounts go to the offer whose id sorts first, so the choice is stable."""
        if ticket.customer_id is None:
            return {}
        free = [line for line in ticket.active_lines
                if not line.discount or (line.discount_by or "").startswith(OFFER_PREFIX)]
        candidates = []
        for offer in available_offers(self.db, ticket.customer_id, self.terminal):
            for line in free:
                if (line.sku or sku_for_code(line.code, self.layouts)) != offer.sku:
                    continue
                cents = offer.discount_for(line)
                if cents > 0:
                    candidates.append((-cents, offer.offer_id, line.line_no))
        result: dict[int, tuple[int, str]] = {}
        used: set[str] = set()
        for minus_cents, offer_id, line_no in sorted(candidates):
            if line_no in result or offer_id in used:
                continue
            result[line_no] = (-minus_cents, OFFER_PREFIX + offer_id)
            used.add(offer_id)
        return result

    def apply(self, ticket: Ticket) -> None:
        ticket.set_rule_discounts(OFFER_PREFIX, self.discounts(ticket))


def record_redemptions(kernel: TillKernel, sale: Entry) -> list[Entry]:
    """Journals one offer_redemption per offer discount on the sale; call inside the sale's
    transaction (firmware/sales.py) so both commit together."""
    if sale.body.get("training"):
        return []
    data = sale.body["data"]
    customer = data.get("customer_id")
    entries = []
    for line in data["lines"]:
        by = line.get("discount_by") or ""
        if line.get("removed") or not by.startswith(OFFER_PREFIX) or not line.get("discount"):
            continue
        offer_id = by[len(OFFER_PREFIX):]
        entry = kernel.commit("offer_redemption", {
            "offer_id": offer_id, "customer_id": customer, "line_no": line["line_no"],
            "sku": line.get("sku") or sku_for_code(line["code"]), "discount": line["discount"],
            "sale_seq": sale.seq,
        }, cashier=sale.body.get("cashier"), ref_seq=sale.seq)
        LocalOfferUse.insert(seq=entry.seq, offer_id=offer_id).execute()
        entries.append(entry)
    return entries
