"""Downstream messages at the till, fuzzed: Downstream.apply (catalogue, prices, config,
offers, promotions) applies a message whole or refuses it with Rejected, never another exception, and a
refused message leaves the catalogue, the remote config and the offers as they were."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from firmware.db import open_database
from firmware.promotion_rule import stored
from firmware.uplink.downstream import (
    IGNORED_COUNT,
    REFUSED_COUNT,
    Downstream,
    Outcome,
    Rejected,
)
from tests.fuzz.budget import DEEP, INTS, JSON, TEXT, budget, deep

# what a message may change; a refusal changes none of it (it is counted and recorded apart)
STATE_TABLES = ("product", "stock_level", "meta", "local_customer", "local_offer")
BIGINT = 2**63 - 1
GTINS = ["8712345678906", "08712345678906", "4006381333931", "96385074", "8712345678900"]
VERSIONS = st.integers(1, 40) | INTS
FLAGS = st.booleans() | JSON


@pytest.fixture(scope="module")
def down(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("downstream") / "kassa.sqlite3"
    db = open_database(path)
    db.execute_sql("PRAGMA synchronous = OFF")  # a scratch database: no fsync per example
    yield Downstream(db), path
    db.close()


def _state(path: Path) -> dict[str, list[str]]:
    """The tables a message may change, less the counters of refused and ignored messages."""
    with sqlite3.connect(path) as con:
        state = {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}"))) for t in STATE_TABLES}
        state["meta"] = sorted(map(repr, con.execute(
            "SELECT * FROM meta WHERE key NOT IN (?, ?)", (REFUSED_COUNT, IGNORED_COUNT))))
    return state


PRODUCT = st.fixed_dictionaries(
    {"name": TEXT, "price_cents": st.integers(0, 5000) | INTS,
     "vat_code": st.sampled_from(["high", "low", "zero", "exempt"]) | TEXT},
    optional={"gtin": st.sampled_from(GTINS) | TEXT | JSON, "plu": st.from_regex(r"[0-9]{1,6}",
                                                                                  fullmatch=True)
              | TEXT | INTS, "category": TEXT | JSON, "active": FLAGS, "favourite": FLAGS,
              "stock_tracked": FLAGS, "sold_by_weight": FLAGS, "colour": JSON})
CATALOGUE = st.fixed_dictionaries(
    {"version": VERSIONS, "mode": st.sampled_from(["full", "delta"]) | TEXT,
     "products": st.lists(PRODUCT, max_size=5) | JSON},
    optional={"base": VERSIONS, "remove": st.lists(st.sampled_from(GTINS) | TEXT, max_size=3)
              | JSON})
PRICES = st.fixed_dictionaries(
    {"version": VERSIONS, "base": VERSIONS,
     "prices": st.lists(st.fixed_dictionaries(
         {"price_cents": st.integers(0, 5000) | INTS},
         optional={"gtin": st.sampled_from(GTINS) | TEXT, "plu": TEXT | INTS}), max_size=4)
     | JSON})
CONFIG = st.fixed_dictionaries(
    {"version": VERSIONS,
     "toml": st.sampled_from(['[ui]\nlanguage = "en"\n', "[cash]\ndefault_float_cents = 1e30\n",
                              "[terminal]\nstore = \"x\"\n", "[cash]\ndefault_float_cents = "
                              + "9" * 40 + "\n"]) | TEXT | DEEP | JSON})
OFFERS = st.fixed_dictionaries(
    {"version": VERSIONS},
    optional={"customers": st.lists(st.dictionaries(
        st.sampled_from(["id", "card", "name", "language"]) | TEXT, TEXT | JSON), max_size=3)
        | JSON, "offers": st.lists(st.dictionaries(
            st.sampled_from(["id", "customer", "sku", "kind", "value", "max_units", "uses",
                             "valid_from", "valid_until", "redeemed", "title"]) | TEXT,
            TEXT | INTS | JSON), max_size=3) | JSON})
PROMOTION = st.fixed_dictionaries(
    {"id": st.from_regex(r"[a-z0-9-]{1,12}", fullmatch=True) | TEXT, "name": TEXT,
     "version": VERSIONS,
     "type": st.sampled_from(["n_for_price", "buy_get", "nth_percent", "percent"]) | TEXT},
    optional={key: st.integers(-2, 120) | INTS | JSON
              for key in ("n", "price_cents", "buy", "get", "percent")}
    | {"products": st.lists(st.sampled_from(GTINS + ["plu:1", "42"]) | TEXT, max_size=3) | JSON,
       "categories": st.lists(TEXT, max_size=2) | JSON,
       "valid_from": st.sampled_from(["2026-01-01", "2026-02-30"]) | TEXT | JSON,
       "valid_until": st.sampled_from(["2026-12-31", "2025-01-01"]) | TEXT,
       "time_from": st.sampled_from(["08:00", "24:00", "7:00"]) | TEXT,
       "time_until": st.sampled_from(["18:00", "00:00"]) | TEXT,
       "weekdays": st.lists(st.integers(-1, 8), max_size=8) | JSON,
       "stores": st.lists(TEXT, max_size=2) | JSON})
PROMOTIONS = st.fixed_dictionaries(
    {"version": VERSIONS, "promotions": st.lists(PROMOTION, max_size=3) | JSON})
MESSAGES = (st.tuples(st.just("catalogue"), CATALOGUE) | st.tuples(st.just("prices"), PRICES)
            | st.tuples(st.just("config"), CONFIG) | st.tuples(st.just("offers"), OFFERS)
            | st.tuples(st.just("promotions"), PROMOTIONS))


def _apply(down, kind: str, payload: bytes) -> None:
    downstream, path = down
    before = _state(path)
    try:
        outcome = downstream.apply(kind, payload)
    except Rejected:
        assert _state(path) == before  # nothing half-applied
        return
    assert isinstance(outcome, Outcome) and 0 <= outcome.version <= BIGINT
    if not outcome.applied:
        assert _state(path) == before
    with sqlite3.connect(path) as con:  # what was applied is what a sale can read back
        assert con.execute("SELECT count(*) FROM product WHERE price_cents < 0 OR price_cents"
                           " > ?", (BIGINT,)).fetchone() == (0,)
    if kind == "promotions" and outcome.applied:
        assert stored() is not None  # what the till prices with reads back whole


@budget(200)
@given(message=MESSAGES)
@example(message=("catalogue", {"version": 1, "mode": "full", "products": [
    {"gtin": GTINS[0], "name": "Cola", "price_cents": 9223372036854775808, "vat_code": "low"}]}))
@example(message=("catalogue", {"version": 9223372036854775000, "mode": "full",
                                "products": []}))
def test_messages(down, message: tuple[str, dict[str, Any]]) -> None:
    kind, data = message
    _apply(down, kind, json.dumps(data).encode())


@budget(100)
@given(kind=st.sampled_from(["catalogue", "prices", "config", "offers", "promotions"]),
       payload=st.binary(max_size=200) | JSON.map(lambda v: json.dumps(v).encode())
       | DEEP)
@example(kind="catalogue", payload=deep(100_000, 1))
@example(kind="prices", payload=b'{"version": 1e999}')
def test_raw_payloads(down, kind: str, payload: bytes | str) -> None:
    _apply(down, kind, payload.encode() if isinstance(payload, str) else payload)
