"""A chain's three years of trading for the report benchmark, written straight into head
office's tables: the product master (categories, cost price history), the signed journal
entries (each till day a float, sales with card references and some customer cards, refunds,
paid voids, receipt copies, now and then cash in or out, and a Z close with the counted cash)
and the aggregates, receipt search keys and cash rows ingest fills from them.

Every entry is a contract-valid body, hashed and signed in a per-terminal chain exactly as a
till does (contract.chain); the aggregates are summed by headoffice.aggregates' own
collect/apply from the same bodies read through the contract (headoffice.received.read), so
the rows are those an ingest of the same messages writes (tests/office/test_bench_data.py
feeds a small sample through the real ingest and compares every table). Only the writing of
the journal rows is done in bulk (COPY on PostgreSQL, executemany on SQLite), to stay within
minutes for 1,000,000 sales.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from contract import chain, figures
from contract.keys import JournalKey, public_key_hex

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
RATES = {"high": 2100, "low": 900, "zero": 0}
CATEGORIES = ("Brood", "Zuivel", "Koffie", "Thee", "Frisdrank", "Bier", "Wijn", "Groente",
              "Fruit", "Vlees", "Kaas", "Snoep", "Chips", "Diepvries", "Schoonmaak",
              "Verzorging", "Baby", "Dier", "Tijdschrift", "Bloemen")
CASHIERS = ("Sanne", "Daan", "Emma", "Luuk", "Julia", "Milan", "Sophie", "Noah")
HOUR_WEIGHTS = {8: 2, 9: 4, 10: 6, 11: 8, 12: 10, 13: 9, 14: 7, 15: 7, 16: 9, 17: 10, 18: 7,
                19: 4, 20: 2}
WEEKDAY_WEIGHTS = (0.8, 0.85, 0.9, 1.0, 1.2, 1.5, 0.6)  # Monday .. Sunday


@dataclass(frozen=True)
class Plan:
    """What to generate: `sales` sales from `first` to `last` in `shops` shops."""

    sales: int = 1_000_000
    shops: int = 10
    first: dt.date = dt.date(2023, 12, 1)
    last: dt.date = dt.date(2026, 11, 30)
    products: int = 2000
    seed: int = 18
    refund_share: float = 0.02
    void_share: float = 0.005
    customer_share: float = 0.12
    copy_share: float = 0.005

    def terminals(self) -> list[tuple[str, str]]:
        """Two to four terminals per shop."""
        return [(f"winkel{s:02d}", f"winkel{s:02d}-kassa{t}")
                for s in range(1, self.shops + 1) for t in range(1, 2 + (s * 7) % 3 + 1)]


def ean13(base: int) -> str:
    digits = f"87{base:010d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


@dataclass(frozen=True)
class Product:
    number: int
    code: str  # EAN-13 as scanned and journaled
    name: str
    category: str
    vat_code: str
    price: int


def products(plan: Plan) -> list[Product]:
    rng = random.Random(plan.seed)
    out = []
    for n in range(1, plan.products + 1):
        category = CATEGORIES[n % len(CATEGORIES)]
        vat_code = "high" if category in ("Bier", "Wijn", "Schoonmaak", "Verzorging", "Dier",
                                          "Bloemen") else ("zero" if n % 97 == 0 else "low")
        out.append(Product(n, ean13(n), f"{category} {n}", category, vat_code,
                           rng.randint(45, 2500)))
    return out


def master_rows(plan: Plan, items: list[Product]) -> tuple[list[dict], list[dict]]:
    """The product master: the first 95% of the products (the rest is sold but unknown to
    it), of which 90% have a cost price history of one to four prices (the others none)."""
    rng = random.Random(plan.seed + 1)
    known = items[: len(items) * 95 // 100]
    updated = "2023-01-01T00:00:00+00:00"
    rows = [{"id": p.number, "sku": "0" + p.code, "gtin": "0" + p.code, "plu": None,
             "name": p.name, "category": p.category, "vat_code": p.vat_code, "unit": "piece",
             "age_limit": 18 if p.category in ("Bier", "Wijn") else 0, "content_amount": None,
             "content_unit": None, "deposit": None, "active": True, "updated": updated}
            for p in known]
    costs = []
    span = (plan.last - plan.first).days
    for p in known[: len(known) * 90 // 100]:
        moments = sorted({rng.randint(0, span) for _ in range(rng.randint(0, 3))})
        cost = p.price * rng.randint(40, 75) // 100
        starts = [dt.datetime(2020, 1, 1, tzinfo=dt.UTC)] + [
            dt.datetime.combine(plan.first + dt.timedelta(days=d), dt.time(rng.randint(0, 23)),
                                tzinfo=AMSTERDAM) for d in moments]
        for start in starts:
            costs.append({"product": p.number, "cost_cents": cost,
                          "valid_from": start.astimezone(dt.UTC).strftime(
                              "%Y-%m-%dT%H:%M:%S+00:00")})
            cost = max(1, cost + rng.randint(-cost // 10, cost // 8))
    return rows, costs


PROMOTIONS = [(f"actie-{n}", f"Actie {n}", 1 + n % 3) for n in range(1, 13)]


class Trader:
    """Builds the bodies of one terminal's journal in seq order."""

    def __init__(self, store: str, terminal: str, rng: random.Random, items: list[Product],
                 customer_share: float = 0.0):
        self.store, self.terminal, self.rng, self.items = store, terminal, rng, items
        self.customer_share = customer_share
        self.seq = 0
        self.counters: dict[str, int] = {}  # the till's running figures, for its Z close
        self.recent: list[dict[str, Any]] = []  # sales that may still be refunded or voided
        first = sum(store.encode())  # not hash(): that changes with each process
        self.cashiers = [CASHIERS[(first + i) % len(CASHIERS)] for i in range(4)]

    def _product(self) -> Product:
        # a few products sell much more than the rest
        return self.items[int(len(self.items) * self.rng.random() ** 2.2)]

    def _line(self, line_no: int, product: Product) -> dict[str, Any]:
        rng = self.rng
        quantity = 1 if rng.random() < 0.75 else rng.randint(2, 4)
        unit_price, original, override_by = product.price, None, None
        if rng.random() < 0.01:  # a price lowered at the till
            original, unit_price, override_by = unit_price, unit_price * 8 // 10, "Manager"
        amount = unit_price * quantity
        discount, discount_by = 0, None
        chance = rng.random()
        if chance < 0.03:
            discount = amount // 10
        elif chance < 0.04:
            discount, discount_by = amount // 5, f"offer:aanbod-{rng.randint(1, 5)}"
        return {"line_no": line_no, "product_id": product.number, "code": product.code,
                "name": product.name, "vat_code": product.vat_code,
                "rate_bp": RATES[product.vat_code], "unit_price": unit_price,
                "quantity": quantity, "weight_g": None, "embedded_price": None,
                "original_unit_price": original, "discount": discount,
                "discount_percent": None, "ticket_discount": 0, "promo_discount": 0,
                "removed": False, "stock_tracked": True, "override_by": override_by,
                "discount_by": discount_by, "sku": "0" + product.code, "age_limit": 0,
                "deposit_for": None, "amount": amount, "gross": amount - discount,
                "stock_units": quantity}

    def sale(self, ts: str) -> dict[str, Any]:
        rng = self.rng
        lines = [self._line(n, self._product()) for n in range(1, rng.choice((1, 1, 2, 2, 3, 3,
                                                                              4, 5)) + 1)]
        if len(lines) > 1 and rng.random() < 0.05:
            lines[-1]["removed"] = True  # scanned, then taken off the ticket
        active = [ln for ln in lines if not ln["removed"]]
        promotions = []
        if rng.random() < 0.08:
            ident, name, version = PROMOTIONS[rng.randrange(len(PROMOTIONS))]
            line = active[0]
            share = line["gross"] // 4
            line["promo_discount"], line["gross"] = share, line["gross"] - share
            promotions.append({"id": ident, "name": name, "version": version,
                               "discount": share,
                               "lines": [{"line_no": line["line_no"], "discount": share}]})
        ticket_discount = 0
        if rng.random() < 0.01:
            line = active[-1]
            ticket_discount = line["gross"] // 20
            line["ticket_discount"], line["gross"] = ticket_discount, line["gross"] - ticket_discount
        vat: dict[str, dict[str, Any]] = {}
        for line in active:
            row = vat.setdefault(line["vat_code"], {"code": line["vat_code"],
                                                    "rate_bp": line["rate_bp"], "gross": 0})
            row["gross"] += line["gross"]
        for row in vat.values():
            rate = row["rate_bp"]
            row["vat"] = (row["gross"] * rate * 2 + 10000 + rate) // (2 * (10000 + rate))
            row["net"] = row["gross"] - row["vat"]
        total = sum(line["gross"] for line in active)
        kind = rng.choices(("cash", "card", "voucher"), (40, 55, 5))[0]
        rounding = 0
        if kind == "cash":
            rounding = (0, -1, -2, 2, 1, 0, -1, -2, 2, 1)[total % 10]
        given = total + rounding if kind != "cash" else ((total + rounding + 499) // 500) * 500
        tender = {"kind": kind, "amount": total + rounding,
                  "given": given if kind == "cash" else 0,
                  "change": given - total - rounding if kind == "cash" else 0,
                  "reference": "" if kind != "card" else f"ref{self.seq + 1}"}
        data = {"lines": lines, "vat": list(vat.values()), "total": total,
                "discount_total": sum(ln["discount"] + ln["promo_discount"] +
                                      ln["ticket_discount"] for ln in active),
                "ticket_discount": ticket_discount,
                "customer_id": (f"klant-{rng.randint(1, 20000):05d}"
                                if rng.random() < self.customer_share else None),
                "rounding": rounding, "total_paid": total + rounding, "tenders": [tender],
                "change": tender["change"]}
        if promotions:
            data["promotions"] = promotions
        body = self._body("sale", ts, data)
        self.recent = (self.recent + [body])[-20:]
        return body

    def counter(self, ts: str, kind: str) -> dict[str, Any] | None:
        """A refund or paid void of a recent sale of this terminal: its lines negated."""
        if not self.recent:
            return None
        original = self.recent.pop(self.rng.randrange(len(self.recent)))
        data = json.loads(json.dumps(original["data"]))
        data["lines"] = [ln for ln in data["lines"] if not ln["removed"]]
        for line in data["lines"]:
            for key in ("quantity", "amount", "gross", "discount", "ticket_discount",
                        "promo_discount", "stock_units"):
                line[key] = -line[key]
        for row in data["vat"]:
            for key in ("gross", "vat", "net"):
                row[key] = -row[key]
        for promotion in data.get("promotions", ()):
            promotion["discount"] = -promotion["discount"]
            for share in promotion["lines"]:
                share["discount"] = -share["discount"]
        for key in ("total", "discount_total", "ticket_discount", "rounding", "total_paid"):
            data[key] = -data[key]
        for tender in data["tenders"]:
            tender.update({"amount": -tender["amount"], "given": 0, "change": 0})
        data["change"] = 0
        data["approved_by"] = "Manager"
        if kind == "void":
            data["scope"] = "paid"
        body = self._body(kind, ts, data)
        body["ref_seq"] = original["seq"]
        return body

    def copy(self, ts: str) -> dict[str, Any] | None:
        """A printed copy of the last sale."""
        if not self.recent:
            return None
        body = self._body("receipt_copy", ts, {"of_type": "sale"})
        body["ref_seq"] = self.recent[-1]["seq"]
        return body

    def cash(self, ts: str, kind: str, amount: int) -> dict[str, Any]:
        """A float, cash in or cash out."""
        reason = {"float": "wisselgeld", "cash_in": "wisselgeld van de bank",
                  "cash_out": "afroming naar de kluis"}[kind]
        return self._body(kind, ts, {"amount": amount, "reason": reason,
                                     "approved_by": None if kind == "float" else "Manager"})

    def close(self, ts: str) -> dict[str, Any]:
        """The day's Z: the figures since the last one, the drawer counted (mostly right, now
        and then short or over)."""
        rng = self.rng
        expected = figures.period_figures(self.counters, self.seq)["cash"]["expected"]
        off = rng.choice((0, 0, 0, 0, 0, 0, -5, -10, -50, -500, 10, 20, 100))
        total = max(0, expected + off)
        counted = {"by_denomination": [[1000, total // 1000], [1, total % 1000]],
                   "total": total}
        return self._body("z_close", ts, figures.close_figures(self.counters, self.seq,
                                                                counted, "Manager"))

    def _body(self, kind: str, ts: str, data: dict[str, Any]) -> dict[str, Any]:
        self.seq += 1
        body = {"v": chain.SCHEMA, "seq": self.seq, "type": kind, "ts": ts, "store": self.store,
                "terminal": self.terminal, "cashier": self.rng.choice(self.cashiers),
                "training": False, "data": data}
        figures.apply(self.counters, figures.changes(body))
        return body


def day_counts(plan: Plan) -> dict[dt.date, list[int]]:
    """Sales per day and terminal: weekday and a slow growth, summing to exactly plan.sales."""
    rng = random.Random(plan.seed + 2)
    terminals = plan.terminals()
    days = [plan.first + dt.timedelta(days=n) for n in range((plan.last - plan.first).days + 1)]
    weights = {day: [WEEKDAY_WEIGHTS[day.weekday()] * (1 + n / len(days) / 2) *
                     rng.uniform(0.7, 1.3) for _t in terminals]
               for n, day in enumerate(days)}
    whole = sum(sum(w) for w in weights.values())
    counts = {day: [int(plan.sales * x / whole) for x in w] for day, w in weights.items()}
    short = plan.sales - sum(sum(c) for c in counts.values())
    for n in range(short):
        counts[days[n % len(days)]][n % len(terminals)] += 1
    return counts


@dataclass
class Signed:
    """A journal entry as stored: its canonical text, hash, predecessor and signature."""

    body: dict[str, Any]
    text: str
    hash: str
    prev: str
    sig: str


class Chain:
    """One terminal's hash chain and key."""

    def __init__(self, seed: int) -> None:
        self.key = JournalKey(random.Random(seed).randbytes(32))
        self.prev = chain.GENESIS

    def public_hex(self) -> str:
        return public_key_hex(self.key)

    def sign(self, body: dict[str, Any]) -> Signed:
        text = chain.canonical(body)
        digest = chain.entry_hash(self.prev, text)
        signed = Signed(body, text.decode(), digest.hex(), self.prev.hex(),
                        chain.sign(self.key, digest).hex())
        self.prev = digest
        return signed


def _stamp(day: dt.date, minute: int, second: int) -> str:
    local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60, second),
                                tzinfo=AMSTERDAM)
    return local.isoformat(timespec="milliseconds")


def journal(plan: Plan, items: list[Product], chains: dict[str, Chain]
            ) -> Iterator[list[Signed]]:
    """Each day's signed entries of every terminal, in time order per terminal."""
    rng = random.Random(plan.seed + 3)
    terminals = plan.terminals()
    traders = {t: Trader(s, t, random.Random(f"{plan.seed}:{t}"), items, plan.customer_share)
               for s, t in terminals}
    hours = list(HOUR_WEIGHTS)
    hour_weights = list(HOUR_WEIGHTS.values())
    for day, counts in day_counts(plan).items():
        out = []
        for (_store, terminal), count in zip(terminals, counts, strict=True):
            trader, signer = traders[terminal], chains[terminal]
            if not count:
                continue
            picked = rng.choices(hours, hour_weights, k=count)
            moments = sorted(h * 60 + rng.randrange(60) for h in picked)
            out.append(signer.sign(trader.cash(_stamp(day, 7 * 60 + 45, 0), "float",
                                               rng.choice((10000, 15000, 20000)))))
            moved = {rng.randrange(count): "cash_out"} if rng.random() < 0.3 else {}
            if rng.random() < 0.05:
                moved[rng.randrange(count)] = "cash_in"
            for n, minute in enumerate(moments):
                ts = _stamp(day, minute, n % 60)
                out.append(signer.sign(trader.sale(ts)))
                later = _stamp(day, minute, min(59, n % 60 + 1))
                chance = rng.random()
                kind = "refund" if chance < plan.refund_share else (
                    "void" if chance < plan.refund_share + plan.void_share else "")
                if kind:
                    counter = trader.counter(later, kind)
                    if counter is not None:
                        out.append(signer.sign(counter))
                elif chance > 1 - plan.copy_share:
                    copy = trader.copy(later)
                    if copy is not None:
                        out.append(signer.sign(copy))
                if n in moved:
                    out.append(signer.sign(trader.cash(
                        later, moved[n], rng.choice((2500, 5000, 10000, 20000)))))
            out.append(signer.sign(trader.close(_stamp(day, 21 * 60 + 30, 0))))
        yield out


# -- writing --------------------------------------------------------------------------------

ENTRY_COLUMNS = ("terminal", "seq", "store", "type", "ts", "body", "hash", "prev", "sig",
                 "received")


def _entry_row(signed: Signed) -> tuple:
    body = signed.body
    return (body["terminal"], body["seq"], body["store"], body["type"], body["ts"],
            signed.text, signed.hash, signed.prev, signed.sig, body["ts"])


def write_rows(db: Any, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Rows in bulk: COPY on PostgreSQL, one executemany on SQLite."""
    from headoffice.db import is_postgres

    cursor = db.cursor()
    if is_postgres(db):
        buffer = io.StringIO()
        csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC).writerows(rows)  # "" stays ""
        buffer.seek(0)
        cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN"
                           " WITH (FORMAT csv)", buffer)
    else:
        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES"
                           f" ({', '.join('?' for _ in columns)})", rows)


def write_entries(db: Any, entries: list[Signed]) -> None:
    """The journal rows, and the receipt search keys and cash rows ingest writes with them
    (headoffice.receipt_keys, headoffice.cash_records: the same functions make the rows)."""
    from headoffice import cash_records, receipt_keys

    write_rows(db, "journal_entry", ENTRY_COLUMNS, [_entry_row(e) for e in entries])
    bodies = [e.body for e in entries]
    write_rows(db, "receipt_key", receipt_keys.COLUMNS, receipt_keys.rows_of(bodies))
    receipt_keys.record_names(bodies)
    write_rows(db, "cash_record", cash_records.COLUMNS,
               [row for row in map(cash_records.row_of, bodies) if row is not None])


def write_master(plan: Plan, items: list[Product]) -> None:
    from headoffice.catalogue.models import CostPrice, MasterProduct

    rows, costs = master_rows(plan, items)
    for start in range(0, len(rows), 500):
        MasterProduct.insert_many(rows[start:start + 500]).execute()
    for start in range(0, len(costs), 500):
        CostPrice.insert_many(costs[start:start + 500]).execute()


def register(plan: Plan, chains: dict[str, Chain]) -> None:
    from headoffice.models import RegisteredTerminal

    RegisteredTerminal.insert_many([
        {"terminal_id": t, "store": s, "public_key": chains[t].public_hex(), "status": "active",
         "enrolled": "2023-01-01T00:00:00+00:00"} for s, t in plan.terminals()]).execute()


def chains_of(plan: Plan) -> dict[str, Chain]:
    return {t: Chain(plan.seed * 1000 + n) for n, (_s, t)
            in enumerate(plan.terminals())}


def populate(dbs: list[Any], plan: Plan, progress: Callable[[str], None] = print
             ) -> dict[str, float]:
    """Writes the master, the journal and the aggregates of `plan` into each of the opened,
    empty head-office databases `dbs` (the entries are built and signed once), a month per
    transaction; returns seconds spent per part."""
    from headoffice import aggregates
    from headoffice.db import database_proxy, write_transaction
    from headoffice.received import read

    spent = {"build": 0.0, "read": 0.0, "write": 0.0}
    items = products(plan)
    chains = chains_of(plan)
    began = time.perf_counter()
    for db in dbs:
        database_proxy.initialize(db)
        with write_transaction(db):
            write_master(plan, items)
            register(plan, chains)
    spent["write"] += time.perf_counter() - began
    pending: list[Signed] = []
    sales = 0

    def flush() -> None:
        t0 = time.perf_counter()
        totals = aggregates.collect(read(e.body) for e in pending)
        t1 = time.perf_counter()
        for db in dbs:
            database_proxy.initialize(db)
            with write_transaction(db):
                write_entries(db, pending)
                aggregates.apply(totals)
        spent["read"] += t1 - t0
        spent["write"] += time.perf_counter() - t1

    t0 = time.perf_counter()
    month = ""
    for day_entries in journal(plan, items, chains):
        day = day_entries[0].body["ts"][:7] if day_entries else month
        if day != month and pending:
            spent["build"] += time.perf_counter() - t0
            flush()
            progress(f"  {month}: {sales:,} sales, {spent['build']:.0f} s building,"
                     f" {spent['read']:.0f} s aggregating, {spent['write']:.0f} s writing")
            pending = []
            t0 = time.perf_counter()
        month = day
        pending.extend(day_entries)
        sales += sum(1 for e in day_entries if e.body["type"] == "sale")
    spent["build"] += time.perf_counter() - t0
    if pending:
        flush()
    return spent
