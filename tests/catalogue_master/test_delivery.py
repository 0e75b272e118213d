"""End to end: `kassa office catalogue publish` -> a real Mosquitto -> a till.

The first test reads what the broker retains for a store as a till that connects later
would: sealed with head office's key, a full catalogue and then a delta on its base. The
second runs a real till's uplink process and looks at the till's own catalogue.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest
from cryptography.hazmat.primitives import serialization

from contract import sealed
from contract.downstream import parse_catalogue
from contract.promotions import parse_promotions
from headoffice.signing import KEY_ENV, office_key
from tests.uplink.harness import ROOT, make_till, start_uplink, stop, wait_until

CSV = ("gtin;barcodes;plu;name;category;vat_code;unit;age_limit;deposit;price;cost\n"
       "8712345678906;87123456;;Pils 33cl;Bier;high;piece;18;statiegeld-015;1,29;0,60\n"
       ";;42;Brood wit;Brood;low;piece;;;2,89;1,10\n"
       "4006381333931;;;Cola 1,5l;Fris;low;;;statiegeld-025;2,19;\n"
       ";;7;Appels;Fruit;low;kg;;;3,49;\n")


def office(db_url: str, *args: str) -> str:
    """Runs `kassa office --db URL catalogue --actor anna ARGS`; its stdout."""
    done = subprocess.run([sys.executable, "-m", "cli", "office", "--db", db_url, "catalogue",
                           "--actor", "anna", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def publish(db_url: str, port: int, mode: str, store: str = "store1") -> str:
    return office(db_url, "publish", "--store", store, "--mode", mode, "--mqtt-port", str(port))


def set_up_master(db_url: str, tmp_path) -> None:
    (tmp_path / "master.csv").write_text(CSV, encoding="utf-8")
    office(db_url, "deposit", "dutch")
    assert "4 rows: 4 new" in office(db_url, "import", str(tmp_path / "master.csv"))
    office(db_url, "promo", "add", "p-3for5", "--name", "3 voor 5,00", "--type", "n_for_price",
           "--n", "3", "--price", "5,00", "--products", "8712345678906,42")


def retained(port: int, topics: list[str]) -> dict[str, bytes]:
    """What a client subscribing now gets on `topics` (retained messages)."""
    import paho.mqtt.client as mqtt

    got: dict[str, bytes] = {}
    ready = threading.Event()

    def on_message(_client, _userdata, message) -> None:
        got[message.topic] = message.payload
        if len(got) == len(topics):
            ready.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_message = on_message
    client.connect("127.0.0.1", port)
    for topic in topics:
        client.subscribe(topic, qos=1)
    client.loop_start()
    ready.wait(15)
    client.loop_stop()
    client.disconnect()
    assert len(got) == len(topics), f"retained on {sorted(got)} of {topics}"
    return got


@pytest.fixture
def office_signing(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, str(tmp_path / "office-key" / "office_ed25519.pem"))
    key = office_key()
    public = tmp_path / "office-key" / "office_ed25519.pub"
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return key, public


def test_the_broker_retains_a_sealed_full_catalogue_then_a_delta(office_db_url, mosquitto,
                                                                 tmp_path, office_signing):
    key, _public = office_signing
    broker = mosquitto()
    set_up_master(office_db_url, tmp_path)
    out = publish(office_db_url, broker.port, "auto")
    assert "store1: catalogue v1 full: 4 products" in out and "promotions v1: 1" in out
    got = retained(broker.port, ["kassa/v1/store1/catalogue", "kassa/v1/store1/promotions"])
    body = sealed.unseal(got["kassa/v1/store1/catalogue"], key.public_key(), "catalogue",
                         "store1").body
    full = parse_catalogue(json.loads(body))
    assert (full.version, full.mode, len(full.products)) == (1, "full", 4)
    promos = parse_promotions(json.loads(sealed.unseal(
        got["kassa/v1/store1/promotions"], key.public_key(), "promotions", "store1").body))
    assert [p.id for p in promos.promotions] == ["p-3for5"]
    with pytest.raises(sealed.SealError, match="foreign"):
        sealed.unseal(got["kassa/v1/store1/catalogue"], key.public_key(), "catalogue", "store2")

    office(db_url := office_db_url, "price", "set", "42", "2,99")
    office(db_url, "price", "set", "4006381333931", "1,99", "--from", "2027-01-04 07:00")
    assert "v2 delta: 2 products, 0 removed" in publish(db_url, broker.port, "delta")
    got = retained(broker.port, ["kassa/v1/store1/catalogue"])
    delta = parse_catalogue(json.loads(sealed.unseal(
        got["kassa/v1/store1/catalogue"], key.public_key(), "catalogue", "store1").body))
    assert (delta.version, delta.base) == (2, 1)
    assert {p.name: p.price_cents for p in delta.products} == {"Brood wit": 299,
                                                                "Cola 1,5l": 219}
    assert [(s.code, s.price_cents, s.valid_from_text) for s in delta.scheduled] == [
        ("04006381333931", 199, "2027-01-04T07:00:00+01:00")]


def test_a_real_till_applies_the_full_catalogue_and_then_a_delta(office_db_url, mosquitto,
                                                                 tmp_path, office_signing):
    from firmware.catalogue import Catalogue

    _key, public = office_signing
    broker = mosquitto()
    till = make_till(tmp_path / "till", broker.port,
                     extra_mqtt=f'office_public_key = "{public}"\n')
    set_up_master(office_db_url, tmp_path)
    uplink = start_uplink(till, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        publish(office_db_url, broker.port, "full")
        catalogue = Catalogue(till.db)

        def price(code: str) -> int | None:
            found = catalogue.by_plu(code) if len(code) <= 6 else catalogue.by_gtin(code)
            return found.price_cents if found is not None and found.active else None

        wait_until(lambda: price("42") == 289, 30, "the full catalogue at the till")
        assert price("8712345678906") == 129 and price("7") == 349

        office(office_db_url, "price", "set", "42", "2,99")
        office(office_db_url, "store", "disable", "7", "store1")
        assert "v2 delta" in publish(office_db_url, broker.port, "delta")
        wait_until(lambda: price("42") == 299, 30, "the delta at the till")
        assert price("7") is None  # no longer sold in store1
        assert price("4006381333931") == 219  # untouched by the delta
    finally:
        stop(uplink)
        if uplink.stderr:
            print(uplink.stderr.read().decode()[-3000:], file=sys.stderr)
