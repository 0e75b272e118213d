"""Worker sessions: a cleanly stopped worker leaves the shared subscription at once (else its
persistent session would keep taking its share of the journal messages)."""

from __future__ import annotations

from headoffice import registry
from tests.uplink.harness import (
    make_till,
    office_entries,
    start_ingest,
    stop,
    wait_ingest_ready,
    wait_until,
)
from tests.uplink.test_faults import publish_raw


def test_stopped_workers_leave_the_shared_subscription(tmp_path, mosquitto, office_db_url):
    broker = mosquitto()
    till = make_till(tmp_path / "till", broker.port)
    registry.add_terminal(till.terminal, till.store, till.public_key_hex)
    till.add_entries(300)
    old = start_ingest(office_db_url, broker.port, workers=2, prefix="old")
    wait_ingest_ready(broker, prefix="old")
    assert stop(old) == 0
    assert broker.log().count("Client old-") >= 2
    new = start_ingest(office_db_url, broker.port, workers=1, prefix="new")
    try:
        wait_ingest_ready(broker, workers=1, prefix="new")
        publish_raw(broker.port, till, shuffle=False, times=1)
        wait_until(lambda: len(office_entries(till.terminal)) == 300, 20,
                   "all 300 entries at the one remaining worker")
    finally:
        stop(new)
