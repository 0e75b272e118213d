"""Promotions the way a till gets them: a retained message on kassa/v1/{store}/promotions
through a real Mosquitto, applied by `kassa uplink` (its own process, same SQLite file),
priced by the till that shares the file."""

from __future__ import annotations

import sqlite3

import paho.mqtt.client as mqtt

from cli.assemble import build_till
from contract import wire
from contract.config import parse_config
from firmware.catalogue import import_csv
from tests.promotions.test_till_promotions import CSV, PROMOS, SATURDAY_10
from tests.sealkit import OfficeKeys
from tests.uplink.harness import kassa, stop, wait_until


def publish_retained(port: int, topic: str, payload: bytes) -> None:
    """Head office's publish of a sealed body, retained, as send_downstream does it."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=1, retain=True).wait_for_publish(5)
    finally:
        client.loop_stop()
        client.disconnect()


def applied_version(db_path) -> int | None:
    with sqlite3.connect(db_path) as con:
        row = con.execute("SELECT value FROM meta WHERE key = 'promotions_version'").fetchone()
    return int(row[0]) if row else None


def test_retained_promotions_reach_the_till_through_the_uplink(tmp_path, mosquitto):
    broker = mosquitto()
    keys = OfficeKeys(tmp_path / "office")
    db_path = tmp_path / "kassa.sqlite3"
    text = (f'[terminal]\nstore = "s1"\nterminal = "t1"\n'
            f'signing_key = "{tmp_path / "journal.pem"}"\n[database]\npath = "{db_path}"\n'
            f'[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {broker.port}\n'
            f'keepalive = 5\nbackoff_max_seconds = 1\n{keys.mqtt_line()}')
    config_path = tmp_path / "kassa.toml"
    config_path.write_text(text)
    till = build_till(parse_config(text, str(config_path), var_dir=str(tmp_path / "var")))
    import_csv(till.db, CSV)
    till.users.add("Sanne", "cashier", "1111")
    publish_retained(broker.port, wire.store_topic("s1", "promotions"),
                     keys.seal("promotions", "s1", {"version": 7, "promotions": PROMOS}))
    publish_retained(broker.port, wire.store_topic("other", "promotions"),
                     keys.seal("promotions", "other", {"version": 9, "promotions": []}))
    # another store's: never seen here
    uplink = kassa("--config", str(config_path), "uplink")
    try:
        wait_until(lambda: applied_version(db_path) == 7, 30, "promotions v7 applied")
    finally:
        stop(uplink)
    till.promotions.clock = lambda: SATURDAY_10
    till.login("1111")
    for _ in range(3):
        till.scan("3")
    assert till.ticket.total == 500
    assert [p["id"] for p in till.ticket.promotions] == ["chips-3-for-5"]
    till.db.close()
