"""The uplink's apply in a process of its own, for tests that kill it or start a till beside it:
`python -m tests.uplink.apply_worker DB KIND PAYLOAD_FILE` applies one message with the
uplink's Downstream and prints its figures as one JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start(db_path: Path, kind: str, payload: bytes, work: Path) -> subprocess.Popen:
    payload_path = work / f"{kind}-message.json"
    payload_path.write_bytes(payload)
    return subprocess.Popen([sys.executable, "-m", "tests.uplink.apply_worker", str(db_path),
                             kind, str(payload_path)], cwd=ROOT, stdout=subprocess.PIPE)


def figures(proc: subprocess.Popen, timeout: float = 300) -> dict:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"the apply process failed (exit {proc.returncode})"
    return json.loads(out.decode().strip().splitlines()[-1])


def main(db_path: str, kind: str, payload_path: str) -> None:
    from firmware.db import open_database
    from firmware.uplink.downstream import Downstream

    db = open_database(db_path)
    down = Downstream(db)
    outcome = down.apply(kind, Path(payload_path).read_bytes())
    stats = down.last_stats
    print(json.dumps({"applied": outcome.applied, "longest_lock": stats.longest_lock,
                      "longest_cpu": stats.longest_cpu, "flip": stats.flip_seconds,
                      "transactions": stats.transactions}), flush=True)
    db.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
