"""Security of the generated broker configuration, against a real Mosquitto.

The broker runs the exact files `kassa provision broker-config` writes (only the listener
ports are swapped for free ones); terminals and head office use the certificates from
`init` and `enroll`, and head office is the real `kassa office ingest` on TLS.
"""

from __future__ import annotations

import datetime as dt
import getpass
import shutil
import signal
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from provkit import enroll, init_fleet, run_cli

from firmware.db import open_database
from firmware.journal import Journal
from firmware.signing import load_or_create_key
from firmware.uplink.outbox import Outbox
from provisioning import ca as x509ca
from provisioning.fleet import Fleet
from tests.fixtures_services import free_port
from tests.uplink.harness import (
    dead_letter_counts,
    kassa,
    make_till,
    office_entries,
    start_uplink,
    stop,
    verify_office_chain,
    wait_until,
)

NOT_AUTHORIZED = 0x87
NO_MATCHING_SUBSCRIBERS = 0x10  # PUBACK reason code: accepted, but nobody subscribed


@dataclass
class Secured:
    fleet: Path
    broker: object
    port: int  # terminal listener
    ingest_port: int  # head-office listener
    office_url: str
    tmp: Path

    def bundle(self, terminal: str) -> Path:
        return self.fleet / "bundles" / terminal

    def reload(self) -> None:
        """SIGHUP, as `systemctl reload mosquitto` sends: CRL and ACL files are read again."""
        self.broker.proc.send_signal(signal.SIGHUP)


@pytest.fixture
def secured(capsys, tmp_path, mosquitto) -> Secured:
    office = f"sqlite:///{tmp_path / 'office.sqlite3'}"
    fleet = init_fleet(capsys, tmp_path, "--office-db", office)
    for store, terminal in (("s1", "t1"), ("s1", "t2"), ("s2", "t3")):
        enroll(capsys, fleet, store, terminal)
    ingest_port = free_port()
    out = tmp_path / "broker"
    code, _, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "broker-config",
                           "--out", str(out), "--data-dir", "{dir}", "--port", "1",
                           "--bind", "127.0.0.1", "--ingest-port", str(ingest_port),
                           "--ingest-bind", "127.0.0.1", "--run-as", getpass.getuser())
    assert code == 0, err
    text = (out / "mosquitto.conf").read_text()
    assert "listener 1 127.0.0.1\n" in text
    broker = mosquitto(text.replace("listener 1 127.0.0.1\n", "listener {port} 127.0.0.1\n"))
    return Secured(fleet, broker, broker.port, ingest_port, office, tmp_path)


class Session:
    """A paho MQTT 5 client that records CONNACK, PUBACK reason codes and messages."""

    def __init__(self, port: int, ca: Path | None, cert: Path | None = None,
                 key: Path | None = None, client_id: str = "probe") -> None:
        self.connack: int | None = None
        self.error: str = ""
        self.pubacks: dict[int, int] = {}
        self.messages: list[tuple[str, bytes]] = []
        self.suback = threading.Event()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                        protocol=mqtt.MQTTv5)
        if ca is not None:
            c.tls_set(ca_certs=str(ca), certfile=str(cert) if cert else None,
                      keyfile=str(key) if key else None, cert_reqs=ssl.CERT_REQUIRED)
        c.on_connect = lambda _c, _u, _f, rc, _p: setattr(self, "connack", rc.value)
        c.on_publish = lambda _c, _u, mid, rc, _p: self.pubacks.__setitem__(mid, rc.value)
        c.on_message = lambda _c, _u, m: self.messages.append((m.topic, m.payload))
        c.on_subscribe = lambda *_a: self.suback.set()
        c.on_disconnect = lambda *_a: self.closed.set()
        c.on_log = self._log
        self.closed = threading.Event()
        self.client = c
        try:
            c.connect("127.0.0.1", port, keepalive=10)
        except (OSError, ssl.SSLError) as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            return
        c.loop_start()
        deadline = time.monotonic() + 5
        while self.connack is None and time.monotonic() < deadline and not self.closed.is_set():
            time.sleep(0.02)

    def _log(self, _c: object, _u: object, _level: int, text: str) -> None:
        if "failed to receive" in text or "SSL" in text:
            self.error = self.error or text

    @property
    def accepted(self) -> bool:
        return self.connack == 0 and not self.error

    def publish(self, topic: str, payload: bytes, seq: int = 1, retain: bool = False) -> int:
        props = Properties(PacketTypes.PUBLISH)
        props.UserProperty = [("seq", str(seq)), ("schema", "1")]
        info = self.client.publish(topic, payload, qos=1, retain=retain, properties=props)
        wait_until(lambda: info.mid in self.pubacks, 10, f"PUBACK for {topic}")
        return self.pubacks[info.mid]

    def subscribe(self, *topics: str) -> None:
        self.suback.clear()
        self.client.subscribe([(t, 1) for t in topics])
        assert self.suback.wait(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def terminal_session(s: Secured, terminal: str, port: int | None = None) -> Session:
    b = s.bundle(terminal)
    return Session(port or s.port, b / "ca.crt", b / "client.crt", b / "client.key",
                   client_id=f"probe-{terminal}")


def ingest_session(s: Secured, port: int | None = None) -> Session:
    return Session(port or s.ingest_port, s.fleet / "ca" / "ca.crt",
                   s.fleet / "ingest" / "ingest.crt", s.fleet / "ingest" / "ingest.key",
                   client_id="probe-ingest")


def signed_payloads(tmp: Path, store: str, terminal: str, key_file: Path, count: int
                    ) -> list[bytes]:
    """`count` journal entries signed with key_file, encoded as the uplink sends them."""
    tmp.mkdir(parents=True, exist_ok=True)
    db = open_database(tmp / "kassa.sqlite3")
    journal = Journal(db, load_or_create_key(key_file), store, terminal)
    with journal.transaction():
        for i in range(count):
            journal.append("cash_in", {"amount": 500 + i, "reason": "float"}, cashier="anna")
    payloads = [o.payload for o in Outbox(db).read(1, count)]
    db.close()
    return payloads


def start_ingest(s: Secured):  # noqa: ANN201 - a Popen
    return kassa("office", "--db", s.office_url, "ingest", "--workers", "1",
                 "--mqtt-port", str(s.ingest_port), "--ca", str(s.fleet / "ca" / "ca.crt"),
                 "--cert", str(s.fleet / "ingest" / "ingest.crt"),
                 "--key", str(s.fleet / "ingest" / "ingest.key"), "--client-prefix", "ho")


def _open_office(s: Secured) -> None:
    from headoffice.db import open_office_db

    open_office_db(s.office_url)


# -- who may connect ---------------------------------------------------------------------------

def test_enrolled_terminal_and_ingest_connect(secured: Secured) -> None:
    for session in (terminal_session(secured, "t1"), ingest_session(secured)):
        assert session.accepted, session.error or session.connack
        session.close()


def test_no_certificate_is_refused(secured: Secured) -> None:
    session = Session(secured.port, secured.fleet / "ca" / "ca.crt")
    assert not session.accepted
    assert session.connack is None and session.error  # refused in the TLS handshake
    session.close()
    plain = Session(secured.port, None)  # no TLS at all
    assert not plain.accepted
    assert plain.connack is None and plain.error
    plain.close()


def _identity(tmp: Path, name: str, key, cert) -> tuple[Path, Path]:  # noqa: ANN001
    (tmp / f"{name}.crt").write_bytes(x509ca.cert_pem(cert))
    (tmp / f"{name}.key").write_bytes(x509ca.key_pem(key))
    return tmp / f"{name}.crt", tmp / f"{name}.key"


def test_certificate_from_another_ca_is_refused(secured: Secured, tmp_path: Path) -> None:
    rogue = x509ca.create_ca("Kassa fleet CA")  # same name, different key
    key, cert = x509ca.issue(rogue, "t1", unit="store s1")
    session = Session(secured.port, secured.fleet / "ca" / "ca.crt",
                      *_identity(tmp_path, "rogue", key, cert))
    assert not session.accepted
    assert session.connack is None and session.error
    assert "certificate verify failed" in secured.broker.log()
    session.close()
    assert secured.broker.running


def test_expired_certificate_is_refused(secured: Secured, tmp_path: Path) -> None:
    with Fleet.locked(secured.fleet) as fleet:
        authority = fleet.load_ca()
    now = dt.datetime.now(dt.UTC)
    key, cert = x509ca.issue(authority, "t1", unit="store s1",
                             not_before=now - dt.timedelta(days=30),
                             not_after=now - dt.timedelta(days=1))
    session = Session(secured.port, secured.fleet / "ca" / "ca.crt",
                      *_identity(tmp_path, "old", key, cert))
    assert not session.accepted
    assert session.connack is None and session.error
    session.close()
    # the same key and name with current dates is accepted: the dates were the reason
    key, cert = x509ca.issue(authority, "t1", unit="store s1", key=key)
    renewed = Session(secured.port, secured.fleet / "ca" / "ca.crt",
                      *_identity(tmp_path, "new", key, cert))
    assert renewed.accepted
    renewed.close()


def test_identities_are_refused_on_the_other_listener(secured: Secured) -> None:
    """One CA per listener: each identity fails the TLS handshake on the other role's
    listener (before any client id is looked at: see test_prov_broker_takeover.py)."""
    t1 = terminal_session(secured, "t1", port=secured.ingest_port)
    assert not t1.accepted and t1.connack is None and t1.error
    t1.close()
    ho = ingest_session(secured, port=secured.port)
    assert not ho.accepted and ho.connack is None and ho.error
    ho.close()


# -- what a terminal may publish and read ------------------------------------------------------

def test_terminal_cannot_publish_for_another_and_nothing_is_stored(secured: Secured) -> None:
    _open_office(secured)
    ingest = start_ingest(secured)
    t1 = terminal_session(secured, "t1")
    try:
        forged = signed_payloads(secured.tmp / "t2-entries", "s1", "t2",
                                 secured.bundle("t2") / "journal_ed25519.pem", 1)
        own = signed_payloads(secured.tmp / "t1-entries", "s1", "t1",
                              secured.bundle("t1") / "journal_ed25519.pem", 1)
        assert t1.accepted
        # a perfectly signed t2 entry, but sent with t1's certificate: the broker refuses it
        assert t1.publish("kassa/v1/s1/t2/journal", forged[0]) == NOT_AUTHORIZED
        assert t1.publish("kassa/v1/s2/t3/status", b"online") == NOT_AUTHORIZED
        assert t1.publish("kassa/v1/s1/t1/ack", b"99") == NOT_AUTHORIZED  # acks come from HO
        assert t1.publish("kassa/v1/s1/catalogue", b"{}") == NOT_AUTHORIZED
        # t1's own entry goes through and is stored: the refused one was never delivered.
        # Until the ingest process has subscribed the broker answers 0x10 "no matching
        # subscribers" and drops the message, so publish again until it is delivered.
        codes: list[int] = []
        wait_until(lambda: codes.append(t1.publish("kassa/v1/s1/t1/journal", own[0])) or
                   codes[-1] != NO_MATCHING_SUBSCRIBERS, 20, "the ingest's subscription")
        assert codes[-1] == 0
        wait_until(lambda: len(office_entries("t1")) == 1, 20, "t1's entry at head office")
        assert office_entries("t2") == []
        assert dead_letter_counts() == {}
    finally:
        t1.close()
        stop(ingest)


def test_terminal_reads_only_its_own_and_its_stores_downstream(secured: Secured) -> None:
    t1 = terminal_session(secured, "t1")
    ho = ingest_session(secured)
    try:
        t1.subscribe("kassa/v1/#")
        for topic in ("kassa/v1/s1/t1/ack", "kassa/v1/s1/t2/ack", "kassa/v1/s1/t2/cmd",
                      "kassa/v1/s1/catalogue", "kassa/v1/s1/prices", "kassa/v1/s2/catalogue",
                      "kassa/v1/fleet/config", "kassa/v1/s1/t1/cmd"):
            assert ho.publish(topic, topic.encode()) == 0, topic
        wait_until(lambda: len(t1.messages) >= 5, 10, "t1's downstream messages")
        time.sleep(0.3)
        assert sorted(topic for topic, _ in t1.messages) == sorted([
            "kassa/v1/s1/t1/ack", "kassa/v1/s1/t1/cmd", "kassa/v1/s1/catalogue",
            "kassa/v1/s1/prices", "kassa/v1/fleet/config"])
        # and a terminal sees nobody's journal
        t2 = terminal_session(secured, "t2")
        t2.publish("kassa/v1/s1/t2/journal", b"{}")
        t2.close()
        time.sleep(0.3)
        assert not any(topic.endswith("/journal") for topic, _ in t1.messages)
    finally:
        t1.close()
        ho.close()


def test_ingest_shares_the_journal_subscription(secured: Secured) -> None:
    w1 = Session(secured.ingest_port, secured.fleet / "ca" / "ca.crt",
                 secured.fleet / "ingest" / "ingest.crt", secured.fleet / "ingest" / "ingest.key",
                 client_id="w1")
    w2 = Session(secured.ingest_port, secured.fleet / "ca" / "ca.crt",
                 secured.fleet / "ingest" / "ingest.crt", secured.fleet / "ingest" / "ingest.key",
                 client_id="w2")
    t1 = terminal_session(secured, "t1")
    try:
        assert w1.accepted and w2.accepted, "two workers with one identity must coexist"
        for w in (w1, w2):
            w.subscribe("$share/ingest/kassa/v1/+/+/journal")
        for i in range(20):
            assert t1.publish("kassa/v1/s1/t1/journal", str(i).encode()) == 0
        wait_until(lambda: len(w1.messages) + len(w2.messages) == 20, 10, "20 shared messages")
        assert w1.messages and w2.messages  # spread over both workers, each once
    finally:
        for session in (w1, w2, t1):
            session.close()


def test_terminal_enrolled_later_may_publish_after_a_reload(capsys, secured: Secured) -> None:
    enroll(capsys, secured.fleet, "s2", "t4")
    assert "user t4\n" in (secured.tmp / "broker" / "acl-terminals").read_text()
    t4 = terminal_session(secured, "t4")
    assert t4.accepted  # its certificate is good at once, but it has no rights yet
    assert t4.publish("kassa/v1/s2/t4/status", b"online") == NOT_AUTHORIZED
    t4.close()
    secured.reload()

    def allowed() -> bool:
        session = terminal_session(secured, "t4")
        try:
            # success, or 0x10 "no matching subscribers": anything below 0x80 is accepted
            return session.accepted and session.publish("kassa/v1/s2/t4/status", b"on") < 0x80
        finally:
            session.close()

    wait_until(allowed, 10, "t4 to be allowed after the reload")


# -- revocation and forged signatures ----------------------------------------------------------

def test_revoked_terminal_is_refused_after_a_reload(capsys, secured: Secured) -> None:
    before = terminal_session(secured, "t2")
    assert before.accepted
    before.close()
    code, out, err = run_cli(capsys, "provision", "--fleet-dir", str(secured.fleet),
                             "revoke", "t2")
    assert code == 0, err
    assert "broker files updated" in out and "head office registry: revoked" in out
    unread = terminal_session(secured, "t2")
    assert unread.accepted  # the broker has not read the new CRL yet
    unread.close()
    secured.reload()

    def refused() -> bool:
        session = terminal_session(secured, "t2")
        session.close()
        return session.connack is None and bool(session.error)

    wait_until(refused, 10, "the reloaded broker to refuse t2")
    still = terminal_session(secured, "t1")
    assert still.accepted  # the others keep working
    still.close()
    assert "user t2\n" not in (secured.tmp / "broker" / "acl-terminals").read_text()
    from headoffice.registry import list_terminals

    _open_office(secured)
    assert {t.terminal_id: t.status for t in list_terminals()}["t2"] == "revoked"


def test_valid_terminal_feeds_head_office_and_a_forged_key_is_dead_lettered(
        secured: Secured) -> None:
    """The whole path: the bundle's config, key and certificate drive the real uplink."""
    _open_office(secured)
    b = secured.bundle("t1")
    till_dir = secured.tmp / "till-t1"
    till_dir.mkdir()
    shutil.copyfile(b / "journal_ed25519.pem", till_dir / "journal_ed25519.pem")
    tls = (f'ca_file = "{b / "ca.crt"}"\ncert_file = "{b / "client.crt"}"\n'
           f'key_file = "{b / "client.key"}"\n')
    till = make_till(till_dir, secured.port, store="s1", terminal="t1", extra_mqtt=tls)
    till.add_entries(50)
    ingest = start_ingest(secured)
    uplink = start_uplink(till)
    try:
        wait_until(lambda: till.acked() == 50, 60, "head office to confirm t1's 50 entries")
        assert office_entries("t1") == till.entries()
        assert verify_office_chain("t1", till) == 50

        # t3's certificate, t3's topic, but signed with a key head office never enrolled
        forged = signed_payloads(secured.tmp / "forged", "s2", "t3",
                                 secured.tmp / "not-enrolled.pem", 1)
        t3 = terminal_session(secured, "t3")
        assert t3.publish("kassa/v1/s2/t3/journal", forged[0]) == 0  # the broker lets it in
        t3.close()
        wait_until(lambda: dead_letter_counts().get("bad_signature") == 1, 20,
                   "the forged entry in the dead-letter table")
        assert office_entries("t3") == []
    finally:
        stop(uplink)
        stop(ingest)


def test_terminal_publishes_only_its_own_sign_ups_and_reads_only_its_own_answers(
        secured: Secured) -> None:
    """Sign-ups carry an e-mail address (contract/signup.py): a terminal may publish them only
    on its own topic, head office's workers share them, and each terminal reads only its own
    acknowledgements; neither side can write the other's direction."""
    t1, t2, ho = terminal_session(secured, "t1"), terminal_session(secured, "t2"), ingest_session(
        secured)
    try:
        ho.subscribe("$share/ingest/kassa/v1/+/+/signup")
        t1.subscribe("kassa/v1/+/+/signup_ack", "kassa/v1/+/+/signup")
        assert t1.publish("kassa/v1/s1/t1/signup", b"t1's own") == 0
        assert t1.publish("kassa/v1/s1/t2/signup", b"forged for t2") == NOT_AUTHORIZED
        assert t1.publish("kassa/v1/s2/t3/signup", b"forged for t3") == NOT_AUTHORIZED
        assert t1.publish("kassa/v1/s1/t1/signup_ack", b"{}") == NOT_AUTHORIZED  # HO answers
        assert ho.publish("kassa/v1/s1/t1/signup", b"head office is no till") == NOT_AUTHORIZED
        assert t2.publish("kassa/v1/s1/t2/signup", b"t2's own") == 0
        for terminal in ("t1", "t2"):
            assert ho.publish(f"kassa/v1/s1/{terminal}/signup_ack", terminal.encode()) == 0
        wait_until(lambda: len(ho.messages) == 2, 10, "both sign-ups at head office")
        wait_until(lambda: len(t1.messages) >= 1, 10, "t1's acknowledgement")
        time.sleep(0.3)
        assert sorted(ho.messages) == [("kassa/v1/s1/t1/signup", b"t1's own"),
                                       ("kassa/v1/s1/t2/signup", b"t2's own")]
        # t1 sees its own answer only: neither t2's answer nor anybody's sign-up
        assert t1.messages == [("kassa/v1/s1/t1/signup_ack", b"t1")]
    finally:
        for session in (t1, t2, ho):
            session.close()
