"""The drawer's figures of every Z close, float, cash in and cash out, one narrow row each,
so the cash page over years reads a few columns instead of parsing every Z's signed body.

Written by ingest in the batch's transaction (headoffice/ingest/store.py) from the signed
bodies, with the same reading the page made of them (signs as contract.figures: cash_out
negative, variance negative when cash is missing; the shop's local day); training entries
are left out, as every figure leaves them out. headoffice.schema.create_all fills the table
once from the stored journal of a database that predates it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

import peewee

from headoffice import bulk
from headoffice.alerts.texts import LOCAL
from headoffice.orm import OfficeModel

MOVE_TYPES = ("float", "cash_in", "cash_out")
CASH_TYPES = ("z_close", *MOVE_TYPES)
SIGN = {"float": 1, "cash_in": 1, "cash_out": -1}
BACKFILL_CHUNK = 5000


class CashRecord(OfficeModel):
    """A Z's drawer (z_number .. variance) or a movement (amount signed, reason)."""

    store = peewee.CharField(max_length=64)
    terminal = peewee.CharField(max_length=64)
    seq = peewee.BigIntegerField()
    type = peewee.CharField(max_length=16)
    z = peewee.BooleanField()  # a Z close, not a movement
    ts = peewee.CharField(max_length=40)
    day = peewee.CharField(max_length=10)  # local date, YYYY-MM-DD
    cashier = peewee.CharField(max_length=200, default="")
    approved_by = peewee.CharField(max_length=200, default="")
    z_number = peewee.BigIntegerField(default=0)
    float_ = peewee.BigIntegerField(column_name="float", default=0)
    cash_in = peewee.BigIntegerField(default=0)
    cash_out = peewee.BigIntegerField(default=0)
    cash_tenders = peewee.BigIntegerField(default=0)
    expected = peewee.BigIntegerField(default=0)
    counted = peewee.BigIntegerField(default=0)
    variance = peewee.BigIntegerField(default=0)
    amount = peewee.BigIntegerField(default=0)
    reason = peewee.TextField(default="")

    class Meta:
        table_name = "cash_record"
        # the Zs, and the movements, in the page's order (ts, terminal, seq), all shops and
        # by shop: one index range each, no sort
        indexes = ((("terminal", "seq"), True), (("z", "ts", "terminal", "seq"), False),
                   (("store", "z", "ts", "terminal", "seq"), False))


CASH_MODELS: list[type[peewee.Model]] = [CashRecord]
COLUMNS = ("store", "terminal", "seq", "type", "z", "ts", "day", "cashier", "approved_by",
           "z_number", "float", "cash_in", "cash_out", "cash_tenders", "expected", "counted",
           "variance", "amount", "reason")


def local_day(ts: str) -> str:
    when = dt.datetime.fromisoformat(ts)
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).astimezone(LOCAL).date() \
        .isoformat()


def row_of(body: Mapping[str, Any]) -> tuple | None:
    """The row of one journal body; None for other types and training entries."""
    kind = body.get("type")
    if kind not in CASH_TYPES or body.get("training"):
        return None
    data: Mapping[str, Any] = body["data"]
    head = (body["store"], body["terminal"], body["seq"], kind, kind == "z_close", body["ts"],
            local_day(body["ts"]), body.get("cashier") or "", data.get("approved_by") or "")
    if kind == "z_close":
        cash = data["cash"]
        return (*head, data["z_number"], cash["float"], cash["cash_in"], cash["cash_out"],
                cash["cash_tenders"], cash["expected"], data["counted"]["total"],
                data["variance"], 0, "")
    return (*head, 0, 0, 0, 0, 0, 0, 0, 0, SIGN[kind] * data["amount"],
            data.get("reason") or "")


def record(bodies: Iterable[Mapping[str, Any]]) -> None:
    """Writes the rows of newly stored entries (inside the caller's transaction)."""
    rows = [row for row in map(row_of, bodies) if row is not None]
    bulk.run_values(f"INSERT INTO cash_record ({', '.join(COLUMNS)}) VALUES {{values}}", rows)


def fill_missing(db: peewee.Database) -> None:
    """The rows of every stored entry, once, when the table is empty and the journal holds
    cash entries (a database from before this table)."""
    from headoffice.models import OfficeEntry

    if CashRecord.select().exists() or not OfficeEntry.select().where(
            OfficeEntry.type.in_(CASH_TYPES)).exists():
        return
    query = (OfficeEntry.select(OfficeEntry.body).where(OfficeEntry.type.in_(CASH_TYPES))
             .order_by(OfficeEntry.terminal, OfficeEntry.seq).tuples())
    pending: list[dict[str, Any]] = []
    for (text,) in query.iterator():
        pending.append(json.loads(text))
        if len(pending) >= BACKFILL_CHUNK:
            record(pending)
            pending = []
    record(pending)
    db.execute_sql("ANALYZE cash_record")


def forget(terminal: str, seq: int) -> None:
    """Drops the row of an entry taken out of the journal again (a forked chain)."""
    CashRecord.delete().where(CashRecord.terminal == terminal, CashRecord.seq == seq).execute()
