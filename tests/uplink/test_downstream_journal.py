"""What the uplink did with head office's messages reaches the journal, once: the uplink (its own
process, on the shared SQLite file) leaves a downstream_event row, the till journals it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cli.assemble import build_till
from contract.entries import parse_entry
from firmware import downstream_log
from firmware.models import DownstreamEvent
from firmware.ports import Peripherals
from firmware.runtime import TillRuntime, journal_downstream
from firmware.till import TillService
from tests.fixtures_till import make_config

ROOT = Path(__file__).resolve().parents[2]
COLA = {"gtin": "8712345678906", "name": "Cola 1,5 l", "price_cents": 199, "vat_code": "low"}
UPLINK = """
import sys
from firmware.db import open_database
from firmware.uplink.downstream import Downstream, Rejected
db = open_database(sys.argv[1])
try:
    print(Downstream(db).apply(sys.argv[2], sys.stdin.buffer.read()).detail)
except Rejected as exc:
    print("rejected:", exc)
db.close()
"""


def uplink_applies(db_path: str, kind: str, message: dict[str, Any]) -> str:
    """The uplink's code path in a process of its own, as `kassa uplink` runs beside the till."""
    run = subprocess.run([sys.executable, "-c", UPLINK, db_path, kind],
                         input=json.dumps(message).encode(), capture_output=True, cwd=ROOT,
                         timeout=60, env={"PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr.decode()
    return run.stdout.decode().strip()


@pytest.fixture
def till(tmp_path: Path) -> TillService:
    till = build_till(make_config(tmp_path))
    yield till
    till.db.close()


def entries_of(till: TillService, entry_type: str) -> list[dict[str, Any]]:
    return [e.body for e in till.journal.entries() if e.type == entry_type]


def test_a_refused_catalogue_is_journaled_once(till: TillService) -> None:
    path = str(till.config.database_path)
    huge = {**COLA, "price_cents": 9223372036854775808}
    retained = {"version": 3, "mode": "full", "products": [huge]}
    out = uplink_applies(path, "catalogue", retained)
    assert out.startswith("rejected:") and "price_cents" in out
    assert uplink_applies(path, "catalogue", retained).startswith("rejected:")  # redelivered
    assert downstream_log.waiting() == 1

    assert journal_downstream(till) == 1
    refused = entries_of(till, "downstream_refused")
    assert len(refused) == 1
    data = parse_entry(refused[0]).data
    assert (data.kind, data.outcome, data.version) == ("catalogue", "refused", 3)
    assert "price_cents" in data.reason and data.received_at
    assert till.journal.verify().ok

    assert journal_downstream(till) == 0  # a second pickup journals nothing more
    assert len(entries_of(till, "downstream_refused")) == 1
    assert downstream_log.waiting() == 0


def test_an_applied_catalogue_is_journaled_with_its_counts(till: TillService) -> None:
    path = str(till.config.database_path)
    bread = {"plu": "42", "name": "Brood", "price_cents": 289, "vat_code": "low"}
    assert "2 products" in uplink_applies(path, "catalogue", {"version": 1, "mode": "full",
                                                              "products": [COLA, bread]})
    assert uplink_applies(path, "catalogue", {"version": 1, "mode": "full",
                                              "products": [COLA, bread]}).endswith("applied")
    uplink_applies(path, "prices", {"version": 2, "base": 1,
                                    "prices": [{"plu": "42", "price_cents": 299}]})
    uplink_applies(path, "catalogue", {"version": 3, "mode": "delta", "base": 2,
                                       "products": [COLA], "remove": ["42"]})
    uplink_applies(path, "catalogue", {"version": 2, "mode": "full", "products": [COLA]})

    assert journal_downstream(till) == 4
    applied = [parse_entry(b).data for b in entries_of(till, "catalogue_applied")]
    assert [(a.kind, a.version, a.count, a.removed) for a in applied] == [
        ("catalogue", 1, 2, 0), ("prices", 2, 1, 0), ("catalogue", 3, 1, 1)]
    ignored = [parse_entry(b).data for b in entries_of(till, "downstream_refused")]
    assert [(i.kind, i.outcome, i.version) for i in ignored] == [("catalogue", "ignored", 2)]
    assert journal_downstream(till) == 0
    assert till.journal.verify().ok


def test_a_failure_after_the_append_keeps_neither(till: TillService,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The entry and the row's deletion are one transaction: a crash between them (here an
    exception right after the append) leaves the row waiting and the journal as it was."""
    uplink_applies(str(till.config.database_path), "config",
                   {"version": 1, "toml": "[ui]\nlanguage = \"xx-not-a-language\"\n"})
    assert downstream_log.waiting() == 1
    head = till.journal.head()
    real_append = till.journal.append

    def append_then_crash(*args: Any, **kwargs: Any) -> Any:
        real_append(*args, **kwargs)
        raise RuntimeError("killed after the append")

    monkeypatch.setattr(till.journal, "append", append_then_crash)
    with pytest.raises(RuntimeError, match="killed after the append"):
        downstream_log.journal_waiting(till.kernel)
    assert till.journal.head() == head and downstream_log.waiting() == 1
    assert journal_downstream(till) == 0  # the runtime's pickup logs it and carries on

    monkeypatch.undo()
    assert journal_downstream(till) == 1
    assert len(entries_of(till, "downstream_refused")) == 1
    assert DownstreamEvent.select().count() == 0 and till.journal.verify().ok


def test_rows_wait_while_a_journal_alarm_is_unacknowledged(till: TillService) -> None:
    uplink_applies(str(till.config.database_path), "catalogue",
                   {"version": 1, "mode": "full", "products": [COLA]})
    till.kernel.journal_alarm = "test alarm."
    assert journal_downstream(till) == 0 and downstream_log.waiting() == 1
    till.kernel.journal_alarm = None
    assert journal_downstream(till) == 1 and downstream_log.waiting() == 0


def test_the_runtime_journals_at_start_and_from_its_status_refresh(tmp_path: Path) -> None:
    """Rows left while the till was down are journaled at start; later ones by the status
    refresh the UI runs every second, at most every PICKUP_SECONDS."""
    config = make_config(tmp_path)
    path = str(config.database_path)
    first = build_till(config)
    first.db.close()
    uplink_applies(path, "catalogue", {"version": 1, "mode": "full", "products": [COLA]})
    till = build_till(config)  # start_till picks it up
    try:
        assert [b["data"]["version"] for b in entries_of(till, "catalogue_applied")] == [1]
        slow = TillRuntime(till, Peripherals(), pickup_seconds=3600)
        slow.status()
        uplink_applies(path, "prices", {"version": 2, "base": 1,
                                        "prices": [{"gtin": COLA["gtin"], "price_cents": 249}]})
        slow.status()  # within pickup_seconds of its last pickup: the row waits
        assert downstream_log.waiting() == 1
        TillRuntime(till, Peripherals(), pickup_seconds=0).status()
        assert [b["data"]["version"] for b in entries_of(till, "catalogue_applied")] == [1, 2]
        assert till.journal.verify().ok
    finally:
        till.db.close()


KILLED_TILL = """
import os, signal, sys
from cli.assemble import build_till
from firmware.journal import Journal
from tests.fixtures_till import make_config
from pathlib import Path
real = Journal.append
def append(self, entry_type, data, **kw):
    entry = real(self, entry_type, data, **kw)
    if entry_type in ("catalogue_applied", "downstream_refused"):
        os.kill(os.getpid(), signal.SIGKILL)  # after the append, before the commit
    return entry
Journal.append = append
build_till(make_config(Path(sys.argv[1])))
"""


def test_a_till_killed_after_the_append_journals_the_message_once(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    build_till(config).db.close()
    uplink_applies(str(config.database_path), "catalogue",
                   {"version": 1, "mode": "full", "products": [COLA]})
    killed = subprocess.run([sys.executable, "-c", KILLED_TILL, str(tmp_path)], cwd=ROOT,
                            capture_output=True, timeout=60, env={"PYTHONPATH": str(ROOT)})
    assert killed.returncode == -9, killed.stderr.decode()
    till = build_till(config)  # the next start: the row waited, journaled now
    try:
        assert till.journal_alarm is None
        assert [b["data"]["version"] for b in entries_of(till, "catalogue_applied")] == [1]
        assert [e.type for e in till.journal.entries()].count("software_start") == 3
        assert downstream_log.waiting() == 0 and till.journal.verify().ok
    finally:
        till.db.close()
