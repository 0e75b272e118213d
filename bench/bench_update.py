"""Over-the-air updates: time from `publish` to the whole pilot ring committed, for 10
simulated terminals; and one terminal's downtime during an update (till stopped -> new till
READY) beside a plain restart of the same version, in the same run (target: <= 1.5x).

Each terminal is what runs on a Pi: a supervisor in systemd's place (`kassa update
supervise`) running the headless till and the uplink from `current`, and `kassa update`.
Head office is a real Mosquitto, the release server over mutual TLS and sealed notices, as
in tests/update/. The artifacts are the tests' stand-in format (Kassa's source, a few MB;
see tests/update/slot_installer.py), so install time here is unpacking, not pip.

Run: .venv/bin/python bench/bench_update.py [--terminals 10] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures_services import Broker  # noqa: E402
from tests.update.kit import UpdateFleet, wait_for  # noqa: E402
from updater.services import SupervisorServices  # noqa: E402


def downtime(terminal, after: float) -> float:
    """Seconds from the till's stop to the new till's READY, for the first restart after
    `after` (from the supervisor's event log)."""
    events = [e for e in terminal.events() if e["at"] >= after and e.get("service") == "till"]
    stopped = next(e for e in events if e["event"] == "stopped")
    ready = next(e for e in events if e["event"] == "ready" and e["at"] > stopped["at"])
    return ready["at"] - stopped["at"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--terminals", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5, help="updates and plain restarts timed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-update-") as tmp:
        root = Path(tmp)
        broker = Broker(root / "mosquitto").start()
        fleet = UpdateFleet(root / "fleet", broker, health_seconds=60)
        os.environ["KASSA_OFFICE_KEY"] = str(fleet.office_pem)
        try:
            server = fleet.start_server()
            terminals = [fleet.add_terminal(f"pilot-{n}", server, ring="pilot")
                         for n in range(1, args.terminals + 1)]
            for terminal in terminals:
                wait_for(terminal.ready, 180, f"{terminal.name} READY")
            artifact = fleet.artifact("0.2.0")
            started = time.monotonic()
            fleet.publish("0.2.0", artifact)
            for terminal in terminals:
                wait_for(lambda t=terminal: t.state()["last"].get("outcome") == "committed",
                         600, f"{terminal.name} committed")
            ring_seconds = time.monotonic() - started
            print(f"publish -> {args.terminals} pilot terminals committed: {ring_seconds:.1f} s")
            for terminal in terminals[1:]:  # one terminal left for the downtime runs
                terminal.stop()
            one = terminals[0]
            services = SupervisorServices(one.control)
            updates, restarts = [], []
            for run in range(args.runs):
                version = f"0.3.{run}"
                path = fleet.artifact(version)
                # plain restart of the running version
                mark = time.time()
                services.restart()
                wait_for(one.ready, 60, "READY after the plain restart")
                restarts.append(downtime(one, mark))
                time.sleep(1)
                # an update to the next version
                mark = time.time()
                fleet.publish(version, path, ring="pilot")
                wait_for(lambda v=version: one.state()["last"].get("release") == v and
                         one.state()["phase"] == "idle", 120, f"{version} committed")
                assert one.state()["last"]["outcome"] == "committed", one.state()
                updates.append(downtime(one, mark))
                time.sleep(1)
            up, re_ = statistics.median(updates), statistics.median(restarts)
            print("update downtime (till stopped -> new till READY), s: "
                  + ", ".join(f"{x:.2f}" for x in updates) + f"; median {up:.2f}")
            print("plain restart of the same version, s: "
                  + ", ".join(f"{x:.2f}" for x in restarts) + f"; median {re_:.2f}")
            print(f"ratio update / plain restart: {up / re_:.2f} (target <= 1.5)")
        finally:
            fleet.close()
            broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
