"""Head office reads journal entries only through the contract: a body that does not fit its
entry type's schema is dead-lettered with the contract's reason, and the aggregates take
their figures from contract.figures and the typed z_close."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contract import chain, figures
from contract.wire import encode_journal, terminal_topic
from headoffice import aggregates, registry
from headoffice.aggregate_models import AggDay, AggVat
from headoffice.db import database_proxy, write_transaction
from headoffice.ingest import store
from headoffice.ingest.validate import Candidate, KeyCache, Refusal, check_message
from headoffice.models import DeadLetter, DeadLetterCount, OfficeEntry, TerminalState
from headoffice.received import read

STORE, TERMINAL = "s1", "t1"
TOPIC = terminal_topic(STORE, TERMINAL, "journal")
TS = "2026-11-27T10:00:00.000+01:00"


def _body(seq: int, kind: str, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"v": 2, "seq": seq, "type": kind, "ts": TS, "store": STORE, "terminal": TERMINAL,
            "cashier": "anna", "training": False, "data": data, **extra}


def _sale(seq: int, gross: int, tender: str = "card", **extra: Any) -> dict[str, Any]:
    vat = (gross * 9 + 54) // 109
    line = {"line_no": 1, "product_id": 7, "code": "08700000000070", "name": "Appel",
            "vat_code": "low", "rate_bp": 900, "unit_price": gross, "quantity": 1,
            "weight_g": None, "embedded_price": None, "original_unit_price": None,
            "discount": 0, "ticket_discount": 0, "removed": False, "stock_tracked": True,
            "override_by": None, "discount_by": None, "sku": "08700000000070",
            "amount": gross, "gross": gross, "stock_units": 1}
    data = {"lines": [line], "vat": [{"code": "low", "rate_bp": 900, "gross": gross, "vat": vat,
                                      "net": gross - vat}],
            "total": gross, "discount_total": 0, "ticket_discount": 0, "customer_id": None,
            "rounding": 0, "total_paid": gross,
            "tenders": [{"kind": tender, "amount": gross, "given": 0, "change": 0,
                         "reference": ""}], "change": 0}
    return _body(seq, "sale", data, **extra)


def _negated(body: dict[str, Any], seq: int, kind: str, **data: Any) -> dict[str, Any]:
    """A refund or paid void of `body`: every amount negated, as the till journals it."""
    src = body["data"]
    lines = [{**ln, "quantity": -ln["quantity"], "amount": -ln["amount"], "gross": -ln["gross"],
              "stock_units": -ln["stock_units"]} for ln in src["lines"]]
    vat = [{**v, "gross": -v["gross"], "vat": -v["vat"], "net": -v["net"]} for v in src["vat"]]
    tenders = [{**t, "amount": -t["amount"]} for t in src["tenders"]]
    return _body(seq, kind, {**src, "lines": lines, "vat": vat, "tenders": tenders,
                             "total": -src["total"], "total_paid": -src["total_paid"], **data},
                 ref_seq=body["seq"])


def _z_close(seq: int, float_cents: int, counted: int) -> dict[str, Any]:
    counters = {"p:float.count": 1, "p:float.amount": float_cents}
    data = figures.close_figures(counters, seq - 1, {"by_denomination": [], "total": counted},
                                 "boss")
    return _body(seq, "z_close", data)


def _signed(bodies: list[dict[str, Any]], key: Ed25519PrivateKey) -> list[bytes]:
    out, prev = [], chain.GENESIS
    for body in bodies:
        text = chain.canonical(body)
        digest = chain.entry_hash(prev, text)
        out.append(encode_journal(text.decode(), digest.hex(), key.sign(digest).hex(),
                                  prev.hex()))
        prev = digest
    return out


def _ingest(payloads: list[bytes], first_seq: int = 1) -> store.BatchResult:
    keys = KeyCache()
    candidates, rejected = [], []
    for seq, payload in enumerate(payloads, first_seq):
        outcome = check_message(TOPIC, payload, str(seq), keys)
        if isinstance(outcome, Candidate):
            candidates.append((TOPIC, payload, outcome))
        else:
            rejected.append(store.Rejected(TOPIC, payload, outcome))
    return store.store_batch(database_proxy.obj, candidates, rejected, [])


def test_a_signed_body_that_does_not_fit_its_schema_is_dead_lettered(office_db_url):
    key = Ed25519PrivateKey.generate()
    registry.add_terminal(TERMINAL, STORE, key.public_key().public_bytes_raw().hex())
    bad_sale = _sale(3, 250)
    bad_sale["data"]["lines"][0]["quantity"] = "1"  # text where the contract wants a number
    bodies = [_sale(1, 250), _body(2, "no_sale", {"reason": "change"}), bad_sale,
              _body(4, "no_sale", {"note": "not in the schema"})]
    result = _ingest(_signed(bodies, key))  # never raises
    assert result.stored == 2 and result.rejected == 2
    assert [e.seq for e in OfficeEntry.select().order_by(OfficeEntry.seq)] == [1, 2]
    assert {r.reason: r.count for r in DeadLetterCount.select()} == {"schema": 2}
    details = {r.seq: r.detail for r in DeadLetter.select()}
    assert details[3] == "sale entry: data.lines[0].quantity: must be a whole number, not text"
    assert details[4] == "no_sale entry: data.note: is not part of the schema"
    assert TerminalState.get(TerminalState.terminal == TERMINAL).contiguous_seq == 2


def test_check_message_refuses_with_the_schema_errors_reason(office_db_url):
    key = Ed25519PrivateKey.generate()
    registry.add_terminal(TERMINAL, STORE, key.public_key().public_bytes_raw().hex())
    [payload] = _signed([_body(1, "no_sale", {"reason": 12})], key)
    outcome = check_message(TOPIC, payload, "1", KeyCache())
    assert outcome == Refusal("schema", "no_sale entry: data.reason: must be text, not a number",
                              TERMINAL, 1)


def test_aggregates_sum_with_contract_figures_and_read_the_typed_z_close(office_db_url):
    sale, voided, refunded = _sale(1, 1000, "cash"), _sale(2, 400), _sale(3, 250)
    bodies = [sale, voided, refunded,
              _negated(voided, 4, "void", scope="paid"),
              _negated(refunded, 5, "refund", approved_by="boss"),
              _body(6, "void", {"lines": [], "vat": [], "total": 90, "discount_total": 0,
                                "ticket_discount": 0, "scope": "open"}),
              _body(7, "no_sale", {"reason": "change"}),
              _sale(8, 5000, training=True),
              _z_close(9, 2000, 2250)]
    with write_transaction():
        aggregates.apply(aggregates.collect([read(b) for b in bodies]))
    day = AggDay.get()
    counters = figures.replay(b for b in bodies if b["type"] != "z_close")
    assert day.turnover == sum(figures.turnover_of(b) for b in bodies) == 1000
    assert day.turnover == (counters["p:sales.amount"] + counters["p:refunds.amount"]
                            + counters["p:voids.paid.amount"])
    assert (day.tickets, day.sales_gross) == (3, 1650)
    assert (day.refunds, day.voids, day.voided_open, day.no_sales) == (1, 1, 1, 1)
    assert (day.cash, day.card) == (1000, 0)
    assert day.items == 3
    # the Z's variance as the typed entry states it: counted 22.50 - expected 20.00
    assert day.cash_variance == 250
    assert [(v.code, v.gross) for v in AggVat.select()] == [("low", 1000)]


def test_downstream_outcomes_are_stored_and_leave_the_figures_alone(office_db_url):
    """The till journals what the uplink did with head office's messages; head office keeps
    those entries (the chain stays contiguous) and sums nothing from them."""
    key = Ed25519PrivateKey.generate()
    registry.add_terminal(TERMINAL, STORE, key.public_key().public_bytes_raw().hex())
    bodies = [_sale(1, 250),
              _body(2, "catalogue_applied", {"kind": "catalogue", "version": 4, "count": 2,
                                             "removed": 1, "detail": "catalogue v4 full",
                                             "received_at": TS}, cashier=None),
              _body(3, "downstream_refused", {"kind": "prices", "outcome": "refused",
                                              "version": None, "reason": "version: missing",
                                              "received_at": TS}, cashier=None)]
    result = _ingest(_signed(bodies, key))
    assert (result.stored, result.rejected) == (3, 0)
    assert TerminalState.get(TerminalState.terminal == TERMINAL).contiguous_seq == 3
    assert [e.type for e in OfficeEntry.select().order_by(OfficeEntry.seq)] == [
        "sale", "catalogue_applied", "downstream_refused"]
    day = AggDay.get()  # the ingest's own aggregation: the sale only
    assert (day.turnover, day.tickets, day.no_sales, day.items) == (250, 1, 0, 1)
