"""Sales feed: a 10,000-entry backlog drained from the till to head office and acknowledged
back (target <= 5 s, and >= 0.3 of bare paho's rate).

The till's journal holds 10,000 signed entries; `kassa uplink`'s Uplink publishes them to a
local Mosquitto, two `kassa office ingest` workers (SQLite) verify and store them and publish
the ack, and the clock stops when the till's Delivery row says all 10,000 are confirmed.
Reference, same run, same broker: bare paho QoS 1 publishing of the same 10,000 payloads
(with the same in-flight window) until every PUBACK is in: what the transport alone costs.

Run: .venv/bin/python bench/bench_uplink_drain.py [--entries 10000] [--db URL]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from contract.config import MqttConfig  # noqa: E402
from firmware.uplink.client import Uplink, drained  # noqa: E402
from firmware.uplink.outbox import Outbox  # noqa: E402
from headoffice import registry  # noqa: E402
from headoffice.db import open_office_db  # noqa: E402
from tests.fixtures_services import Broker  # noqa: E402
from tests.uplink.harness import (  # noqa: E402
    make_till,
    publish_bare,
    start_ingest,
    stop,
    wait_ingest_ready,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--db", help="head-office database URL (default: SQLite in tmp)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp_text:
        tmp = Path(tmp_text)
        broker = Broker(tmp / "broker").start()
        ingest = None
        try:
            till = make_till(tmp / "till", broker.port)
            t0 = time.perf_counter()
            till.add_entries(args.entries, per_transaction=1000)
            print(f"journal of {args.entries} signed entries written in"
                  f" {time.perf_counter() - t0:.1f} s")
            url = args.db or f"sqlite:///{tmp / 'office.sqlite3'}"
            open_office_db(url)
            registry.add_terminal(till.terminal, till.store, till.public_key_hex)
            ingest = start_ingest(url, broker.port, workers=2)
            wait_ingest_ready(broker)
            cfg = MqttConfig(enabled=True, port=broker.port)
            payloads = [(o.seq, o.payload) for o in Outbox(till.db).read(1, args.entries)]
            reference = publish_bare(broker.port, [("bench/reference/journal", s, p)
                                                   for s, p in payloads], cfg.inflight)
            uplink = Uplink(till.db, till.store, till.terminal, cfg, client_id="bench-uplink")
            start = time.perf_counter()
            uplink.run(threading.Event(), until=drained)
            drain = time.perf_counter() - start
            assert till.acked() == args.entries, till.acked()
        finally:
            if ingest is not None:
                stop(ingest)
            broker.stop()
    ratio = reference / drain
    print(f"reference bare paho QoS1 publish (window {cfg.inflight}): {reference:.2f} s"
          f" ({args.entries / reference:,.0f} msg/s)")
    print(f"kassa drain till -> head office -> ack: {drain:.2f} s"
          f" ({args.entries / drain:,.0f} entries/s)")
    print(f"ratio drain rate / bare rate: {ratio:.2f} (target >= 0.3); drain target <= 5 s:"
          f" {'met' if drain <= 5 and ratio >= 0.3 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
