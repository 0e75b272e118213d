"""Head office's seal on every downstream message, end to end against a real Mosquitto:
`send_downstream` seals catalogue, prices, offers and the fleet config, `kassa uplink`
unseals each with the key the till pins and applies it, the till takes the config in while
it runs (a `config_change` entry; the window size waits for a restart); unsigned, forged,
foreign-store, wrong-kind and replayed messages are refused, journaled at the till and
reported in `status`, and nothing of them is applied."""

from __future__ import annotations

import json

from cli.assemble import build_till
from contract import sealed, wire
from contract.config import parse_config
from firmware.downstream_log import journal_waiting
from firmware.models import LocalCustomer, Meta, Product
from firmware.permissions import ApprovalRequired
from firmware.ports import Peripherals
from firmware.runtime import TillRuntime
from firmware.uplink.downstream import CONFIG_VERSION, NO_KEY, applied_version
from headoffice.broker import BrokerSettings, publisher
from headoffice.downstream_send import send_downstream
from tests.sealkit import OfficeKeys, office_keys
from tests.uplink.harness import kassa, stop, wait_until
from tests.uplink.test_uplink_link import Listener

STORE, TERMINAL = "s1", "t1"
COLA = {"gtin": "8712345678906", "name": "Cola", "price_cents": 199, "vat_code": "low"}
KAAS = {"plu": "500", "name": "Kaas", "price_cents": 1250, "vat_code": "low"}


def till_for(tmp, port: int, office_line: str):
    tmp.mkdir()
    path = tmp / "kassa.toml"
    text = (f'[terminal]\nstore = "{STORE}"\nterminal = "{TERMINAL}"\n'
            f'signing_key = "{tmp / "journal.pem"}"\n[database]\npath = "{tmp / "kassa.sqlite3"}"\n'
            f'[cash]\ndiscount_limit_percent = 10\n'
            f'[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\nkeepalive = 5\n'
            f"resend_seconds = 2\nbackoff_max_seconds = 1\n{office_line}")
    path.write_text(text)
    till = build_till(parse_config(text, str(path), var_dir=str(tmp / "var")))
    till.users.add("Sanne", "cashier", "1111")
    return path, till


def entries(till, entry_type: str) -> list[dict]:
    return [e.body["data"] for e in till.journal.entries() if e.type == entry_type]


def price(gtin14: str) -> int:
    return Product.get(Product.gtin == gtin14).price_cents


def test_sealed_messages_apply_end_to_end_and_config_is_taken_in_live(tmp_path, mosquitto,
                                                                      monkeypatch):
    broker = mosquitto()
    keys = office_keys(tmp_path, monkeypatch)
    path, till = till_for(tmp_path / "till", broker.port, keys.mqtt_line())
    runtime = TillRuntime(till, Peripherals(), pickup_seconds=0)
    uplink = kassa("--config", str(path), "uplink")
    try:
        with publisher(BrokerSettings(port=broker.port), "test-office") as send:
            send_downstream(send, "catalogue", STORE,
                            {"version": 1, "mode": "full", "products": [COLA, KAAS]})
            wait_until(lambda: applied_version("catalogue_version") == 1, 20, "catalogue v1")
            send_downstream(send, "prices", STORE, {"version": 2, "base": 1, "prices": [
                {"gtin": COLA["gtin"], "price_cents": 219}]})
            send_downstream(send, "offers", STORE, {
                "version": 1, "store": STORE, "offers": [],
                "customers": [{"id": "c-1", "card": "2990000000017", "name": "Eva",
                               "language": "nl"}]})
            send_downstream(send, "config", sealed.FLEET, {"version": 1, "toml": (
                "[cash]\ndiscount_limit_percent = 25\n[ui]\nwidth = 1280\nheight = 800\n")})
            wait_until(lambda: applied_version(CONFIG_VERSION) == 1
                       and applied_version("catalogue_version") == 2
                       and LocalCustomer.select().count() == 1, 20,
                       "prices, offers and config applied by the uplink")
        assert price("08712345678906") == 219
        assert Product.get(Product.plu == "500").price_cents == 1250

        # the running till takes the config in at its next status refresh, without a restart
        till.login("1111")
        line = till.add_product(Product.get(Product.plu == "500").id)
        try:
            till.discount_line(line.line_no, percent=20)
            raise AssertionError("20% needed a manager under the file's 10% limit")
        except ApprovalRequired:
            pass
        status = runtime.status()
        assert till.config.cash.discount_limit_percent == 25  # live
        assert till.config.ui.width == 800 and status.restart == ("ui.width", "ui.height")
        till.discount_line(line.line_no, percent=20)  # now within the cashier's own limit
        [change] = entries(till, "config_change")
        assert change["version"] == "1" and change["what"] == "head-office config"
        assert "cash.discount_limit_percent: 10 -> 25" in change["source"]
        assert "ui.width: 800 -> 1280 (restart)" in change["source"]
        assert status.versions == {"catalogue": 2, "offers": 1, "config": 1,
                                   "config_running": 1}
        applied = {(e["kind"], e["version"]) for e in entries(till, "catalogue_applied")}
        assert applied == {("catalogue", 1), ("prices", 2), ("offers", 1), ("config", 1)}
        assert entries(till, "downstream_refused") == []
        assert Meta.get(Meta.key == "till_config_running").value == json.dumps(
            {"version": 1, "restart": ["ui.width", "ui.height"]})
    finally:
        stop(uplink)
    till.db.close()

    # a restart takes the rest in, and journals nothing again
    _, again = till_for_existing(path)
    assert (again.config.ui.width, again.config.ui.height) == (1280, 800)
    assert again.config.cash.discount_limit_percent == 25
    assert again.remote_config.restart == ()
    assert len(entries(again, "config_change")) == 1


def till_for_existing(path):
    text = path.read_text()
    return path, build_till(parse_config(text, str(path), var_dir=str(path.parent / "var")))


def test_unsigned_forged_foreign_wrong_kind_and_replayed_are_refused_and_journaled(
        tmp_path, mosquitto, monkeypatch):
    broker = mosquitto()
    keys = office_keys(tmp_path, monkeypatch)
    intruder = OfficeKeys(tmp_path / "intruder")  # a key head office never had
    path, till = till_for(tmp_path / "till", broker.port, keys.mqtt_line())
    topic = wire.store_topic(STORE, "catalogue")
    status_topic = wire.terminal_topic(STORE, TERMINAL, "status")
    listener = Listener(broker.port, status_topic)
    uplink = kassa("--config", str(path), "uplink")
    try:
        with publisher(BrokerSettings(port=broker.port), "test-office") as send:
            first = send_downstream(send, "catalogue", STORE,
                                    {"version": 1, "mode": "full", "products": [COLA]})
            send_downstream(send, "catalogue", STORE,
                            {"version": 2, "mode": "full", "products": [COLA, KAAS]})
        wait_until(lambda: applied_version("catalogue_version") == 2, 20, "catalogue v2")
        evil = {"version": 3, "mode": "full", "products": [{**COLA, "price_cents": 1}]}
        attacks = [
            (json.dumps(evil).encode(), "unsigned: "),
            (intruder.seal("catalogue", STORE, evil), "forged: "),
            (keys.seal("catalogue", "s2", evil), "foreign: catalogue message: signed for store 's2'"),
            (keys.seal("prices", STORE, {"version": 3, "base": 2, "prices": [
                {"gtin": COLA["gtin"], "price_cents": 1}]}),
             "foreign: catalogue message: signed for kind 'prices'"),
            # a body edited under a real seal
            (keys.seal("catalogue", STORE, evil).replace(b'"price_cents":1,', b'"price_cents":2,'),
             "forged: catalogue message: body does not match"),
            # the applied version again with other content, and an older one sent again
            (keys.seal("catalogue", STORE, {"version": 2, "mode": "full",
                                            "products": [{**COLA, "price_cents": 1}]}),
             "replayed: catalogue v2"),
            (first, "ignored: catalogue v1 is older"),
        ]
        for payload, _ in attacks:
            listener.publish(topic, payload, retain=True)
        reasons = [a[1] for a in attacks]
        wait_until(lambda: journal_waiting(till.kernel) >= 0
                   and len(entries(till, "downstream_refused")) >= len(attacks), 30,
                   "every attack journaled at the till")
        refused = entries(till, "downstream_refused")
        assert all(r["reason"].startswith(want) for r, want in zip(refused, reasons, strict=True)), refused
        assert [r["outcome"] for r in refused] == ["refused"] * 6 + ["ignored"]
        # nothing of them applied
        assert price("08712345678906") == 199
        assert applied_version("catalogue_version") == 2
        assert Product.select().where(Product.active).count() == 2
        status = json.loads(listener.next(
            lambda m: b'"refused":6' in m.payload and b'"ignored":1' in m.payload, 20).payload)
        assert status["versions"]["catalogue"] == 2
        assert status["office_key"] and status["downstream"]["last"]["kind"] == "catalogue"
    finally:
        stop(uplink)
        listener.close()


def test_a_till_without_a_pinned_key_applies_nothing(tmp_path, mosquitto, monkeypatch):
    broker = mosquitto()
    office_keys(tmp_path, monkeypatch)
    path, till = till_for(tmp_path / "till", broker.port, "")
    uplink = kassa("--config", str(path), "uplink")
    try:
        with publisher(BrokerSettings(port=broker.port), "test-office") as send:
            send_downstream(send, "catalogue", STORE,
                            {"version": 1, "mode": "full", "products": [COLA]})
        wait_until(lambda: journal_waiting(till.kernel) >= 0
                   and entries(till, "downstream_refused"), 20, "the refusal journaled")
        [refused] = entries(till, "downstream_refused")
        assert refused["reason"] == NO_KEY and refused["kind"] == "catalogue"
        assert applied_version("catalogue_version") == 0
        assert not Product.select().where(Product.gtin == "08712345678906").exists()
    finally:
        stop(uplink)


def test_an_unusable_pinned_key_stops_the_uplink_naming_the_key(tmp_path):
    bad = tmp_path / "office.pub"
    bad.write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    path, _ = till_for(tmp_path / "till", 1, f'office_public_key = "{bad}"\n')
    proc = kassa("--config", str(path), "uplink", stderr=-1, stdout=-1)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert b"mqtt.office_public_key" in err and b"not an Ed25519 public key" in err
    assert b"Traceback" not in err


def test_push_config_sends_the_next_fleet_version_and_refuses_what_a_till_would(
        tmp_path, mosquitto, monkeypatch):
    broker = mosquitto()
    keys = office_keys(tmp_path, monkeypatch)
    path, till = till_for(tmp_path / "till", broker.port, keys.mqtt_line())
    office_db = str(tmp_path / "office.sqlite3")
    settings = tmp_path / "settings.toml"

    def push(text: str) -> tuple[int, str, str]:
        settings.write_text(text)
        proc = kassa("office", "--db", office_db, "push-config", str(settings),
                     "--mqtt-port", str(broker.port), stdout=-1, stderr=-1)
        out, err = proc.communicate(timeout=60)
        return proc.returncode, out.decode(), err.decode()

    code, _, err = push('[terminal]\nstore = "elsewhere"\n')
    assert code == 1 and "section(s) terminal cannot be set from head office" in err
    code, _, err = push("[cash]\nvariance_tolerance_cents = -1\n")
    assert code == 1 and "cash.variance_tolerance_cents" in err
    uplink = kassa("--config", str(path), "uplink")
    try:
        for tolerance, version in ((250, 1), (300, 2)):
            code, out, err = push(f"[cash]\nvariance_tolerance_cents = {tolerance}\n")
            assert code == 0, err
            assert f"fleet config v{version} sent (cash)" in out
            wait_until(lambda v=version: applied_version(CONFIG_VERSION) == v, 20,
                       f"config v{version} at the till")
            assert till.remote_config.poll()
            assert till.config.cash.variance_tolerance_cents == tolerance
    finally:
        stop(uplink)
    assert [c["version"] for c in entries(till, "config_change")] == ["1", "2"]
