"""contract/entries.py: every entry the till writes fits its schema; bad bodies are named."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.assemble import build_till
from contract import entries
from contract.entries import ENTRY_TYPES, EntrySchemaError, parse_entry
from drivers.payment.adyen import AdyenTerminal
from drivers.payment.crypto import SharedKey
from drivers.payment.sim import SimTerminal
from firmware.db import open_database
from firmware.models import JournalEntry
from firmware.payment_errors import PaymentNotApproved
from firmware.permissions import Action
from firmware.runtime import journal_downstream
from firmware.sim import MANAGER_PIN, demo_card, ensure_demo_data, run_day
from firmware.till import TillService
from firmware.uplink.downstream import Downstream, Rejected
from tests.fixtures_till import make_config

ROOT = Path(__file__).resolve().parents[2]
# Types the schema reserves for events the till does not journal yet.
RESERVED = {"cash_count", "config_change", "software_update"}


def _bodies_of(db_path: Path) -> list[dict[str, Any]]:
    db = open_database(db_path, create=False)
    try:
        return [json.loads(row.body) for row in JournalEntry.select().order_by(JournalEntry.seq)]
    finally:
        db.close()


def test_every_entry_of_a_kassa_sim_day_parses(tmp_path: Path) -> None:
    config = tmp_path / "kassa.toml"
    config.write_text(f'[database]\npath = "{tmp_path / "k.sqlite3"}"\n'
                      f'[terminal]\nsigning_key = "{tmp_path / "key.pem"}"\n')
    sim = subprocess.run([sys.executable, "-m", "cli", "--config", str(config), "sim",
                          "--sales", "120", "--seed", "5"],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert sim.returncode == 0, sim.stderr
    bodies = _bodies_of(tmp_path / "k.sqlite3")
    kinds = set()
    for body in bodies:
        entry = parse_entry(body)
        assert isinstance(entry.data, entries.DATA_TYPES[body["type"]])
        assert (entry.seq, entry.type, entry.v) == (body["seq"], body["type"], entries.SCHEMA)
        kinds.add(entry.type)
    assert {"software_start", "login", "logout", "sale", "refund", "void", "no_sale"} <= kinds


@pytest.fixture(scope="module")
def every_kind(tmp_path_factory: pytest.TempPathFactory) -> TillService:
    """A till that has journaled one of every entry type it writes (shared: tests only read)."""
    till = build_till(make_config(tmp_path_factory.mktemp("every_kind")))
    ensure_demo_data(till, products=30, shop=True)
    ok = lambda action: till.approve(MANAGER_PIN, action)  # noqa: E731
    run_day(till, 40, seed=3, out=lambda line: None)
    till.login("1111")
    till.cash_movement("float", 10000, "", approval=ok(Action.CASH_IN_OUT))
    till.cash_movement("cash_in", 500, "bank", approval=ok(Action.CASH_IN_OUT))
    till.cash_movement("cash_out", 300, "window cleaner", approval=ok(Action.CASH_IN_OUT))
    till.attach_card(demo_card(till))
    line = till.add_plu("1", 2)
    till.add_favourite(line.line_no)
    other = till.add_plu("2")
    till.override_price(other.line_no, 99, approval=ok(Action.PRICE_OVERRIDE))
    till.discount_ticket(cents=5)
    sale = till.pay_cash(100000).entry
    till.reprint(sale.seq)
    till.add_plu("3")
    till.park("later")
    till.void_parked(till.parked()[0].id)
    till.add_plu("4")
    till.void_open_ticket()
    till.goods_received([("5", 10)], "Groothandel", "PO-1", approval=ok(Action.STOCK))
    till.stock_count([("5", 7)], "shelf", approval=ok(Action.STOCK))
    key = SharedKey("k", "passphrase", 1)
    terminal = SimTerminal(key, directory=tmp_path_factory.mktemp("terminal")).start()
    till.attach_terminal(AdyenTerminal(terminal.url, terminal.poiid, "t1", key=key,
                                       ca_file=str(terminal.cert_file)))
    till.add_plu("7")
    terminal.behave("decline")
    assert till.payments.pay().outcome == "declined"  # payment_started, payment_declined
    card_sale = till.payments.pay()  # a sale with the card's answer
    assert card_sale.outcome == "approved"
    terminal.behave_refund("decline")  # refund_started, refund_declined
    with pytest.raises(PaymentNotApproved):
        till.payments.refund(card_sale.committed.entry.seq, {1: 1}, ok(Action.REFUND))
    till.payments.refund(card_sale.committed.entry.seq, {1: 1}, ok(Action.REFUND))
    terminal.stop()
    till.set_training(True, approval=ok(Action.TRAINING))
    till.add_plu("6")
    till.pay_card(None, "T1")
    till.set_training(False, approval=ok(Action.TRAINING))
    till.x_report()
    till.journal_alarm, till.journal_alarm_codes = "test alarm.", [
        {"code": "totals", "bad_seq": 3, "text": "the totals disagree"}]
    till.acknowledge_journal_alarm(approval=ok(Action.ACK_JOURNAL_ALARM))
    till.z_close({5000: 1}, approval=ok(Action.Z_CLOSE))
    till.logout()
    downstream = Downstream(till.db)  # the uplink's code, on the till's file
    downstream.apply("config", b'{"version": 1, "toml": "[ui]\\nlanguage = \\"en\\"\\n"}')
    with pytest.raises(Rejected):
        downstream.apply("config", b'{"version": 2, "toml": "[terminal]\\n"}')
    assert journal_downstream(till) == 2
    yield till
    till.db.close()


def test_every_type_the_till_writes_parses(every_kind: TillService) -> None:
    kinds: dict[str, int] = {}
    scopes = set()
    for entry in every_kind.journal.entries():
        parsed = parse_entry(entry.body)
        assert type(parsed.data) is entries.DATA_TYPES[entry.type]
        kinds[entry.type] = kinds.get(entry.type, 0) + 1
        if entry.type == "void":
            scopes.add(parsed.data.scope)
    assert set(kinds) == ENTRY_TYPES - RESERVED, ENTRY_TYPES - RESERVED - set(kinds)
    assert scopes == {"open", "parked", "paid"}


def test_parsed_entries_are_typed_and_frozen(every_kind: TillService) -> None:
    sale = next(e for e in every_kind.journal.entries() if e.type == "sale")
    parsed = parse_entry(sale.body)
    assert isinstance(parsed.data.lines, tuple) and isinstance(parsed.data.lines[0],
                                                               entries.TicketLine)
    assert parsed.data.total == sale.body["data"]["total"]
    with pytest.raises(AttributeError):
        parsed.data.total = 1  # type: ignore[misc]
    z = next(e for e in every_kind.journal.entries() if e.type == "z_close")
    data = parse_entry(z.body).data
    assert isinstance(data, entries.ZCloseData)
    assert data.float_.amount == z.body["data"]["float"]["amount"]
    assert data.counted.by_denomination == ((5000, 1),)


def _sale(every_kind: TillService) -> dict[str, Any]:
    return next(e.body for e in every_kind.journal.entries() if e.type == "sale")


def _set(body: dict[str, Any], path: str | tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A copy of body with path ('data.lines.0.quantity', or a tuple of keys and indexes)
    set; value DELETE removes it."""
    out = copy.deepcopy(body)
    parts = tuple(path.split(".")) if isinstance(path, str) else path
    node: Any = out
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: Any = int(parts[-1]) if isinstance(node, list) else parts[-1]
    if value is DELETE:
        del node[key]
    else:
        node[key] = value
    return out


DELETE = object()
BAD = [
    # (path, value, field named, words of the reason)
    ("data.total", 12.5, "data.total", "whole number"),
    ("data.total", "1250", "data.total", "whole number"),
    ("data.lines.0.quantity", True, "data.lines[0].quantity", "whole number"),
    ("data.lines.0.quantity", 10_000, "data.lines[0].quantity", "within"),
    ("data.tenders", DELETE, "data.tenders", "required"),
    ("data.tenders.0.kind", "iou", "data.tenders[0].kind", "not one of"),
    ("data.colour", "red", "data.colour", "not part of the schema"),
    ("data.lines.0.name", "x" * 256, "data.lines[0].name", "characters"),
    ("data.vat.0.net", -1, "data.vat[0].gross", "net"),
    ("data.lines", {}, "data.lines", "list"),
    ("data", [], "data", "object"),
    ("cashier", "x" * 300, "cashier", "characters"),
    ("training", 0, "training", "true or false"),
    ("ts", "yesterday", "ts", "ISO 8601"),
    ("v", 99, "v", "schema version"),
    ("seq", 0, "seq", "within"),
    ("seq", 2**60, "seq", "within"),
    ("store", "", "store", "characters"),
    ("extra", 1, "extra", "not part of the schema"),
    ("data", DELETE, "data", "required"),
]


@pytest.mark.parametrize(("path", "value", "field", "reason"), BAD,
                         ids=[f"{p}={str(v)[:12]}" for p, v, _, _ in BAD])
def test_bad_sale_bodies_name_type_and_field(every_kind: TillService, path: str, value: Any,
                                             field: str, reason: str) -> None:
    body = _set(_sale(every_kind), path, value)
    with pytest.raises(EntrySchemaError) as caught:
        parse_entry(body)
    assert (caught.value.entry_type, caught.value.field) == ("sale", field)
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"sale entry: {field}: ")


def test_bad_envelopes_and_cross_checks(every_kind: TillService) -> None:
    bodies = {e.type: e.body for e in every_kind.journal.entries()}

    def error(body: Any) -> tuple[str, str]:
        with pytest.raises(EntrySchemaError) as caught:
            parse_entry(body)
        return caught.value.entry_type, caught.value.field

    assert error([1, 2]) == ("?", "body")
    assert error({**bodies["login"], "type": "teleport"}) == ("?", "type")
    refund = {k: v for k, v in bodies["refund"].items() if k != "ref_seq"}
    assert error(refund) == ("refund", "ref_seq")
    assert error(_set(bodies["void"], "data.scope", "later")) == ("void", "data.scope")
    assert error(_set(bodies["login"], "data.role", "owner")) == ("login", "data.role")
    assert error(_set(bodies["cash_out"], "data.amount", 0)) == ("cash_out", "data.amount")
    assert error(_set(bodies["z_close"], "data.voids_open", DELETE)) == (
        "z_close", "data.voids_open")
    assert error(_set(bodies["z_close"], "data.counted.by_denomination.0", [5000])) == (
        "z_close", "data.counted.by_denomination[0]")
    v1 = _set(bodies["x_report"], "v", 1)
    assert error(v1) == ("x_report", "data.voids")
    assert error(_set(bodies["stock_count"], "data.lines.0.counted", -1)) == (
        "stock_count", "data.lines[0].counted")


def test_lenient_mode_ignores_unknown_keys_only(every_kind: TillService) -> None:
    body = _set(_set(_sale(every_kind), "data.colour", "red"), "data.lines.0.shelf", 3)
    assert parse_entry(body, strict=False).data.total == body["data"]["total"]
    with pytest.raises(EntrySchemaError):
        parse_entry(_set(body, "data.total", 1.5), strict=False)


def test_the_journal_refuses_a_body_that_does_not_fit(every_kind: TillService) -> None:
    journal = every_kind.journal
    head = journal.head()
    with journal.transaction(), pytest.raises(EntrySchemaError) as caught:
        journal.append("cash_in", {"amount": -5, "reason": "oops"})
    assert (caught.value.entry_type, caught.value.field) == ("cash_in", "data.amount")
    assert journal.head() == head


def test_contract_imports_nothing_of_ours_nor_heavy_libraries() -> None:
    code = ("import sys, contract.entries, contract.figures; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('firmware', 'headoffice', 'ui',"
            " 'cli', 'drivers', 'provisioning', 'peewee', 'paho', 'kivy', 'gpiozero', 'evdev',"
            " 'escpos')]; print(bad); sys.exit(1 if bad else 0)")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


# --- fuzzing: a clear EntrySchemaError or an Entry, never anything else ----------------------
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
    | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20)


def _check(body: Any) -> None:
    """parse_entry gives an Entry or a named EntrySchemaError, and the writer's validate_body
    (which builds no objects) agrees with it."""
    try:
        entries.validate_body(body)
        valid = None
    except EntrySchemaError as exc:
        valid = (exc.entry_type, exc.field, exc.reason)
    try:
        result = parse_entry(body)
    except EntrySchemaError as exc:
        assert exc.entry_type and exc.field and exc.reason
        assert valid == (exc.entry_type, exc.field, exc.reason)
        return
    assert valid is None
    assert isinstance(result, entries.Entry)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_fuzz_any_json(value: Any) -> None:
    _check(value)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out += _paths(child, (*prefix, i))
    return out


@pytest.fixture(scope="module")
def samples(every_kind: TillService) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for entry in every_kind.journal.entries():
        seen.setdefault(entry.type, entry.body)
    return list(seen.values())


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_mutated_real_bodies(samples: list[dict[str, Any]], data: st.DataObject) -> None:
    body = data.draw(st.sampled_from(samples))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(body)))
        value = data.draw(st.just(DELETE) | JSON)
        body = _set(body, path, value)
    _check(body)
