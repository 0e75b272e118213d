"""Poison messages against the real path: the generated mTLS broker config, two ingest
workers of `kassa office ingest`, SQLite and PostgreSQL.

A terminal (t1, its own certificate, no signing key needed) sends messages that once
stalled head office: a seq beyond any integer column, a body nested too deeply to parse,
wrong types and a huge string, a status with out-of-range numbers. Two more stand for a
value the database refuses after every check passed: a trigger refuses one validly signed
entry, and another trigger refuses a message's dead letter itself (it must then be kept as
raw bytes). Later good entries of t1 and of t2 must still be stored, through a kill -9 of
a worker.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from provkit import enroll, init_fleet, run_cli
from test_prov_broker import Secured, Session, signed_payloads, terminal_session

from tests.fixtures_services import free_port
from tests.uplink.harness import kassa, office_entries, stop, wait_until

BIG = 10**20
REFUSED_ENTRY = 5  # t1's entry the database refuses (trigger)
MARK = "REFUSE-ME"  # a dead letter whose detail holds this is refused too (trigger)

SQLITE_TRIGGERS = [
    f"CREATE TRIGGER poison_entry BEFORE INSERT ON journal_entry WHEN NEW.terminal = 't1'"
    f" AND NEW.seq = {REFUSED_ENTRY} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
    "CREATE TRIGGER poison_letter BEFORE INSERT ON dead_letter WHEN NEW.reason <> 'unstorable'"
    f" AND NEW.detail LIKE '%{MARK}%' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
]
PG_TRIGGERS = [
    "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused by the"
    " test' USING ERRCODE = '22003'; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER poison_entry BEFORE INSERT ON journal_entry FOR EACH ROW WHEN"
    f" (NEW.terminal = 't1' AND NEW.seq = {REFUSED_ENTRY}) EXECUTE FUNCTION refuse()",
    "CREATE TRIGGER poison_letter BEFORE INSERT ON dead_letter FOR EACH ROW WHEN"
    f" (NEW.reason <> 'unstorable' AND NEW.detail LIKE '%%{MARK}%%') EXECUTE FUNCTION refuse()",
]


@pytest.fixture
def fleet(capsys, tmp_path, mosquitto, office_db_url) -> Secured:
    """The fleet's generated broker config on a real Mosquitto; office on either engine."""
    fleet_dir = init_fleet(capsys, tmp_path, "--office-db", office_db_url)
    for terminal in ("t1", "t2"):
        enroll(capsys, fleet_dir, "s1", terminal)
    ingest_port, out = free_port(), tmp_path / "broker"
    code, _, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet_dir), "broker-config",
                           "--out", str(out), "--data-dir", "{dir}", "--port", "1",
                           "--bind", "127.0.0.1", "--ingest-port", str(ingest_port),
                           "--ingest-bind", "127.0.0.1", "--run-as", _user())
    assert code == 0, err
    text = (out / "mosquitto.conf").read_text()
    broker = mosquitto(text.replace("listener 1 127.0.0.1\n", "listener {port} 127.0.0.1\n"))
    return Secured(fleet_dir, broker, broker.port, ingest_port, office_db_url, tmp_path)


def _user() -> str:
    import getpass

    return getpass.getuser()


def _triggers(url: str) -> None:
    from headoffice.db import open_office_db

    db = open_office_db(url)
    with db.atomic():
        for sql in (PG_TRIGGERS if url.startswith("postgres") else SQLITE_TRIGGERS):
            db.execute_sql(sql)


def _send(session: Session, topic: str, payload: bytes, seq: str | None) -> int:
    props = Properties(PacketTypes.PUBLISH)
    props.UserProperty = [("schema", "1")] + ([("seq", seq)] if seq is not None else [])
    info = session.client.publish(topic, payload, qos=1, properties=props)
    wait_until(lambda: info.mid in session.pubacks, 10, f"PUBACK for {topic}")
    return session.pubacks[info.mid]


def _journal(body: str) -> bytes:
    return json.dumps({"body": body, "hash": "a" * 64, "prev": "b" * 64,
                       "sig": "c" * 128}).encode()


def _body(**fields: object) -> str:
    base = {"v": 1, "type": "cash_in", "ts": "2026-12-03T10:00:00.000+01:00",
            "store": "s1", "terminal": "t1"}
    return json.dumps({**base, **fields})


def poison() -> list[tuple[str, bytes, str | None]]:
    """(leaf, payload, seq user property) of each poison message of t1."""
    return [
        ("journal", _journal(_body(seq=BIG)), str(BIG)),  # the issue's own
        ("journal", _journal('{"seq": ' + "[" * 60_000 + "]" * 60_000 + "}"), "1"),
        ("journal", _journal(_body(seq="7", type="x" * 150_000)), "7"),  # wrong type, huge
        ("journal", _journal(_body(seq=3)), MARK),  # its dead letter is refused: raw bytes
        ("status", json.dumps({"state": "online", "backlog": BIG, "acked": -BIG}).encode(),
         None),
        ("status", b'{"state": "online", "x": ' + b"[" * 60_000 + b"]" * 60_000 + b"}", None),
    ]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_poison_messages_never_hold_back_good_entries(fleet: Secured) -> None:
    _triggers(fleet.office_url)
    t1_good = signed_payloads(fleet.tmp / "t1", "s1", "t1",
                              fleet.bundle("t1") / "journal_ed25519.pem", 10)
    t2_good = signed_payloads(fleet.tmp / "t2", "s1", "t2",
                              fleet.bundle("t2") / "journal_ed25519.pem", 6)
    log = fleet.tmp / "ingest.log"
    with log.open("w") as err:
        ingest = kassa("office", "--db", fleet.office_url, "ingest", "--workers", "2",
                       "--mqtt-port", str(fleet.ingest_port),
                       "--ca", str(fleet.fleet / "ca" / "ca.crt"),
                       "--cert", str(fleet.fleet / "ingest" / "ingest.crt"),
                       "--key", str(fleet.fleet / "ingest" / "ingest.key"),
                       "--client-prefix", "ho", "-v", stderr=err)
    t1, t2 = terminal_session(fleet, "t1"), terminal_session(fleet, "t2")
    try:
        assert t1.accepted and t2.accepted
        wait_until(lambda: all(f"as ho-{i} " in fleet.broker.log() for i in (0, 1)), 30,
                   "both ingest workers")
        # connected is not yet subscribed: a message before the SUBACK has no subscriber
        wait_until(lambda: log.read_text().count("subscribed to the journal") >= 2, 30,
                   "both ingest workers subscribed")
        j1, j2 = "kassa/v1/s1/t1/journal", "kassa/v1/s1/t2/journal"
        for seq in (1, 2):
            assert _send(t1, j1, t1_good[seq - 1], str(seq)) == 0
            assert _send(t2, j2, t2_good[seq - 1], str(seq)) == 0
        for leaf, payload, seq in poison():
            assert _send(t1, f"kassa/v1/s1/t1/{leaf}", payload, seq) == 0
        victim = _children(ingest.pid)[0]
        os.kill(victim, signal.SIGKILL)  # poison may be in its hands, unacknowledged
        for seq in range(3, 11):  # t1's later entries, one of them refused by the database
            assert _send(t1, j1, t1_good[seq - 1], str(seq)) == 0
        for seq in range(3, 7):
            assert _send(t2, j2, t2_good[seq - 1], str(seq)) == 0
        wanted_t1 = [s for s in range(1, 11) if s != REFUSED_ENTRY]
        wait_until(lambda: [s for s, _ in office_entries("t1")] == wanted_t1, 60,
                   "t1's good entries stored around the refused one")
        wait_until(lambda: [s for s, _ in office_entries("t2")] == list(range(1, 7)), 60,
                   "t2's entries stored")
        wait_until(lambda: _letters().get("unstorable", 0) >= 2, 30,
                   "the refused entry and the refused dead letter kept as raw bytes")
        letters = _letters()
        assert letters.get("malformed", 0) >= 3, letters  # seq 10**20, nested, wrong types
        raw = _unstorable()  # the raw bytes, exactly as sent
        assert poison()[3][1] in raw and t1_good[REFUSED_ENTRY - 1] in raw
        assert victim not in _children(ingest.pid) and len(_children(ingest.pid)) == 2
        time.sleep(2.5)  # a stalled worker would log its retry every second
        before = log.read_text()
        time.sleep(2.5)
        assert "kept for retry" not in log.read_text()[len(before):]
        state = _t1_state()  # the poison status: what fits is taken, the numbers are not
        assert state is not None and state.online
        assert state.backlog is None and state.till_acked is None
    finally:
        t1.close()
        t2.close()
        stop(ingest)


def _letters() -> dict[str, int]:
    from headoffice.models import DeadLetterCount

    return {r.reason: r.count for r in DeadLetterCount.select()}


def _unstorable() -> list[bytes]:
    from headoffice.models import DeadLetter

    return [bytes(r.payload) for r in DeadLetter.select().where(DeadLetter.reason == "unstorable")]


def _t1_state():  # noqa: ANN202 - a TerminalState or None
    from headoffice.models import TerminalState

    return TerminalState.get_or_none(TerminalState.terminal == "t1")
