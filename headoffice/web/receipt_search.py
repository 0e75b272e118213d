"""Finding one receipt in the journal head office stored: by its number, the QR code or footer
line printed on it, its amount, a time range, a card reference, a product or a customer card.

A card reference, customer, amount or product code is looked up in the search keys ingest
writes (headoffice.receipt_keys), newest first, and the receipts they name are read in pages;
a number, a time range or a product name narrows the journal itself by type, shop,
terminal, number and day (and a name by a LIKE over the signed JSON). Either way the exact
match is made on the signed body itself, so what is found is what the till journaled.
Training receipts are found too (they were printed), and marked.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import reduce
from typing import Any

from contract.receipt import parse_qr_payload
from headoffice import receipt_keys
from headoffice.alerts.texts import LOCAL
from headoffice.customers.service import CustomerError
from headoffice.customers.service import get as customer
from headoffice.models import OfficeEntry
from headoffice.receipt_keys import RECEIPT_TYPES, card_refs

LIMIT = 200
_NUMBER = re.compile(r"^(?:(?P<store>[\w-]+)/)?(?:(?P<terminal>[\w-]+)[-/])?(?P<seq>\d+)"
                     r"(?:\s+(?P<hash>[0-9a-f]{16}))?$")


class SearchError(ValueError):
    """A search field the search cannot read; names the field and what was typed."""

    def __init__(self, field: str, value: str, reason: str) -> None:
        super().__init__(f"{field}: {value!r} {reason}")
        self.field, self.value, self.reason = field, value, reason


@dataclass(frozen=True)
class Number:
    """A receipt's number as typed: a seq, `t1-12`, `s1/t1/12`, the footer line
    `s1/t1/12 <hash>` or the QR data `KASSA1|s1|t1|12|<hash>`; `hash` is the printed short hash."""

    seq: int
    terminal: str = ""
    store: str = ""
    hash: str = ""


@dataclass(frozen=True)
class Search:
    """What the form asked; empty fields do not narrow."""

    number: Number | None = None
    amount: int | None = None  # cents; a refund of the same amount is found too
    since: dt.datetime | None = None  # local (Europe/Amsterdam) times, inclusive
    until: dt.datetime | None = None
    card_ref: str = ""
    product: str = ""
    customer: str = ""

    @property
    def empty(self) -> bool:
        return self == Search()


@dataclass(frozen=True)
class Found:
    store: str
    terminal: str
    seq: int
    type: str
    ts: str
    cashier: str
    total: int
    tenders: str
    training: bool
    qr_matches: bool | None  # None: no printed hash was given


def parse_number(text: str) -> Number:
    text = text.strip()
    if text.upper().startswith("KASSA1|"):
        try:
            store, terminal, seq, short = parse_qr_payload(text)
        except ValueError:
            raise SearchError("bonnummer", text, "is geen leesbare QR-code van een bon") from None
        return Number(seq, terminal, store, short.lower())
    match = _NUMBER.match(text)
    if match is None:
        raise SearchError("bonnummer", text, "is geen bonnummer (12, t1-12, s1/t1/12 of de "
                                             "QR-code)")
    return Number(int(match["seq"]), match["terminal"] or "", match["store"] or "",
                  match["hash"] or "")


def parse_amount(text: str) -> int:
    """`12,34`, `€ 12,34`, `1.234,50`, `12.34` or `-5` -> cents."""
    cleaned = text.replace("€", "").replace("\xa0", "").replace(" ", "").strip()
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise SearchError("bedrag", text, "is geen bedrag (bijvoorbeeld 12,34)") from None
    if value != value.quantize(Decimal("0.01")):
        raise SearchError("bedrag", text, "heeft meer dan twee decimalen")
    return int(value * 100)


def parse_time(text: str, field: str) -> dt.datetime:
    """A `datetime-local` value (2026-03-10T09:30) or a date, as Amsterdam time."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise SearchError(field, text, "is geen tijdstip (JJJJ-MM-DDTUU:MM)") from None
    return when.replace(tzinfo=LOCAL) if when.tzinfo is None else when.astimezone(LOCAL)


def parse_search(q: dict[str, str]) -> Search:
    """The search of a form's fields (nummer, bedrag, van, tot, kaartref, product, klant)."""
    def get(name: str) -> str:
        return (q.get(name) or "").strip()
    until = None
    if get("tot"):
        until = parse_time(get("tot"), "tot")
        if len(get("tot")) == 10:  # a date alone: up to the end of that day
            until += dt.timedelta(days=1) - dt.timedelta(microseconds=1)
    search = Search(
        number=parse_number(get("nummer")) if get("nummer") else None,
        amount=parse_amount(get("bedrag")) if get("bedrag") else None,
        since=parse_time(get("van"), "van") if get("van") else None, until=until,
        card_ref=get("kaartref"), product=get("product"), customer=get("klant"))
    if search.since and search.until and search.until < search.since:
        raise SearchError("tot", get("tot"), "ligt voor 'van'")
    return search


def customer_id_of(card: str) -> str:
    """The pseudonym the journal knows a customer by, from their card number, e-mail or the
    pseudonym itself (a card head office does not know is looked for as it was typed)."""
    try:
        return customer(card).customer_id
    except CustomerError:
        return card


def _local(ts: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(ts)
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).astimezone(LOCAL)


def _product_matches(line: dict[str, Any], needle: str) -> bool:
    """A product code or SKU equal to what was typed, or (for text that is not a number) a
    name containing it."""
    if any(str(line.get(key) or "").lower() == needle for key in ("code", "sku")):
        return True
    return not needle.isdigit() and needle in str(line.get("name") or "").lower()


def matches(body: dict[str, Any], search: Search, customer_id: str = "") -> bool:
    """Whether a receipt's signed body fits every field of the search."""
    data = body.get("data", {})
    number = search.number
    if number and (body["seq"] != number.seq or number.terminal not in ("", body["terminal"])
                   or number.store not in ("", body["store"])):
        return False
    if search.amount is not None and abs(search.amount) not in {
            abs(data.get("total", 0)), abs(data.get("total_paid") or 0)}:
        return False
    if search.since or search.until:
        when = _local(body["ts"])
        if (search.since and when < search.since) or (search.until and when > search.until):
            return False
    if search.card_ref and not any(search.card_ref.lower() == ref.lower()
                                   for ref in card_refs(data)):
        return False
    if search.product:
        needle = search.product.lower()
        if not any(_product_matches(line, needle) for line in data.get("lines", ())
                   if not line.get("removed")):
            return False
    return not (search.customer and data.get("customer_id") != customer_id)


def _found(body: dict[str, Any], hash_hex: str, number: Number | None) -> Found:
    data = body["data"]
    qr = hash_hex.startswith(number.hash) if number and number.hash else None
    return Found(body["store"], body["terminal"], body["seq"], body["type"], body["ts"],
                 body.get("cashier") or "", data.get("total", 0),
                 ", ".join(t["kind"] for t in data.get("tenders", ())),
                 bool(body.get("training")), qr)


def _key(search: Search, customer_id: str) -> tuple[str, list[str]] | None:
    """The search key and its values that drive the search (the rarest first), or None when
    only the journal can answer (a number, or a time range alone)."""
    if search.number:
        return None  # a number names at most a receipt per terminal
    if search.card_ref:
        return "card", [search.card_ref.lower()[:200]]
    if search.customer:
        return "customer", [customer_id[:200]]
    if search.amount is not None:
        return "amount", [str(abs(search.amount))]
    if search.product:
        needle = search.product.lower()[:200]
        if needle.isdigit():  # a code: never part of a name
            return "product", [needle]
        return "product", sorted({needle, *receipt_keys.product_values(needle)})
    return None


def _window(search: Search) -> tuple[str | None, str | None]:
    """The stored ts bounds: the till's own ISO time, so a day either side covers any
    offset."""
    since = ((search.since.date() - dt.timedelta(days=1)).isoformat()
             if search.since else None)
    until = ((search.until.date() + dt.timedelta(days=2)).isoformat()
             if search.until else None)
    return since, until


def _find_keyed(key: tuple[str, list[str]], search: Search, customer_id: str,
                shops: frozenset[str] | None, store: str | None, limit: int) -> list[Found]:
    """The receipts the key names, newest first, matched on their signed bodies."""
    out: list[Found] = []
    since, until = _window(search)
    for text, hash_hex in receipt_keys.entries_newest_first(
            *key, since, until, ("body", "hash"), shops=shops, store=store):
        body = json.loads(text)
        if body.get("type") in RECEIPT_TYPES and matches(body, search, customer_id):
            out.append(_found(body, hash_hex, search.number))
            if len(out) >= limit:
                return out
    return out


def find(search: Search, shops: frozenset[str] | None = None, store: str | None = None,
         limit: int = LIMIT) -> list[Found]:
    """The receipts (sales, refunds, voids) of the shops one may see that fit `search`,
    newest first, at most `limit`."""
    if search.empty:
        return []
    customer_id = customer_id_of(search.customer) if search.customer else ""
    key = _key(search, customer_id)
    if key is not None:
        return _find_keyed(key, search, customer_id, shops, store, limit)
    query = (OfficeEntry.select(OfficeEntry.body, OfficeEntry.hash)
             .where(OfficeEntry.type.in_(RECEIPT_TYPES))
             .order_by(OfficeEntry.ts.desc(), OfficeEntry.terminal, OfficeEntry.seq.desc()))
    if shops is not None:
        query = query.where(OfficeEntry.store.in_(sorted(shops)))
    if store:
        query = query.where(OfficeEntry.store == store)
    number = search.number
    if number:
        query = query.where(OfficeEntry.seq == number.seq)
        if number.terminal:
            query = query.where(OfficeEntry.terminal == number.terminal)
        if number.store:
            query = query.where(OfficeEntry.store == number.store)
    since, until = _window(search)
    if since:
        query = query.where(OfficeEntry.ts >= since)
    if until:
        query = query.where(OfficeEntry.ts < until)
    for needle in (search.card_ref, customer_id, search.product):
        if needle:  # a case-insensitive LIKE: a superset, `matches` decides
            query = query.where(OfficeEntry.body.contains(json.dumps(needle)[1:-1]))
    if search.amount is not None:
        cents = abs(search.amount)
        query = query.where(reduce(operator.or_, [
            OfficeEntry.body.contains(f'"{key}":{sign}{cents}')
            for key in ("total", "total_paid") for sign in ("", "-")]))
    out: list[Found] = []
    for row in receipt_keys.pages(query):
        body = json.loads(row.body)
        if matches(body, search, customer_id):
            out.append(_found(body, row.hash, number))
            if len(out) >= limit:
                break
    return out
