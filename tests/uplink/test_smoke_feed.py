"""The sales feed end to end: till journal -> uplink -> Mosquitto -> ingest -> ack -> till."""

from __future__ import annotations

from headoffice import registry
from headoffice.db import open_office_db
from tests.uplink.harness import (
    make_till,
    office_entries,
    start_ingest,
    start_uplink,
    stop,
    verify_office_chain,
    wait_until,
)


def test_backlog_reaches_head_office_and_is_acked(tmp_path, mosquitto):
    broker = mosquitto()
    till = make_till(tmp_path / "till", broker.port)
    till.add_entries(300)
    url = str(tmp_path / "office.sqlite3")
    open_office_db(url)
    registry.add_terminal(till.terminal, till.store, till.public_key_hex)
    ingest = start_ingest(url, broker.port)
    uplink = start_uplink(till)
    try:
        wait_until(lambda: till.acked() == 300, 30, "the till to see all 300 entries acked")
        assert office_entries(till.terminal) == till.entries()
        assert verify_office_chain(till.terminal, till) == 300
    finally:
        stop(uplink)
        stop(ingest)
